import { differingFrom, sharedNamespace } from '../text';
import { Dialog, InputDialog, showDialog } from '@jupyterlab/apputils';
import {
  addIcon,
  closeIcon,
  deleteIcon,
  downloadIcon,
  editIcon,
  fileUploadIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';
import { SrcStageError } from '../api';
import type { SrcStageModel } from '../model';
import type { ICollection } from '../tokens';
import { formatBytes, formatCount, formatDate } from '../units';
import {
  BreakableText,
  Button,
  Empty,
  ErrorBox,
  Loading,
  focusSoon,
  MiddleText,
  Section,
  useAction,
  useModel
} from './common';
import { StagePanel } from './Stage';
import { VirtualList } from './VirtualList';
import { trans } from '../i18n';

const ENTRY_ROW_HEIGHT = 26;
const ENTRY_LIST_HEIGHT = 8 * ENTRY_ROW_HEIGHT;

export interface ICollectionsProps {
  model: SrcStageModel;
}

/** The user's collections (kept by the server), one of them open. */
export function CollectionsSection(props: ICollectionsProps): JSX.Element {
  const { model } = props;
  useModel(model, ['collections', 'busy', 'config', 'namespaces']);
  const [error, run, clearError] = useAction();
  const fileInput = React.useRef<HTMLInputElement>(null);
  const collections = model.collections;
  const active = model.activeCollection;

  const create = () =>
    run(async () => {
      const answer = await InputDialog.getText({
        title: trans.__('New collection'),
        label: trans.__('Name'),
        placeholder: trans.__('e.g. my-survey-tiles'),
        okLabel: trans.__('Create')
      });
      if (answer.button.accept && answer.value?.trim()) {
        const made = await model.createCollection(answer.value.trim());
        focusCollection(made.id);
      }
    });

  const rename = (collection: ICollection) =>
    run(async () => {
      const answer = await InputDialog.getText({
        title: trans.__('Rename collection'),
        label: trans.__('New name'),
        text: collection.name,
        okLabel: trans.__('Rename')
      });
      const name = answer.value?.trim();
      if (answer.button.accept && name && name !== collection.name) {
        await model.renameCollection(collection.id, name);
      }
    });

  const remove = (collection: ICollection) =>
    run(async () => {
      const answer = await showDialog({
        title: trans.__('Delete collection?'),
        body: (
          <div>
            <p>
              {trans.__(
                'Delete the collection “%1” (%2 entries) from this server?',
                collection.name,
                formatCount(collection.totals?.dids ?? collection.dids.length)
              )}
            </p>
            {collection.submitted && (
              <p>
                {trans.__(
                  'Its DID %1 and its staging jobs stay in SRCNet.',
                  collection.submitted.did ?? collection.submitted.description
                )}
              </p>
            )}
          </div>
        ),
        buttons: [
          Dialog.cancelButton(),
          Dialog.warnButton({ label: trans.__('Delete') })
        ]
      });
      if (answer.button.accept) {
        await model.deleteCollection(collection.id);
      }
    });

  const exportOne = (collection: ICollection) =>
    run(async () => {
      const doc = await model.exportCollection(collection.id);
      const blob = new Blob([JSON.stringify(doc, null, 2) + '\n'], {
        type: 'application/json'
      });
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `${safeFileName(collection.name)}.srcstage.json`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    });

  const importFile = (file: File) =>
    run(async () => {
      const text = await file.text();
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        throw new SrcStageError({
          message: trans.__(
            '“%1” is not a collection exported by this sidebar (it is not JSON).',
            file.name
          ),
          code: 'invalid_input'
        });
      }
      focusCollection((await model.importCollection(doc)).id);
    });

  return (
    <Section
      id="collections"
      title={trans.__('Collections')}
      badge={
        model.collectionsLoaded ? formatCount(collections.length) : undefined
      }
      tools={
        <>
          <Button
            kind="icon"
            icon={addIcon}
            aria-label={trans.__('New collection')}
            testid="srcstage-collection-new"
            disabled={model.isBusy('collections')}
            onClick={() => void create()}
          />
          <Button
            kind="icon"
            icon={fileUploadIcon}
            aria-label={trans.__('Import a collection from a file')}
            testid="srcstage-collection-import"
            onClick={() => fileInput.current?.click()}
          />
          <Button
            kind="icon"
            icon={refreshIcon}
            aria-label={trans.__('Reload the collections')}
            onClick={() => void model.refreshCollections()}
          />
        </>
      }
    >
      <input
        ref={fileInput}
        type="file"
        accept=".json,application/json"
        className="jp-SrcStage-hidden"
        aria-hidden="true"
        tabIndex={-1}
        data-testid="srcstage-import-input"
        onChange={event => {
          const file = event.target.files?.[0];
          event.target.value = '';
          if (file) {
            void importFile(file);
          }
        }}
      />
      <ErrorBox
        error={model.collectionsError}
        title={trans.__('Collections unavailable')}
      />
      <ErrorBox error={error} testid="srcstage-collection-error" />
      {error && <Button onClick={clearError}>{trans.__('Dismiss')}</Button>}
      {!model.collectionsLoaded && !model.collectionsError ? (
        <Loading />
      ) : collections.length === 0 ? (
        <Empty testid="srcstage-collections-empty">
          {trans.__(
            'No collection yet. Select search results and press “New collection”, or import one.'
          )}
        </Empty>
      ) : (
        <>
          <label className="jp-SrcStage-field">
            <span>{trans.__('Collection')}</span>
            <select
              className="jp-SrcStage-select"
              value={active?.id ?? ''}
              data-testid="srcstage-collection-select"
              onChange={e => model.setActiveCollection(e.target.value)}
            >
              {collections.map(c => (
                <option key={c.id} value={c.id}>
                  {c.name} ({formatCount(c.totals?.dids ?? c.dids.length)})
                </option>
              ))}
            </select>
          </label>
          {active && (
            <CollectionView
              key={active.id}
              model={model}
              collection={active}
              onRename={() => void rename(active)}
              onDelete={() => void remove(active)}
              onExport={() => void exportOne(active)}
            />
          )}
        </>
      )}
    </Section>
  );
}

/** Focus the collection just made (its name), once it is shown. */
export function focusCollection(id: string): void {
  focusSoon(
    `[data-collection-id="${CSS.escape(id)}"] [data-testid="srcstage-collection-name"]`
  );
}

/** `ska-mid:` of `ska-mid:obs-1.ms`, shown dimmed before the name. */
function didScope(did: string): string | undefined {
  const colon = did.indexOf(':');
  return colon > 0 ? did.slice(0, colon + 1) : undefined;
}

function safeFileName(name: string): string {
  return (
    name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') ||
    'collection'
  );
}

interface ICollectionViewProps {
  model: SrcStageModel;
  collection: ICollection;
  onRename: () => void;
  onDelete: () => void;
  onExport: () => void;
}

function CollectionView(props: ICollectionViewProps): JSX.Element {
  const { model, collection } = props;
  const [error, run] = useAction();
  const busy = model.isBusy(`collection:${collection.id}`);
  const totals = collection.totals;
  const dids = collection.dids;

  const shared = sharedNamespace(dids.map(d => d.did));
  const keepFrom = differingFrom(
    dids.map(d => (shared ? d.did.slice(shared.length + 1) : d.did))
  );
  const renderRow = (i: number) => {
    const entry = dids[i];
    return (
      <div
        className="jp-SrcStage-entry"
        data-testid="srcstage-entry"
        data-did={entry.did}
        role="listitem"
      >
        <MiddleText
          className="jp-SrcStage-entryName"
          text={shared ? entry.did.slice(shared.length + 1) : entry.did}
          title={entry.did}
          dimPrefix={shared ? undefined : didScope(entry.did)}
          keepFrom={keepFrom}
        />
        <span className="jp-SrcStage-resultSize">
          {formatBytes(entry.bytes)}
        </span>
        <Button
          kind="icon"
          icon={closeIcon}
          aria-label={trans.__('Remove %1 from the collection', entry.did)}
          disabled={busy}
          testid="srcstage-entry-remove"
          onClick={() =>
            void run(() =>
              model.removeFromCollection(collection.id, [entry.did])
            )
          }
        />
      </div>
    );
  };

  return (
    <div
      className="jp-SrcStage-collection"
      data-testid="srcstage-collection"
      data-collection-id={collection.id}
    >
      <div className="jp-SrcStage-collectionHeader">
        <strong
          className="jp-SrcStage-collectionName"
          data-testid="srcstage-collection-name"
          title={collection.name}
          tabIndex={-1}
        >
          {collection.name}
        </strong>
        <span className="jp-SrcStage-spacer" />
        <Button
          kind="icon"
          icon={editIcon}
          aria-label={trans.__('Rename the collection')}
          testid="srcstage-collection-rename"
          disabled={busy}
          onClick={props.onRename}
        />
        <Button
          kind="icon"
          icon={downloadIcon}
          aria-label={trans.__('Export the collection as a JSON file')}
          testid="srcstage-collection-export"
          onClick={props.onExport}
        />
        <Button
          kind="icon"
          icon={deleteIcon}
          aria-label={trans.__('Delete the collection')}
          testid="srcstage-collection-delete"
          disabled={busy}
          onClick={props.onDelete}
        />
      </div>
      <div
        className="jp-SrcStage-totals"
        data-testid="srcstage-collection-totals"
      >
        {trans._n(
          '%2 DID',
          '%2 DIDs',
          totals?.dids ?? dids.length,
          formatCount(totals?.dids ?? dids.length)
        )}
        {typeof totals?.files === 'number' &&
          ' · ' +
            trans._n(
              '%2 file',
              '%2 files',
              totals.files,
              formatCount(totals.files)
            )}
        {typeof totals?.bytes === 'number' && ` · ${formatBytes(totals.bytes)}`}
      </div>
      {collection.submitted && (
        <div className="jp-SrcStage-submitted" data-testid="srcstage-submitted">
          {collection.submitted.did ? (
            <>
              {collection.submitted.via === 'staging request'
                ? trans.__('Staged as')
                : trans.__('Submitted as')}{' '}
              <code>
                <BreakableText
                  text={collection.submitted.did}
                  separators=":/."
                />
              </code>
            </>
          ) : (
            <>{trans.__('Staged as %1', collection.submitted.description)}</>
          )}
          {collection.submitted.at && (
            <span className="jp-SrcStage-dim">
              {' '}
              {trans.__('on %1', formatDate(collection.submitted.at))}
            </span>
          )}
          {collection.submitted.stale && (
            <div className="jp-SrcStage-warning">
              {trans.__('Changed since; staging submits it again.')}
            </div>
          )}
        </div>
      )}
      <ErrorBox
        error={error}
        title={trans.__('Could not change the collection')}
      />
      {dids.length === 0 ? (
        <Empty testid="srcstage-collection-empty">
          {trans.__(
            'Empty. Search for data above, select it and press “Add to”.'
          )}
        </Empty>
      ) : (
        <VirtualList
          count={dids.length}
          rowHeight={ENTRY_ROW_HEIGHT}
          height={ENTRY_LIST_HEIGHT}
          rowKey={i => dids[i].did}
          renderRow={renderRow}
          ariaLabel={trans.__('Entries of %1', collection.name)}
          className="jp-SrcStage-entries"
          testid="srcstage-entries"
        />
      )}
      <StagePanel model={model} collection={collection} />
    </div>
  );
}
