import { InputDialog } from '@jupyterlab/apputils';
import { addIcon, closeIcon, searchIcon } from '@jupyterlab/ui-components';
import * as React from 'react';
import type { SrcStageModel } from '../model';
import type { DidTypeFilter, IDidInfo } from '../tokens';
import { formatBytes, formatCount } from '../units';
import {
  BreakableText,
  Button,
  Empty,
  ErrorBox,
  isNotSignedIn,
  Loading,
  MiddleText,
  Section,
  useAction,
  useModel
} from './common';
import { focusCollection } from './Collections';
import { DidDetails } from './DidDetails';
import { VirtualList } from './VirtualList';
import { differingFrom } from '../text';
import { trans } from '../i18n';

// Two lines a row: the name across the whole width (so files of one observation can be told
// apart in a narrow sidebar), its size and "where?" under it.
export const RESULT_ROW_HEIGHT = 40;
const RESULT_LIST_HEIGHT = 10 * RESULT_ROW_HEIGHT;

const TYPE_LABELS: Record<string, string> = {
  file: 'F',
  dataset: 'D',
  container: 'C'
};

/** Search DIDs, select some, add them to a collection. */
export function FindDataSection(props: { model: SrcStageModel }): JSX.Element {
  const { model } = props;
  useModel(model, ['search', 'namespaces', 'selection', 'locations', 'busy']);
  const search = model.search;
  const [actionError, run, clearError] = useAction();
  const nsListId = 'jp-SrcStage-namespaces';
  const owned = new Set(model.ownedNamespaces);
  // Before sign-in, one calm hint instead of "not signed in" errors.
  const signedOut =
    isNotSignedIn(model.namespacesError) && !model.namespaces.length;

  const onSubmit = (event: React.FormEvent) => {
    event.preventDefault();
    void model.runSearch();
  };

  const count = search.items.length;
  const selectedCount = model.selection.selected.size;
  const active = model.activeCollection;

  const addSelected = () =>
    run(async () => {
      const dids = model.selectedDids;
      if (!dids.length) {
        return;
      }
      const target = model.activeCollection;
      if (target) {
        await model.addToCollection(target.id, dids);
      } else {
        const answer = await InputDialog.getText({
          title: trans.__('New collection'),
          label: trans.__('Name of the new collection'),
          placeholder: trans.__('e.g. my-survey-tiles'),
          okLabel: trans.__('Create')
        });
        if (answer.button.accept && answer.value?.trim()) {
          const made = await model.createCollection(answer.value.trim(), dids);
          focusCollection(made.id);
        }
      }
    });

  return (
    <Section
      id="find"
      title={trans.__('Find data')}
      badge={search.searched ? formatCount(count) : undefined}
    >
      <form
        className="jp-SrcStage-form"
        onSubmit={onSubmit}
        role="search"
        data-testid="srcstage-search-form"
      >
        <label className="jp-SrcStage-field">
          <span>{trans.__('Namespace')}</span>
          <input
            className="jp-SrcStage-input"
            list={nsListId}
            value={search.namespace}
            placeholder={trans.__('e.g. ska-mid')}
            data-testid="srcstage-namespace"
            onChange={e => model.setQuery({ namespace: e.target.value })}
          />
          <datalist id={nsListId}>
            {model.namespaces.map(ns => (
              <option key={ns} value={ns}>
                {owned.has(ns) ? trans.__('%1 (yours)', ns) : ns}
              </option>
            ))}
          </datalist>
        </label>
        <label className="jp-SrcStage-field">
          <span>{trans.__('Name')}</span>
          <input
            className="jp-SrcStage-input"
            value={search.pattern}
            placeholder={trans.__('* matches anything, e.g. obs_2024*')}
            data-testid="srcstage-pattern"
            onChange={e => model.setQuery({ pattern: e.target.value })}
          />
        </label>
        <div className="jp-SrcStage-row">
          <label className="jp-SrcStage-field jp-SrcStage-grow">
            <span>{trans.__('Type')}</span>
            <select
              className="jp-SrcStage-select"
              value={search.type}
              data-testid="srcstage-type"
              onChange={e =>
                model.setQuery({ type: e.target.value as DidTypeFilter })
              }
            >
              <option value="all">{trans.__('all')}</option>
              <option value="file">{trans.__('files')}</option>
              <option value="dataset">{trans.__('datasets')}</option>
              <option value="container">{trans.__('containers')}</option>
            </select>
          </label>
          <Button
            kind="primary"
            type="submit"
            icon={searchIcon}
            disabled={search.loading}
            testid="srcstage-search"
          >
            {trans.__('Search')}
          </Button>
        </div>
      </form>
      {model.namespacesError && !model.namespaces.length && !signedOut && (
        <div className="jp-SrcStage-hint">
          {trans.__('Namespaces could not be listed (')}
          {model.namespacesError.message}
          {trans.__('); type one.')}
        </div>
      )}
      <div data-testid="srcstage-results-area" aria-busy={search.loading}>
        {search.loading ? (
          <Loading>{trans.__('Searching…')}</Loading>
        ) : search.error ? (
          <ErrorBox
            error={search.error}
            title={trans.__('Search failed')}
            testid="srcstage-search-error"
          />
        ) : !search.searched ? (
          signedOut ? (
            <div
              className="jp-SrcStage-hint"
              data-testid="srcstage-find-signed-out"
            >
              {trans.__('Sign in to see the namespaces and search their data.')}
            </div>
          ) : (
            <Empty>{trans.__('Search a namespace to list its data.')}</Empty>
          )
        ) : count === 0 ? (
          <Empty testid="srcstage-results-empty">
            {trans.__('Nothing matches')} <code>{search.pattern || '*'}</code>{' '}
            {trans.__('in')} <code>{search.namespace}</code>.
          </Empty>
        ) : (
          <>
            <div className="jp-SrcStage-resultsHeader">
              <span data-testid="srcstage-results-count">
                {search.truncated
                  ? trans.__(
                      '%1 results (only the first %2; narrow the name)',
                      formatCount(count),
                      formatCount(search.limit ?? count)
                    )
                  : trans._n(
                      '%2 result',
                      '%2 results',
                      count,
                      formatCount(count)
                    )}
              </span>
              <span className="jp-SrcStage-toolbarGroup">
                <Button
                  onClick={() => model.selectAll()}
                  testid="srcstage-select-all"
                  title={trans.__('Select all the results')}
                >
                  {trans.__('Select all')}
                </Button>
                <Button
                  onClick={() => model.clearSelection()}
                  disabled={!selectedCount}
                  testid="srcstage-select-none"
                  title={trans.__('Clear the selection')}
                >
                  {trans.__('Clear')}
                </Button>
              </span>
            </div>
            <ResultList model={model} />
            <div className="jp-SrcStage-resultsFooter">
              <span data-testid="srcstage-selected-count">
                {trans.__('%1 selected', formatCount(selectedCount))}
              </span>
              <span className="jp-SrcStage-spacer" />
              <Button
                kind="primary"
                icon={addIcon}
                disabled={!selectedCount || model.isBusy('collections')}
                testid="srcstage-add-selected"
                onClick={() => void addSelected()}
                title={
                  active
                    ? trans.__(
                        'Add the selected data to the collection “%1”',
                        active.name
                      )
                    : trans.__('Create a collection with the selected data')
                }
              >
                {active
                  ? trans.__('Add to “%1”', active.name)
                  : trans.__('New collection')}
              </Button>
            </div>
            <ErrorBox
              error={actionError}
              title={trans.__('Could not add to the collection')}
            />
            {actionError && (
              <Button onClick={clearError} kind="normal">
                {trans.__('Dismiss')}
              </Button>
            )}
          </>
        )}
        <LocationsPanel model={model} />
      </div>
    </Section>
  );
}

function ResultList(props: { model: SrcStageModel }): JSX.Element {
  const { model } = props;
  const items = model.search.items;
  const selected = model.selection.selected;
  const [active, setActive] = React.useState<number | null>(null);

  React.useEffect(() => setActive(null), [items]);

  const rowId = (i: number) => `jp-SrcStage-result-${i}`;
  // What tells the results apart (their names usually share a start).
  const keepFrom = React.useMemo(
    () => differingFrom(items.slice(0, 1000).map(it => it.name ?? it.did)),
    [items]
  );

  const onKeyDown = (event: React.KeyboardEvent<HTMLDivElement>) => {
    if (!items.length) {
      return;
    }
    const toggle = event.ctrlKey || event.metaKey;
    const current = active ?? -1;
    let next: number | null = null;
    switch (event.key) {
      case 'ArrowDown':
        next = Math.min(items.length - 1, current + 1);
        break;
      case 'ArrowUp':
        next = Math.max(0, current - 1);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = items.length - 1;
        break;
      case 'PageDown':
        next = Math.min(items.length - 1, current + 10);
        break;
      case 'PageUp':
        next = Math.max(0, current - 10);
        break;
      case ' ':
      case 'Enter':
        if (current >= 0) {
          event.preventDefault();
          model.clickResult(current, { toggle: true });
        }
        return;
      case 'l':
      case 'L':
        if (current >= 0 && !toggle) {
          event.preventDefault();
          void model.locate(items[current].did);
        }
        return;
      case 'a':
        if (toggle) {
          event.preventDefault();
          model.selectAll();
        }
        return;
      default:
        return;
    }
    event.preventDefault();
    setActive(next);
    if (event.shiftKey) {
      model.clickResult(next, { shift: true });
    } else if (!toggle) {
      model.clickResult(next);
    }
  };

  const renderRow = (i: number) => {
    const item: IDidInfo = items[i];
    const isSelected = selected.has(item.did);
    const type = item.type ?? '';
    return (
      <div
        id={rowId(i)}
        role="option"
        aria-selected={isSelected}
        className={`jp-SrcStage-result${isSelected ? ' jp-mod-selected' : ''}${active === i ? ' jp-mod-active' : ''}`}
        data-testid="srcstage-result"
        data-did={item.did}
        onClick={event => {
          setActive(i);
          model.clickResult(i, {
            shift: event.shiftKey,
            toggle: event.ctrlKey || event.metaKey
          });
        }}
      >
        <span
          className={`jp-SrcStage-type jp-SrcStage-type-${type || 'unknown'}`}
          title={type || trans.__('type not known yet')}
        >
          {TYPE_LABELS[type] ?? '?'}
        </span>
        <MiddleText
          className="jp-SrcStage-resultName"
          text={item.name ?? item.did}
          title={item.did}
          keepFrom={keepFrom}
        />
        <span className="jp-SrcStage-resultSize">
          {formatBytes(item.bytes)}
        </span>
        {/* A mouse shortcut only, not a control: an option may hold no focusable element
            (WCAG nested-interactive); keyboard and screen reader users press L, as the
            list's label says. */}
        <span
          className="jp-SrcStage-linkButton"
          aria-hidden="true"
          title={trans.__('Where does it live? (L)')}
          data-testid="srcstage-locate"
          onClick={event => {
            event.stopPropagation();
            void model.locate(item.did);
          }}
        >
          {trans.__('where?')}
        </span>
      </div>
    );
  };

  return (
    <VirtualList
      count={items.length}
      rowHeight={RESULT_ROW_HEIGHT}
      height={RESULT_LIST_HEIGHT}
      renderRow={renderRow}
      rowKey={i => items[i].did}
      rowId={rowId}
      activeIndex={active}
      onKeyDown={onKeyDown}
      role="listbox"
      multiselectable
      ariaLabel={trans.__(
        'Search results (arrows move, shift extends, space toggles, L shows where it lives)'
      )}
      className="jp-SrcStage-results"
      testid="srcstage-results"
    />
  );
}

function LocationsPanel(props: { model: SrcStageModel }): JSX.Element | null {
  const { model } = props;
  const did = model.locatedDid;
  if (!did) {
    return null;
  }
  const state = model.locations.get(did);
  return (
    <div
      className="jp-SrcStage-locations"
      data-testid="srcstage-locations"
      aria-live="polite"
    >
      <div className="jp-SrcStage-locationsHeader">
        <span>
          {trans.__('Where')}{' '}
          <code>
            <BreakableText text={did} separators=":/." />
          </code>{' '}
          {trans.__('lives')}
        </span>
        <span className="jp-SrcStage-spacer" />
        <Button
          kind="icon"
          icon={closeIcon}
          aria-label={trans.__('Close the locations')}
          onClick={() => model.closeLocations()}
        />
      </div>
      {!state || state.loading ? (
        <Loading>{trans.__('Asking SRCNet…')}</Loading>
      ) : state.error ? (
        <ErrorBox error={state.error} title={trans.__('Could not locate')} />
      ) : state.value && state.value.locations.length ? (
        <ul className="jp-SrcStage-locationList">
          {state.value.locations.map(loc => (
            <li key={loc.rse}>
              <strong>{loc.rse}</strong>
              {typeof loc.files === 'number' && (
                <span className="jp-SrcStage-dim">
                  {' '}
                  ·{' '}
                  {trans._n(
                    '%2 file',
                    '%2 files',
                    loc.files,
                    formatCount(loc.files)
                  )}
                </span>
              )}
              {loc.is_destination && (
                <span className="jp-SrcStage-tag">
                  {trans.__('destination')}
                </span>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <Empty>{trans.__('No replica of this data is known anywhere.')}</Empty>
      )}
      <DidDetails api={model.api} did={did} />
    </div>
  );
}
