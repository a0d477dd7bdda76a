import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';
import { SrcStageError } from '../api';
import type { SrcStageModel } from '../model';
import type {
  ICollection,
  IJob,
  IPrecheck,
  IQuota,
  ISubmitResult
} from '../tokens';
import {
  formatBytes,
  formatCount,
  formatDate,
  formatDuration,
  ILifetime,
  LIFETIME_UNITS,
  LifetimeUnit,
  lifetimeProblem,
  lifetimeToSeconds,
  secondsToLifetime
} from '../units';
import {
  BreakableText,
  Button,
  ErrorBox,
  ProblemText,
  focusSoon,
  ShortId,
  useModel
} from './common';
import { trans } from '../i18n';

export interface IStagePanelProps {
  model: SrcStageModel;
  collection: ICollection;
}

/** Submit the collection as a DID, and stage it to the destination. */
export function StagePanel(props: IStagePanelProps): JSX.Element {
  const { model, collection } = props;
  const [namespace, setNamespace] = React.useState<string | null>(null);
  const [lifetime, setLifetime] = React.useState<ILifetime | null>(null);
  const [error, setError] = React.useState<SrcStageError | null>(null);
  const [submitted, setSubmitted] = React.useState<ISubmitResult | null>(null);
  const [job, setJob] = React.useState<IJob | null>(null);
  useModel(model, ['jobs']);
  const busy = model.isBusy(`collection:${collection.id}`);
  // The "Staging requested" note only while its job is still on its way.
  const tracked = job ? model.jobs.find(j => j.id === job.id) : undefined;
  const jobNote = job && (!tracked || tracked.phase === 'active') ? job : null;

  // Until the user edits them, follow the defaults (they arrive with /config).
  const ns = namespace ?? model.defaultNamespace;
  const life = lifetime ?? secondsToLifetime(model.defaultLifetimeS);
  const seconds = lifetimeToSeconds(life);
  const maxS = model.maxLifetimeS;
  const problem = lifetimeProblem(seconds, maxS);
  const empty = collection.dids.length === 0;
  // Where the DM serves no collection routes, Stage makes the parent DID; Submit alone cannot.
  const submitOnly = model.config?.capabilities?.submit_only;
  const submitUnavailable =
    submitOnly && !submitOnly.available
      ? submitOnly.why || trans.__('unavailable')
      : null;
  const nsListId = `jp-SrcStage-owned-${collection.id}`;

  const doSubmit = async () => {
    setError(null);
    setJob(null);
    try {
      setSubmitted(await model.submit(collection.id, ns || undefined));
    } catch (e) {
      setError(e as SrcStageError);
    }
  };

  const doStage = async () => {
    setError(null);
    setJob(null);
    let precheck: IPrecheck;
    try {
      precheck = await model.precheck(collection.id, seconds);
    } catch (e) {
      setError(e as SrcStageError);
      return;
    }
    const answer = await showDialog({
      title: precheck.ok
        ? trans.__('Stage “%1”?', collection.name)
        : trans.__('“%1” cannot be staged', collection.name),
      body: (
        <PrecheckSummary
          precheck={precheck}
          collection={collection}
          namespace={ns}
        />
      ),
      buttons: precheck.ok
        ? [Dialog.cancelButton(), Dialog.okButton({ label: trans.__('Stage') })]
        : [Dialog.cancelButton({ label: trans.__('Close') })]
    });
    if (!precheck.ok || !answer.button.accept) {
      return;
    }
    try {
      const started = await model.stage(
        collection.id,
        seconds,
        ns || undefined
      );
      setJob(started);
      // Focus goes to what the user started: its card under Jobs.
      focusSoon(`[data-job-id="${CSS.escape(started.id)}"]`);
    } catch (e) {
      setError(e as SrcStageError);
    }
  };

  return (
    <div className="jp-SrcStage-stage" data-testid="srcstage-stage-panel">
      <div className="jp-SrcStage-subheading">
        {trans.__('Submit and stage')}
      </div>
      <label className="jp-SrcStage-field">
        <span>{trans.__('Namespace of the collection DID')}</span>
        <input
          className="jp-SrcStage-input"
          list={nsListId}
          value={ns}
          placeholder={trans.__('e.g. user.demo')}
          data-testid="srcstage-submit-namespace"
          onChange={e => setNamespace(e.target.value)}
        />
        <datalist id={nsListId}>
          {model.ownedNamespaces.map(o => (
            <option key={o} value={o} />
          ))}
        </datalist>
      </label>
      <div className="jp-SrcStage-field">
        <label htmlFor={`jp-SrcStage-lifetime-${collection.id}`}>
          {trans.__('Keep the staged copy for')}
        </label>
        <div className="jp-SrcStage-row">
          <input
            id={`jp-SrcStage-lifetime-${collection.id}`}
            className="jp-SrcStage-input jp-SrcStage-number"
            type="number"
            min={0}
            step="any"
            value={isNaN(life.value) ? '' : life.value}
            aria-invalid={!!problem}
            data-testid="srcstage-lifetime-value"
            onChange={e =>
              setLifetime({
                value: parseFloat(e.target.value),
                unit: life.unit
              })
            }
          />
          <select
            className="jp-SrcStage-select"
            value={life.unit}
            aria-label={trans.__('Unit of the lifetime')}
            data-testid="srcstage-lifetime-unit"
            onChange={e =>
              setLifetime({
                value: life.value,
                unit: e.target.value as LifetimeUnit
              })
            }
          >
            {LIFETIME_UNITS.map(u => (
              <option key={u} value={u}>
                {u}
              </option>
            ))}
          </select>
        </div>
        <div
          className={`jp-SrcStage-fieldHint ${problem ? 'jp-SrcStage-warning' : 'jp-SrcStage-hint'}`}
          data-testid="srcstage-lifetime-hint"
        >
          {problem ??
            (maxS
              ? trans.__(
                  'Default %1, at most %2.',
                  formatDuration(model.defaultLifetimeS),
                  formatDuration(maxS)
                )
              : trans.__(
                  'Default %1.',
                  formatDuration(model.defaultLifetimeS)
                ))}
        </div>
      </div>
      <div className="jp-SrcStage-actions">
        <Button
          testid="srcstage-submit"
          disabled={busy || empty || !!submitUnavailable}
          onClick={() => void doSubmit()}
          title={
            submitUnavailable ||
            trans.__("Create the collection's DID in SRCNet without staging it")
          }
        >
          {trans.__('Submit')}
        </Button>
        <Button
          kind="primary"
          testid="srcstage-stage"
          disabled={busy || empty || !!problem}
          onClick={() => void doStage()}
          title={trans.__(
            'Check, then stage the collection to the destination'
          )}
        >
          {busy ? trans.__('Working…') : trans.__('Stage…')}
        </Button>
      </div>
      {submitted && !error && (
        <div
          className="jp-SrcStage-success"
          data-testid="srcstage-submit-result"
        >
          {submitted.created
            ? trans.__('Created')
            : trans.__('Already submitted as')}{' '}
          <code>
            <BreakableText text={submitted.did} separators=":/." />
          </code>
        </div>
      )}
      {jobNote && !error && (
        <div
          className="jp-SrcStage-success"
          data-testid="srcstage-stage-result"
        >
          {trans.__('Staging requested: job')} <ShortId id={jobNote.id} /> (
          {jobNote.state}). {trans.__('Follow it under Jobs.')}
        </div>
      )}
      <ErrorBox
        error={error}
        title={trans.__('The request was refused')}
        testid="srcstage-stage-error"
      >
        {error?.precheck && <ProblemList precheck={error.precheck} />}
      </ErrorBox>
    </div>
  );
}

/** "12 files (3.4 MB)", or "about 12 files" when estimated from a sample. */
function alreadyText(
  already: { files: number; bytes?: number | null },
  sampled: boolean
): string {
  const files = formatCount(already.files);
  const count = sampled
    ? trans._n('about %2 file', 'about %2 files', already.files, files)
    : trans._n('%2 file', '%2 files', already.files, files);
  return typeof already.bytes === 'number'
    ? trans.__('%1 (%2)', count, formatBytes(already.bytes))
    : count;
}

export interface IPrecheckSummaryProps {
  precheck: IPrecheck;
  collection: ICollection;
  namespace?: string;
}

/** What staging would do: the body of the confirmation dialog. */
export function PrecheckSummary(props: IPrecheckSummaryProps): JSX.Element {
  const { precheck: p, collection } = props;
  const already = p.already_at_destination;
  const dest = p.destination;
  return (
    <div className="jp-SrcStage-precheck" data-testid="srcstage-precheck">
      <dl className="jp-SrcStage-facts">
        <dt>{trans.__('Collection')}</dt>
        <dd>
          {collection.name}
          {p.did ? (
            <>
              {' '}
              {trans.__('as')}{' '}
              <code>
                <BreakableText text={p.did} separators=":/." />
              </code>
            </>
          ) : props.namespace ? (
            <span className="jp-SrcStage-dim">
              {' '}
              {p.stage_via === 'staging request' ? (
                <>
                  {trans.__(
                    '(one staging request; the DM makes its parent DID in'
                  )}{' '}
                  <code>{props.namespace}</code>)
                </>
              ) : (
                <>
                  {trans.__('(submitted into')} <code>{props.namespace}</code>{' '}
                  {trans.__('first)')}
                </>
              )}
            </span>
          ) : null}
        </dd>
        <dt>{trans.__('Files')}</dt>
        <dd data-testid="srcstage-precheck-files">{formatCount(p.files)}</dd>
        <dt>{trans.__('Size')}</dt>
        <dd data-testid="srcstage-precheck-bytes">{formatBytes(p.bytes)}</dd>
        <dt>{trans.__('Already there')}</dt>
        <dd data-testid="srcstage-precheck-already">
          {already
            ? alreadyText(already, !!p.sampled)
            : p.unknown_reason
              ? trans.__('unknown (%1)', p.unknown_reason)
              : trans.__('unknown')}
          {p.sampled && (
            <div
              className="jp-SrcStage-hint"
              data-testid="srcstage-precheck-sampled"
            >
              {trans.__(
                'Estimated from %1 of %2 files, spread over the collection.',
                formatCount(p.sampled.located),
                formatCount(p.sampled.of)
              )}
            </div>
          )}
        </dd>
        <dt>{trans.__('Now at')}</dt>
        <dd data-testid="srcstage-precheck-where">
          {p.where && p.where.length ? (
            <ul className="jp-SrcStage-whereList">
              {p.where.map(w => (
                <li key={w.rse}>
                  {w.rse}{' '}
                  <span className="jp-SrcStage-dim">
                    ·{' '}
                    {trans._n(
                      '%2 file',
                      '%2 files',
                      w.files,
                      formatCount(w.files)
                    )}
                    {w.tape ? ' · ' + trans.__('on tape') : ''}
                    {w.is_destination ? ' · ' + trans.__('here') : ''}
                  </span>
                </li>
              ))}
            </ul>
          ) : p.where ? (
            trans.__('no copy found')
          ) : (
            trans.__('unknown')
          )}
          {!!p.files_on_tape && (
            <div className="jp-SrcStage-hint" data-testid="srcstage-tape-hint">
              {trans._n(
                '%2 file is only on tape: the tape recall comes first, so staging takes longer.',
                '%2 files are only on tape: the tape recall comes first, so staging takes longer.',
                p.files_on_tape,
                formatCount(p.files_on_tape)
              )}
            </div>
          )}
        </dd>
        <dt>{trans.__('Your quota')}</dt>
        <dd data-testid="srcstage-precheck-quota">
          <QuotaLine quota={p.quota} />
        </dd>
        <dt>{trans.__('Destination')}</dt>
        <dd>
          {dest?.name ?? '—'}
          {dest?.site ? (
            <span className="jp-SrcStage-dim"> · {dest.site}</span>
          ) : null}
        </dd>
        <dt>{trans.__('Kept for')}</dt>
        <dd>{formatDuration(p.lifetime_s)}</dd>
        <dt>{trans.__('Until')}</dt>
        <dd data-testid="srcstage-precheck-expiry">
          {formatDate(p.expires_at)}
        </dd>
      </dl>
      <ProblemList precheck={p} />
    </div>
  );
}

function QuotaLine(props: { quota?: IQuota | null }): JSX.Element {
  const q = props.quota;
  if (!q || !q.served) {
    return <>{trans.__('unknown (SRCNet does not tell it here)')}</>;
  }
  return (
    <>
      {trans.__(
        '%1 of %2 used, %3 left',
        formatBytes(q.used),
        formatBytes(q.limit),
        formatBytes(Math.max(q.left ?? 0, 0))
      )}
      {q.fits === true && (
        <span className="jp-SrcStage-dim"> · {trans.__('fits')}</span>
      )}
      {q.fits === false && (
        <span className="jp-SrcStage-warning">
          {' '}
          · {trans.__('does not fit')}
        </span>
      )}
    </>
  );
}

function ProblemList(props: { precheck: IPrecheck }): JSX.Element | null {
  const problems = props.precheck.problems ?? [];
  if (!problems.length) {
    return null;
  }
  return (
    <div className="jp-SrcStage-problems" data-testid="srcstage-problems">
      <div className="jp-SrcStage-errorTitle">{trans.__('Problems')}</div>
      <ul>
        {problems.map((problem, i) => (
          <li key={i} data-code={problem.code}>
            <ProblemText problem={problem} />
          </li>
        ))}
      </ul>
    </div>
  );
}
