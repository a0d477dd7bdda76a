import {
  breakParts,
  middleCut,
  middleEllipsis,
  shortId,
  differingFrom,
  distinctCut,
  namespaceProblem,
  patternProblem,
  sharedNamespace
} from '../text';

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

describe('names told apart (issue #16)', () => {
  const a = 'obs-2026-0001.vis-01.csv';
  const b = 'obs-2026-0002.vis-01.csv';
  const within = (n: number) => (s: string) => Array.from(s).length <= n;
  const shown = (c: { head: string; tail: string; cut: boolean }) =>
    c.cut ? `${c.head}…${c.tail}`.replace('……', '…') : c.head;

  it('finds where the names of a list differ, at a word start', () => {
    expect(differingFrom([a, b])).toBe('obs-2026-'.length);
    expect(differingFrom([a])).toBe(0);
    expect(sharedNamespace([`ska-mid:${a}`, `ska-mid:${b}`])).toBe('ska-mid');
    expect(sharedNamespace([`ska-mid:${a}`, `ska-low:${b}`])).toBeUndefined();
  });

  it('keeps the differing part when the box is narrow', () => {
    const keep = differingFrom([a, b]);
    const ca = shown(distinctCut(a, keep, within(16)));
    const cb = shown(distinctCut(b, keep, within(16)));
    expect(ca).not.toEqual(cb);
    expect(ca).toContain('0001');
    expect(cb).toContain('0002');
    expect(Array.from(ca).length).toBeLessThanOrEqual(16);
  });

  it('refuses namespaces and patterns that cannot be valid, saying the rule', () => {
    expect(namespaceProblem('ska mid')).toMatch(/not a namespace.*no spaces/);
    expect(namespaceProblem('ska-mid')).toBeNull();
    expect(namespaceProblem('x'.repeat(26))).toMatch(/at most 25/);
    expect(patternProblem('obs 2026*')).toMatch(/cannot match/);
    expect(patternProblem('obs-2026*')).toBeNull();
  });
});
