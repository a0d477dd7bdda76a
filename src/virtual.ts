/**
 * Pure helpers for the windowed (virtualized) result list and its selection.
 */

export interface IWindowInput {
  /** Current scroll offset of the viewport, in px. */
  scrollTop: number;
  /** Height of the viewport, in px. */
  viewportHeight: number;
  /** Fixed height of one row, in px. */
  rowHeight: number;
  /** Number of rows in the list. */
  count: number;
  /** Rows rendered beyond each edge of the viewport. */
  overscan?: number;
}

export interface IWindow {
  /** First rendered row (inclusive). */
  start: number;
  /** One past the last rendered row (exclusive). */
  end: number;
  /** Offset of the first rendered row from the top, in px. */
  offset: number;
  /** Height of the whole list, in px. */
  totalHeight: number;
}

/** Which rows to render for a scroll position. */
export function computeWindow(input: IWindowInput): IWindow {
  const rowHeight = Math.max(1, input.rowHeight);
  const count = Math.max(0, Math.floor(input.count));
  const overscan = Math.max(0, input.overscan ?? 4);
  const totalHeight = count * rowHeight;
  const viewport = Math.max(0, input.viewportHeight);
  // Clamp the scroll offset: a shorter new list may leave a stale scrollTop.
  const maxScroll = Math.max(0, totalHeight - viewport);
  const scrollTop = Math.min(Math.max(0, input.scrollTop), maxScroll);
  const first = Math.floor(scrollTop / rowHeight);
  const visible = Math.ceil((scrollTop + viewport) / rowHeight) - first;
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + Math.max(visible, 1) + overscan);
  return {
    start,
    end: Math.max(start, end),
    offset: start * rowHeight,
    totalHeight
  };
}

/**
 * The scroll offset that brings row `index` fully into view, changing the
 * current one as little as possible.
 */
export function scrollToRow(
  index: number,
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number
): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) {
    return top;
  }
  if (bottom > scrollTop + viewportHeight) {
    return Math.max(0, bottom - viewportHeight);
  }
  return scrollTop;
}

export interface ISelectModifiers {
  /** Shift: select the range from the anchor. */
  shift?: boolean;
  /** Ctrl (or Cmd on macOS): toggle this row, keep the rest. */
  toggle?: boolean;
}

export interface ISelection {
  selected: Set<string>;
  /** Index the next shift-click extends from. */
  anchor: number | null;
}

/**
 * The selection after a click on row `index` of `keys`:
 * plain click selects only that row, ctrl/cmd toggles it, shift selects the
 * range from the anchor (with ctrl/cmd as well, the range is added).
 */
export function clickSelect(
  current: ISelection,
  keys: readonly string[],
  index: number,
  mods: ISelectModifiers = {}
): ISelection {
  if (index < 0 || index >= keys.length) {
    return current;
  }
  const key = keys[index];
  if (mods.shift && current.anchor !== null && current.anchor < keys.length) {
    const from = Math.min(current.anchor, index);
    const to = Math.max(current.anchor, index);
    const selected = mods.toggle
      ? new Set(current.selected)
      : new Set<string>();
    for (let i = from; i <= to; i++) {
      selected.add(keys[i]);
    }
    return { selected, anchor: current.anchor };
  }
  if (mods.toggle) {
    const selected = new Set(current.selected);
    if (selected.has(key)) {
      selected.delete(key);
    } else {
      selected.add(key);
    }
    return { selected, anchor: index };
  }
  return { selected: new Set([key]), anchor: index };
}
