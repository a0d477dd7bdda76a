import * as React from 'react';
import { trans } from '../i18n';
import type { SrcStageModel } from '../model';
import type { IDidInfo } from '../tokens';
import { formatBytes, formatCount } from '../units';
import {
  clickSelect,
  computeWindow,
  ISelection,
  ISelectModifiers,
  scrollToRow
} from '../virtual';
import { useModel } from '../components/common';
import {
  ISort,
  nextSort,
  sortAndFilter,
  SortKey,
  whereOf,
  WhereKind
} from './where';

/** Two lines of text: a long DID wraps instead of being cut. */
export const TABLE_ROW_HEIGHT = 44;
/** Height of the sticky header row (style/view.css), over the top of the scrolled rows. */
const HEADER_HEIGHT = 30;
/** Wait after the last scroll before locating the rows in view (ms). */
const LOCATE_DELAY_MS = 150;

export interface IDidTableProps {
  model: SrcStageModel;
  rows: readonly IDidInfo[];
  /** The table's accessible name (also its heading). */
  label: string;
  testid: string;
  selection: ISelection;
  onSelectionChange: (selection: ISelection) => void;
  /** Enter on the table: act on the selected DIDs. */
  onEnter?: (dids: string[]) => void;
  /** Delete on the table. */
  onDelete?: (dids: string[]) => void;
  /** Shown when there are no rows at all. */
  empty: string;
  /** Controls above the table (buttons acting on the selection). */
  toolbar?: React.ReactNode;
}

interface IColumn {
  key: SortKey;
  label: string;
}

/**
 * A sortable, filterable, virtualized grid of DIDs with full names, type,
 * size and where each is now; the "where" of the rows on screen is located
 * lazily (and cached by the model).
 */
export function DidTable(props: IDidTableProps): JSX.Element {
  const { model, rows, selection } = props;
  useModel(model, ['locations', 'destination']);
  const [filter, setFilter] = React.useState('');
  const [sort, setSort] = React.useState<ISort>({
    key: 'did',
    direction: 'ascending'
  });
  const [active, setActive] = React.useState<number | null>(null);
  const [scrollTop, setScrollTop] = React.useState(0);
  const [viewport, setViewport] = React.useState(400);
  const body = React.useRef<HTMLDivElement>(null);
  const idBase = React.useMemo(
    () => `jp-SrcStage-grid-${Math.random().toString(36).slice(2, 8)}`,
    []
  );

  const whereKind = (did: string): WhereKind | null =>
    whereOf(model.locations.get(did)?.value ?? null)?.kind ?? null;
  // Sorting by "where" follows the locate answers as they come in.
  const locationsKey = sort.key === 'where' ? model.locations.size : 0;
  const shown = React.useMemo(
    () => sortAndFilter(rows, filter, sort, whereKind),
    [rows, filter, sort, locationsKey]
  );
  const keys = React.useMemo(() => shown.map(r => r.did), [shown]);

  React.useEffect(() => {
    const node = body.current;
    if (!node || typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(() => {
      if (node.clientHeight) {
        setViewport(
          Math.max(TABLE_ROW_HEIGHT, node.clientHeight - HEADER_HEIGHT)
        );
      }
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, []);

  const win = computeWindow({
    scrollTop,
    viewportHeight: viewport,
    rowHeight: TABLE_ROW_HEIGHT,
    count: shown.length,
    overscan: 6
  });

  // Locate only what is on screen, once scrolling rests.
  React.useEffect(() => {
    const timer = setTimeout(() => {
      const first = Math.floor(scrollTop / TABLE_ROW_HEIGHT);
      const last = Math.ceil((scrollTop + viewport) / TABLE_ROW_HEIGHT);
      const onScreen = keys.slice(first, last + 1);
      model.locateMissing(onScreen);
    }, LOCATE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [keys, scrollTop, viewport]);

  const moveTo = (index: number, mods: ISelectModifiers | null) => {
    if (!shown.length) {
      return;
    }
    const next = Math.max(0, Math.min(shown.length - 1, index));
    setActive(next);
    if (mods) {
      props.onSelectionChange(clickSelect(selection, keys, next, mods));
    }
    const node = body.current;
    if (node) {
      const top = scrollToRow(next, node.scrollTop, viewport, TABLE_ROW_HEIGHT);
      if (top !== node.scrollTop) {
        node.scrollTop = top;
        setScrollTop(top);
      }
    }
  };

  const selectedDids = () => keys.filter(k => selection.selected.has(k));

  const onKeyDown = (event: React.KeyboardEvent<HTMLDivElement>) => {
    const toggle = event.ctrlKey || event.metaKey;
    const page = Math.max(1, Math.floor(viewport / TABLE_ROW_HEIGHT) - 1);
    const current = active ?? -1;
    // Ctrl+arrow moves the focus only (Space then toggles); shift extends.
    const mods: ISelectModifiers | null =
      toggle && !event.shiftKey ? null : { shift: event.shiftKey };
    let handled = true;
    switch (event.key) {
      case 'ArrowDown':
        moveTo(current + 1, mods);
        break;
      case 'ArrowUp':
        moveTo(current <= 0 ? 0 : current - 1, mods);
        break;
      case 'PageDown':
        moveTo(current + page, mods);
        break;
      case 'PageUp':
        moveTo(current - page, mods);
        break;
      case 'Home':
        moveTo(0, mods);
        break;
      case 'End':
        moveTo(shown.length - 1, mods);
        break;
      case ' ':
        if (active !== null) {
          props.onSelectionChange(
            clickSelect(selection, keys, active, {
              toggle,
              shift: event.shiftKey
            })
          );
        }
        break;
      case 'a':
      case 'A':
        if (!toggle) {
          handled = false;
          break;
        }
        props.onSelectionChange({
          selected: new Set(keys),
          anchor: selection.anchor ?? 0
        });
        break;
      case 'Enter':
        if (props.onEnter && selectedDids().length) {
          props.onEnter(selectedDids());
        } else {
          handled = false;
        }
        break;
      case 'Delete':
        if (props.onDelete && selectedDids().length) {
          props.onDelete(selectedDids());
        } else {
          handled = false;
        }
        break;
      default:
        handled = false;
    }
    if (handled) {
      event.preventDefault();
    }
  };

  const columns: IColumn[] = [
    { key: 'did', label: trans.__('Name') },
    { key: 'type', label: trans.__('Type') },
    { key: 'bytes', label: trans.__('Size') },
    { key: 'where', label: trans.__('Where now') }
  ];

  const rowsOut: React.ReactNode[] = [];
  for (let i = win.start; i < win.end; i++) {
    const row = shown[i];
    const selected = selection.selected.has(row.did);
    rowsOut.push(
      <div
        key={row.did}
        id={`${idBase}-${i}`}
        role="row"
        aria-rowindex={i + 2}
        aria-selected={selected}
        data-did={row.did}
        className={`jp-SrcStage-gridRow${selected ? ' jp-mod-selected' : ''}${
          active === i ? ' jp-mod-active' : ''
        }`}
        style={{ top: i * TABLE_ROW_HEIGHT, height: TABLE_ROW_HEIGHT }}
        onMouseDown={event => {
          if (event.shiftKey) {
            event.preventDefault(); // no text selection on shift-click
          }
        }}
        onClick={event => {
          setActive(i);
          props.onSelectionChange(
            clickSelect(selection, keys, i, {
              shift: event.shiftKey,
              toggle: event.ctrlKey || event.metaKey
            })
          );
        }}
      >
        <div role="gridcell" className="jp-SrcStage-gridName" title={row.did}>
          {row.did}
        </div>
        <div role="gridcell">{typeLabel(row.type)}</div>
        <div role="gridcell" className="jp-SrcStage-gridNumber">
          {formatBytes(
            row.bytes ??
              whereOf(model.locations.get(row.did)?.value ?? null)?.bytes
          )}
        </div>
        <div role="gridcell">
          <WhereCell model={model} did={row.did} />
        </div>
      </div>
    );
  }

  const filterId = `${idBase}-filter`;
  const countText =
    shown.length === rows.length
      ? rows.length === 1
        ? trans.__('1 row')
        : trans.__('%1 rows', formatCount(rows.length))
      : trans.__(
          '%1 of %2 rows',
          formatCount(shown.length),
          formatCount(rows.length)
        );
  return (
    <section
      className="jp-SrcStage-tableBox"
      data-testid={props.testid}
      aria-label={props.label}
    >
      <div className="jp-SrcStage-tableBar">
        <h3 className="jp-SrcStage-tableTitle">{props.label}</h3>
        <label htmlFor={filterId} className="jp-SrcStage-visuallyHidden">
          {trans.__('Filter %1', props.label)}
        </label>
        <input
          id={filterId}
          type="search"
          className="jp-SrcStage-input jp-SrcStage-tableFilter"
          placeholder={trans.__('Filter by name')}
          value={filter}
          data-testid={`${props.testid}-filter`}
          onChange={event => {
            setFilter(event.currentTarget.value);
            setActive(null);
          }}
        />
        <span
          className="jp-SrcStage-tableCount"
          aria-live="polite"
          data-testid={`${props.testid}-count`}
        >
          {countText}
          {selection.selected.size
            ? ` · ${trans.__('%1 selected', formatCount(selection.selected.size))}`
            : ''}
        </span>
        {props.toolbar}
      </div>
      <div
        className="jp-SrcStage-grid"
        role="grid"
        aria-label={props.label}
        aria-rowcount={shown.length + 1}
        aria-colcount={columns.length}
        aria-multiselectable={true}
        aria-activedescendant={
          active !== null && active < shown.length
            ? `${idBase}-${active}`
            : undefined
        }
        tabIndex={0}
        ref={body}
        onScroll={event => setScrollTop(event.currentTarget.scrollTop)}
        data-rendered-rows={win.end - win.start}
        onKeyDown={onKeyDown}
        onFocus={() => {
          if (active === null && shown.length) {
            setActive(0);
          }
        }}
        data-testid={`${props.testid}-grid`}
      >
        <div role="rowgroup" className="jp-SrcStage-gridHead">
          <div role="row" aria-rowindex={1} className="jp-SrcStage-gridRow">
            {columns.map(c => (
              <div
                key={c.key}
                role="columnheader"
                aria-sort={sort.key === c.key ? sort.direction : 'none'}
              >
                <button
                  type="button"
                  className="jp-SrcStage-sortButton"
                  data-testid={`${props.testid}-sort-${c.key}`}
                  onClick={() => setSort(nextSort(sort, c.key))}
                >
                  {c.label}
                  <span aria-hidden="true" className="jp-SrcStage-sortMark">
                    {sort.key === c.key
                      ? sort.direction === 'ascending'
                        ? '▲'
                        : '▼'
                      : ''}
                  </span>
                </button>
              </div>
            ))}
          </div>
        </div>
        <div role="rowgroup" className="jp-SrcStage-gridBody">
          {rows.length === 0 ? (
            <div role="row" className="jp-SrcStage-gridEmpty">
              <div role="gridcell">{props.empty}</div>
            </div>
          ) : (
            <div
              className="jp-SrcStage-gridInner"
              style={{ height: win.totalHeight }}
            >
              {rowsOut}
            </div>
          )}
        </div>
      </div>
    </section>
  );
}

function typeLabel(type: string | null | undefined): string {
  switch (type) {
    case 'file':
      return trans.__('file');
    case 'dataset':
      return trans.__('dataset');
    case 'container':
      return trans.__('container');
    default:
      return type ?? '—';
  }
}

/** Where one DID is now, once located. */
function WhereCell(props: { model: SrcStageModel; did: string }): JSX.Element {
  const state = props.model.locations.get(props.did);
  if (!state || state.loading) {
    return (
      <span className="jp-SrcStage-where jp-mod-unknown">{trans.__('…')}</span>
    );
  }
  if (state.error) {
    return (
      <span
        className="jp-SrcStage-where jp-mod-error"
        title={state.error.message}
      >
        {trans.__('unknown')}
      </span>
    );
  }
  const where = whereOf(state.value);
  const kind = where?.kind ?? 'nowhere';
  const text: Record<WhereKind, string> = {
    destination: trans.__('at the destination'),
    disk: trans.__('disk'),
    tape: trans.__('tape'),
    nowhere: trans.__('no replica')
  };
  return (
    <span
      className={`jp-SrcStage-where jp-mod-${kind}`}
      data-where={kind}
      title={where?.rses.join(', ')}
    >
      {text[kind]}
      {where && where.rses.length ? (
        <span className="jp-SrcStage-whereRse"> {where.rses[0]}</span>
      ) : null}
    </span>
  );
}
