import * as React from 'react';
import { computeWindow, scrollToRow } from '../virtual';

export interface IVirtualListProps {
  /** Number of rows. */
  count: number;
  /** Fixed height of a row, px. */
  rowHeight: number;
  /** Initial height of the viewport, px (the user may resize it). */
  height: number;
  /** Render row `index`; it is placed in a box of `rowHeight`. */
  renderRow: (index: number) => React.ReactNode;
  /** Key of row `index`. */
  rowKey: (index: number) => string;
  /** The row that has keyboard focus (scrolled into view when it changes). */
  activeIndex?: number | null;
  /** Id of the DOM element of row `index`, for `aria-activedescendant`. */
  rowId?: (index: number) => string;
  onKeyDown?: (event: React.KeyboardEvent<HTMLDivElement>) => void;
  role?: string;
  ariaLabel: string;
  multiselectable?: boolean;
  className?: string;
  testid?: string;
  overscan?: number;
}

/**
 * A list that renders only the rows in view (plus a few), so that 10,000
 * rows scroll as smoothly as 10.
 */
export function VirtualList(props: IVirtualListProps): JSX.Element {
  const { count, rowHeight, activeIndex } = props;
  const ref = React.useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = React.useState(0);
  const [viewport, setViewport] = React.useState(props.height);

  // Follow the user's resizing of the viewport.
  React.useEffect(() => {
    const node = ref.current;
    if (!node || typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(() => {
      if (node.clientHeight) {
        setViewport(node.clientHeight);
      }
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, []);

  // Keep the keyboard-active row visible.
  React.useEffect(() => {
    const node = ref.current;
    if (!node || activeIndex === null || activeIndex === undefined) {
      return;
    }
    const next = scrollToRow(
      activeIndex,
      node.scrollTop,
      node.clientHeight || viewport,
      rowHeight
    );
    if (next !== node.scrollTop) {
      node.scrollTop = next;
      setScrollTop(next);
    }
  }, [activeIndex, rowHeight]);

  const win = computeWindow({
    scrollTop,
    viewportHeight: viewport,
    rowHeight,
    count,
    overscan: props.overscan
  });
  const rows: React.ReactNode[] = [];
  for (let i = win.start; i < win.end; i++) {
    rows.push(
      <div
        key={props.rowKey(i)}
        className="jp-SrcStage-vrow"
        style={{ height: rowHeight, top: i * rowHeight }}
      >
        {props.renderRow(i)}
      </div>
    );
  }
  const height = Math.min(props.height, Math.max(count, 1) * rowHeight + 2);
  return (
    <div
      ref={ref}
      className={`jp-SrcStage-vlist${props.className ? ` ${props.className}` : ''}`}
      style={{ height }}
      role={props.role ?? 'list'}
      aria-label={props.ariaLabel}
      aria-multiselectable={props.multiselectable || undefined}
      aria-activedescendant={
        props.rowId && activeIndex !== null && activeIndex !== undefined
          ? props.rowId(activeIndex)
          : undefined
      }
      tabIndex={0}
      data-testid={props.testid}
      data-rendered-rows={win.end - win.start}
      onScroll={event => setScrollTop(event.currentTarget.scrollTop)}
      onKeyDown={props.onKeyDown}
    >
      <div
        className="jp-SrcStage-vlistInner"
        style={{ height: win.totalHeight }}
      >
        {rows}
      </div>
    </div>
  );
}
