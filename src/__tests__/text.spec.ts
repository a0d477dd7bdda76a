import { breakParts, middleCut, middleEllipsis, shortId } from '../text';

describe('middleEllipsis', () => {
  it('leaves a text that fits as it is', () => {
    expect(middleEllipsis('obs-1.csv', 20)).toBe('obs-1.csv');
    expect(middleEllipsis('', 3)).toBe('');
  });

  it('cuts in the middle and keeps more of the distinctive end', () => {
    const name = 'obs-2026-0001.vis-03.csv';
    const short = middleEllipsis(name, 14);
    expect(Array.from(short)).toHaveLength(14);
    expect(short.startsWith('obs-')).toBe(true);
    expect(short.endsWith('-03.csv')).toBe(true);
    expect(short).toContain('…');
  });

  it('keeps the ends of names that differ only there apart', () => {
    const names = [1, 2, 3].map(k => `ska-mid:obs-2026-0001.vis-0${k}.csv`);
    const shown = names.map(n => middleEllipsis(n, 12));
    expect(new Set(shown).size).toBe(3);
  });

  it('degrades to the ellipsis and the last character', () => {
    expect(middleEllipsis('abcdefgh', 2)).toBe('…h');
    expect(middleEllipsis('abcdefgh', 1)).toBe('…');
  });

  it('fits by a measure, not only by characters', () => {
    // Wide "W"s: a pixel budget of 50 with W=10 and others=5.
    const width = (s: string) =>
      Array.from(s).reduce((w, ch) => w + (ch === 'W' ? 10 : 5), 0);
    const cut = middleCut('WWWWabcdefghij', s => width(s) <= 50);
    expect(cut.cut).toBe(true);
    expect(width(cut.head + '…' + cut.tail)).toBeLessThanOrEqual(50);
    expect(cut.tail.endsWith('ij')).toBe(true);
  });
});

describe('shortId', () => {
  it('keeps the first 8 characters of a long id', () => {
    expect(shortId('f99d3dc1f1f64b1692ed1500f4c84fe3')).toBe('f99d3dc1');
    expect(shortId('j1')).toBe('j1');
    expect(shortId('123456789')).toBe('123456789');
  });
});

describe('breakParts', () => {
  it('splits after each slash, keeping all the text', () => {
    const path = '/tmp/pytest-of-root/state/SANDBOX_LOCAL';
    const parts = breakParts(path);
    expect(parts.join('')).toBe(path);
    expect(parts).toEqual([
      '/',
      'tmp/',
      'pytest-of-root/',
      'state/',
      'SANDBOX_LOCAL'
    ]);
  });

  it('splits DIDs after the given separators', () => {
    expect(breakParts('user.demo:obs-1', ':.')).toEqual([
      'user.',
      'demo:',
      'obs-1'
    ]);
    expect(breakParts('a/')).toEqual(['a/']);
  });
});
