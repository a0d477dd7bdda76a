import {
  clickSelect,
  computeWindow,
  ISelection,
  scrollToRow
} from '../virtual';

describe('computeWindow', () => {
  const base = { rowHeight: 28, viewportHeight: 280, overscan: 4 };

  it('renders only the visible rows of 10,000 (plus overscan)', () => {
    const top = computeWindow({ ...base, scrollTop: 0, count: 10000 });
    expect(top).toEqual({ start: 0, end: 14, offset: 0, totalHeight: 280000 });
    const mid = computeWindow({ ...base, scrollTop: 28 * 5000, count: 10000 });
    expect(mid.start).toBe(4996);
    expect(mid.end).toBe(5014);
    expect(mid.offset).toBe(4996 * 28);
    expect(mid.end - mid.start).toBeLessThanOrEqual(18);
  });

  it('handles a partly scrolled row', () => {
    const w = computeWindow({
      ...base,
      scrollTop: 30,
      count: 100,
      overscan: 0
    });
    // Rows 1..11 are (partly) visible: 30px..310px.
    expect(w.start).toBe(1);
    expect(w.end).toBe(12);
  });

  it('clamps to the end and to stale scroll offsets', () => {
    const end = computeWindow({ ...base, scrollTop: 1e9, count: 10000 });
    expect(end.end).toBe(10000);
    expect(end.start).toBe(10000 - 10 - 4);
    const shorter = computeWindow({ ...base, scrollTop: 28 * 5000, count: 3 });
    expect(shorter).toEqual({ start: 0, end: 3, offset: 0, totalHeight: 84 });
  });

  it('handles empty lists and zero-height viewports', () => {
    expect(computeWindow({ ...base, scrollTop: 0, count: 0 })).toEqual({
      start: 0,
      end: 0,
      offset: 0,
      totalHeight: 0
    });
    const w = computeWindow({
      rowHeight: 28,
      viewportHeight: 0,
      scrollTop: 0,
      count: 50,
      overscan: 0
    });
    expect(w.end - w.start).toBe(1);
  });

  it('renders as many rows for a million results as for a hundred', () => {
    const sizes = [100, 10000, 1000000].map(count => {
      const w = computeWindow({ ...base, scrollTop: 28 * 50, count });
      return w.end - w.start;
    });
    expect(sizes).toEqual([18, 18, 18]);
  });
});

describe('scrollToRow', () => {
  it('scrolls as little as needed', () => {
    expect(scrollToRow(0, 100, 280, 28)).toBe(0);
    expect(scrollToRow(5, 0, 280, 28)).toBe(0);
    expect(scrollToRow(10, 0, 280, 28)).toBe(28);
    expect(scrollToRow(50, 0, 280, 28)).toBe(51 * 28 - 280);
  });
});

describe('clickSelect', () => {
  const keys = ['a', 'b', 'c', 'd', 'e'];
  const none: ISelection = { selected: new Set(), anchor: null };
  const sel = (s: ISelection) => [...s.selected].sort();

  it('plain click selects one row and sets the anchor', () => {
    const s = clickSelect(none, keys, 2);
    expect(sel(s)).toEqual(['c']);
    expect(s.anchor).toBe(2);
    expect(sel(clickSelect(s, keys, 4))).toEqual(['e']);
  });

  it('ctrl/cmd-click toggles', () => {
    let s = clickSelect(none, keys, 0);
    s = clickSelect(s, keys, 3, { toggle: true });
    expect(sel(s)).toEqual(['a', 'd']);
    s = clickSelect(s, keys, 0, { toggle: true });
    expect(sel(s)).toEqual(['d']);
  });

  it('shift-click selects the range from the anchor, either way', () => {
    let s = clickSelect(none, keys, 1);
    s = clickSelect(s, keys, 3, { shift: true });
    expect(sel(s)).toEqual(['b', 'c', 'd']);
    s = clickSelect(s, keys, 0, { shift: true });
    expect(sel(s)).toEqual(['a', 'b']);
    expect(s.anchor).toBe(1);
  });

  it('shift+ctrl adds the range to the selection', () => {
    let s = clickSelect(none, keys, 4);
    s = clickSelect(s, keys, 0, { toggle: true });
    s = clickSelect(s, keys, 1, { shift: true, toggle: true });
    expect(sel(s)).toEqual(['a', 'b', 'e']);
  });

  it('shift without an anchor acts as a plain click; out of range is ignored', () => {
    expect(sel(clickSelect(none, keys, 2, { shift: true }))).toEqual(['c']);
    expect(clickSelect(none, keys, 9)).toBe(none);
  });

  it('selects a range across 10,000 rows quickly', () => {
    const many = Array.from({ length: 10000 }, (_, i) => `ns:f${i}`);
    let s = clickSelect(none, many, 0);
    s = clickSelect(s, many, 9999, { shift: true });
    expect(s.selected.size).toBe(10000);
  });
});
