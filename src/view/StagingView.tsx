import { InputDialog, MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { Message } from '@lumino/messaging';
import * as React from 'react';
import { Button, ErrorBox, useAction, useModel } from '../components/common';
import { StagePanel } from '../components/Stage';
import { trans } from '../i18n';
import { srcstageIcon } from '../icons';
import type { SrcStageModel } from '../model';
import type { DidTypeFilter } from '../tokens';
import type { ISelection } from '../virtual';
import { DidTable } from './DidTable';
import { JobsTable } from './JobsTable';

/** The main-area view's widget id (one view per JupyterLab). */
export const STAGING_VIEW_ID = 'srcstage-jlab-view';

/**
 * The wide staging view: search results and the open collection side by
 * side, the stage controls, and the jobs. It reads the sidebar's model, so
 * both always show the same state.
 */
export function StagingViewBody(props: { model: SrcStageModel }): JSX.Element {
  const { model } = props;
  useModel(model, ['session', 'destination']);
  const signedIn = model.session?.state === 'signed_in';
  const area = model.destination?.storage_area;
  return (
    <div className="jp-SrcStage-view" data-testid="srcstage-view">
      <header className="jp-SrcStage-viewHeader">
        <srcstageIcon.react tag="span" className="jp-SrcStage-headerIcon" />
        <h2 className="jp-SrcStage-headerTitle">
          {trans.__('SRCNet staging')}
        </h2>
        <span className="jp-SrcStage-viewFacts">
          {signedIn
            ? trans.__(
                'Signed in as %1',
                model.session?.user?.name ||
                  model.session?.user?.username ||
                  '?'
              )
            : trans.__('Not signed in: sign in from the sidebar.')}
          {area
            ? ` · ${trans.__('Destination: %1', area.name ?? area.id ?? '?')}`
            : ''}
        </span>
      </header>
      <div className="jp-SrcStage-viewTables">
        <SearchPane model={model} />
        <CollectionPane model={model} />
      </div>
      <JobsTable model={model} />
    </div>
  );
}

/** Search form and its results (their selection is the sidebar's). */
function SearchPane(props: { model: SrcStageModel }): JSX.Element {
  const { model } = props;
  useModel(model, ['search', 'selection', 'namespaces', 'collections', 'busy']);
  const [error, run] = useAction();
  const search = model.search;
  const active = model.activeCollection;
  const selected = model.selectedDids;

  const addTo = (dids: string[]) =>
    run(async () => {
      if (active) {
        await model.addToCollection(active.id, dids);
      } else {
        await newFrom(dids);
      }
    });
  const newFrom = async (dids: string[]) => {
    const answer = await InputDialog.getText({
      title: trans.__('New collection'),
      label: trans.__('Name'),
      okLabel: trans.__('Create')
    });
    if (answer.button.accept && answer.value?.trim()) {
      await model.createCollection(answer.value.trim(), dids);
    }
  };

  return (
    <div className="jp-SrcStage-viewPane">
      <form
        className="jp-SrcStage-viewSearch"
        aria-label={trans.__('Find data')}
        onSubmit={event => {
          event.preventDefault();
          void model.runSearch();
        }}
      >
        <label>
          {trans.__('Namespace')}
          <select
            className="jp-SrcStage-select"
            value={search.namespace}
            data-testid="srcstage-view-namespace"
            onChange={e => model.setQuery({ namespace: e.currentTarget.value })}
          >
            {model.namespaces.map(ns => (
              <option key={ns} value={ns}>
                {ns}
              </option>
            ))}
          </select>
        </label>
        <label>
          {trans.__('Name pattern')}
          <input
            className="jp-SrcStage-input"
            value={search.pattern}
            data-testid="srcstage-view-pattern"
            onChange={e => model.setQuery({ pattern: e.currentTarget.value })}
          />
        </label>
        <label>
          {trans.__('Type')}
          <select
            className="jp-SrcStage-select"
            value={search.type}
            onChange={e =>
              model.setQuery({ type: e.currentTarget.value as DidTypeFilter })
            }
          >
            <option value="all">{trans.__('all')}</option>
            <option value="file">{trans.__('file')}</option>
            <option value="dataset">{trans.__('dataset')}</option>
            <option value="container">{trans.__('container')}</option>
          </select>
        </label>
        <Button
          type="submit"
          kind="primary"
          disabled={search.loading}
          testid="srcstage-view-search"
        >
          {search.loading ? trans.__('Searching…') : trans.__('Search')}
        </Button>
      </form>
      <ErrorBox
        error={search.error ?? error}
        testid="srcstage-view-search-error"
      />
      <DidTable
        model={model}
        rows={search.items}
        label={trans.__('Search results')}
        testid="srcstage-view-results"
        selection={model.selection}
        onSelectionChange={s => model.setSelection(s)}
        onEnter={dids => void addTo(dids)}
        empty={
          search.searched
            ? trans.__('Nothing matches.')
            : trans.__('Search to list DIDs here.')
        }
        toolbar={
          <Button
            disabled={!selected.length}
            testid="srcstage-view-add"
            onClick={() => void addTo(selected)}
          >
            {active
              ? trans.__('Add %1 to “%2”', selected.length, active.name)
              : trans.__('New collection from %1', selected.length)}
          </Button>
        }
      />
    </div>
  );
}

/** The open collection (the sidebar's), its members and the stage controls. */
function CollectionPane(props: { model: SrcStageModel }): JSX.Element {
  const { model } = props;
  useModel(model, ['collections', 'busy']);
  const [error, run] = useAction();
  const [selection, setSelection] = React.useState<ISelection>({
    selected: new Set(),
    anchor: null
  });
  const collections = model.collections;
  const active = model.activeCollection;
  const activeId = active?.id ?? null;
  React.useEffect(
    () => setSelection({ selected: new Set(), anchor: null }),
    [activeId]
  );
  const remove = (dids: string[]) =>
    run(async () => {
      if (active) {
        await model.removeFromCollection(active.id, dids);
        setSelection({ selected: new Set(), anchor: null });
      }
    });

  return (
    <div className="jp-SrcStage-viewPane">
      <div className="jp-SrcStage-viewSearch">
        <label>
          {trans.__('Open collection')}
          <select
            className="jp-SrcStage-select"
            value={activeId ?? ''}
            data-testid="srcstage-view-collection-select"
            onChange={e => model.setActiveCollection(e.currentTarget.value)}
          >
            {collections.length === 0 ? (
              <option value="">{trans.__('No collection yet')}</option>
            ) : null}
            {collections.map(c => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={error} testid="srcstage-view-collection-error" />
      <DidTable
        model={model}
        rows={active?.dids ?? []}
        label={
          active
            ? trans.__('Collection “%1”', active.name)
            : trans.__('Collection')
        }
        testid="srcstage-view-collection"
        selection={selection}
        onSelectionChange={setSelection}
        onDelete={dids => void remove(dids)}
        empty={
          active
            ? trans.__('This collection is empty: add search results to it.')
            : trans.__('No collection yet: select search results and add them.')
        }
        toolbar={
          <Button
            disabled={!selection.selected.size}
            testid="srcstage-view-remove"
            onClick={() => void remove([...selection.selected])}
          >
            {trans.__('Remove %1', selection.selected.size)}
          </Button>
        }
      />
      {active ? <StagePanel model={model} collection={active} /> : null}
    </div>
  );
}

class StagingViewContent extends ReactWidget {
  constructor(private readonly _model: SrcStageModel) {
    super();
    this.addClass('jp-SrcStage');
    this.addClass('jp-SrcStage-viewContent');
  }

  protected render(): JSX.Element {
    return <StagingViewBody model={this._model} />;
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._model.setViewVisible(true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._model.setViewVisible(false);
  }

  protected onBeforeDetach(msg: Message): void {
    this._model.setViewVisible(false);
    super.onBeforeDetach(msg);
  }
}

/** The view as a main-area widget. */
export function createStagingView(
  model: SrcStageModel
): MainAreaWidget<ReactWidget> {
  const widget = new MainAreaWidget({ content: new StagingViewContent(model) });
  widget.id = STAGING_VIEW_ID;
  widget.title.label = trans.__('SRCNet staging');
  widget.title.caption = trans.__('The wide SRCNet staging view');
  widget.title.icon = srcstageIcon;
  widget.title.closable = true;
  return widget;
}
