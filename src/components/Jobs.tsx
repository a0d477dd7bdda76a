import { Dialog, InputDialog, showDialog } from '@jupyterlab/apputils';
import {
  addBelowIcon,
  closeIcon,
  copyIcon,
  listIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';
import { SrcStageError } from '../api';
import type { SrcStageModel } from '../model';
import type { IJob } from '../tokens';
import { formatBytes, formatCount, formatDate } from '../units';
import {
  BreakableText,
  Button,
  Empty,
  ErrorBox,
  Loading,
  MiddleText,
  Progress,
  Section,
  useAction,
  useModel
} from './common';
import { JobDownload, ReadFilesWhy } from './Downloads';
import { trans } from '../i18n';

export interface IJobActions {
  copyPaths: (job: IJob) => Promise<void>;
  insertCode: (job: IJob) => Promise<void>;
  /** Open the wide view with the job's files listed (where each one is now). */
  showFiles: (job: IJob) => Promise<void>;
}

/** Staging jobs tracked by this server, newest first. */
export function JobsSection(props: {
  model: SrcStageModel;
  actions: IJobActions;
}): JSX.Element {
  const { model, actions } = props;
  useModel(model, ['jobs', 'busy', 'config']);
  const jobs = model.jobs;
  const active = jobs.filter(j => j.phase === 'active').length;
  return (
    <Section
      id="jobs"
      title={trans.__('Jobs')}
      badge={
        model.jobsLoaded
          ? active
            ? trans.__('%1 active', active)
            : formatCount(jobs.length)
          : undefined
      }
      tools={
        <Button
          kind="icon"
          icon={refreshIcon}
          aria-label={trans.__('Refresh the jobs')}
          testid="srcstage-jobs-refresh"
          onClick={() => void model.refreshJobs()}
        />
      }
    >
      <ErrorBox
        error={model.jobsError}
        title={trans.__('Could not refresh the jobs')}
        testid="srcstage-jobs-error"
      />
      <ReadFilesWhy model={model} />
      {!model.jobsLoaded && !model.jobsError ? (
        <Loading />
      ) : jobs.length === 0 ? (
        <Empty testid="srcstage-jobs-empty">
          {trans.__('No staging job yet. Stage a collection to start one.')}
        </Empty>
      ) : (
        <ul className="jp-SrcStage-jobs" data-testid="srcstage-jobs">
          {jobs.map(job => (
            <JobItem key={job.id} model={model} job={job} actions={actions} />
          ))}
        </ul>
      )}
    </Section>
  );
}

function JobItem(props: {
  model: SrcStageModel;
  job: IJob;
  actions: IJobActions;
}): JSX.Element {
  const { model, job, actions } = props;
  const [error, run] = useAction();
  const p = job.progress ?? {};
  const title = job.collection_name || job.did;
  const completed = job.phase === 'completed';
  const holdsCopy = completed || job.phase === 'active';
  const extend = model.jobAction('extend');
  const release = model.jobAction('release');
  const busy = model.isBusy(`job:${job.id}`);
  // A DM that does not serve extend/release: the buttons are hidden, one line says why.
  const notServed = [extend, release].filter(a => a.available === false);

  const waiting = job.phase === 'active' && !p.files_total;
  const expired =
    !!job.expires_at && new Date(job.expires_at).getTime() < Date.now();
  return (
    <li
      className={`jp-SrcStage-job jp-mod-${job.phase}`}
      data-testid="srcstage-job"
      data-job-id={job.id}
      data-phase={job.phase}
      tabIndex={-1}
      aria-label={trans.__(
        'Staging job of %1 (%2): %3',
        title,
        job.did,
        job.state
      )}
    >
      <div className="jp-SrcStage-jobHeader">
        <span
          className="jp-SrcStage-jobTitle"
          title={title === job.did ? job.did : `${title}\n${job.did}`}
        >
          {title}
        </span>
        <span
          className={`jp-SrcStage-state jp-mod-${job.phase}`}
          data-testid="srcstage-job-state"
          title={trans.__('phase: %1', job.phase)}
        >
          {job.state}
        </span>
      </div>
      <div className="jp-SrcStage-dim jp-SrcStage-jobMeta jp-SrcStage-jobDid">
        <MiddleText
          className="jp-SrcStage-jobDidName"
          text={job.did}
          title={trans.__('Collection DID %1, job %2', job.did, job.id)}
          dimPrefix={job.did.includes(':') ? job.did.split(':')[0] + ':' : ''}
        />
      </div>
      <Progress
        waiting={waiting}
        label={trans.__('Files')}
        done={p.files_done}
        total={p.files_total}
        format={formatCount}
        testid="srcstage-job-files"
      />
      {!waiting && (
        <Progress
          label={trans.__('Bytes')}
          done={p.bytes_done}
          total={p.bytes_total}
          format={formatBytes}
          testid="srcstage-job-bytes"
        />
      )}
      <div className="jp-SrcStage-dim jp-SrcStage-jobMeta">
        {job.destination?.name ? (
          <span className="jp-SrcStage-jobDest">
            {trans.__('To')}{' '}
            <BreakableText text={job.destination.name} separators="_-" /> ·{' '}
          </span>
        ) : null}
        {trans.__('Started %1', formatDate(job.created_at))} ·{' '}
        {expired
          ? trans.__('expired %1', formatDate(job.expires_at))
          : trans.__('kept until %1', formatDate(job.expires_at))}
      </div>
      {completed && <JobDownload model={model} job={job} />}
      {job.phase === 'unknown' && (
        <div className="jp-SrcStage-hint">
          {trans.__(
            'SRCNet reports a state this sidebar does not know; it is shown as is.'
          )}
        </div>
      )}
      {job.notice && (
        <div className="jp-SrcStage-hint" data-testid="srcstage-job-notice">
          {job.notice}
        </div>
      )}
      {job.error && (
        <ErrorBox
          error={new SrcStageError(job.error)}
          title={trans.__('Staging failed')}
          testid="srcstage-job-error"
        />
      )}
      <ErrorBox error={error} />
      {holdsCopy && notServed.length > 0 && (
        <div
          className="jp-SrcStage-hint"
          data-testid="srcstage-job-actions-why"
          title={notServed.map(a => a.why).join('\n')}
        >
          {notServed.length === 2
            ? trans.__(
                'Extend and release: this Data Management API does not serve them.'
              )
            : notServed[0].why}
        </div>
      )}
      <div className="jp-SrcStage-actions">
        {completed && (
          <>
            <Button
              icon={copyIcon}
              testid="srcstage-copy-paths"
              onClick={() => void actions.copyPaths(job)}
            >
              {trans.__('Copy paths')}
            </Button>
            <Button
              icon={addBelowIcon}
              testid="srcstage-insert-code"
              onClick={() => void actions.insertCode(job)}
            >
              {trans.__('Insert code cell')}
            </Button>
          </>
        )}
        <Button
          icon={listIcon}
          testid="srcstage-job-show-files"
          title={trans.__(
            'Where each file of this job is now, in the wide view'
          )}
          onClick={() => void actions.showFiles(job)}
        >
          {trans.__('Files')}
        </Button>
        {holdsCopy && extend.available !== false && (
          <Button
            testid="srcstage-job-extend"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                const answer = await InputDialog.getText({
                  title: trans.__('Keep the staged copy longer'),
                  label: trans.__(
                    'New lifetime of %1, from now (e.g. 14d, 36h)',
                    title
                  ),
                  text: '14d',
                  okLabel: trans.__('Extend')
                });
                const lifetime = answer.value?.trim();
                if (answer.button.accept && lifetime) {
                  await model.extendJob(job.id, lifetime);
                }
              })
            }
          >
            {trans.__('Extend…')}
          </Button>
        )}
        {holdsCopy && release.available !== false && (
          <Button
            testid="srcstage-job-release"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                const answer = await showDialog({
                  title: trans.__('Release the staged copy?'),
                  body: trans.__(
                    'The staged files of %1 may be removed from %2 soon after. The data stays where it came from.',
                    title,
                    job.destination?.name ?? trans.__('the destination')
                  ),
                  buttons: [
                    Dialog.cancelButton(),
                    Dialog.warnButton({ label: trans.__('Release') })
                  ]
                });
                if (answer.button.accept) {
                  await model.releaseJob(job.id);
                }
              })
            }
          >
            {trans.__('Release')}
          </Button>
        )}
        {job.phase === 'failed' && !job.retried_by && (
          <Button
            icon={refreshIcon}
            testid="srcstage-job-retry"
            disabled={busy}
            onClick={() => void run(() => model.retryJob(job.id))}
          >
            {trans.__('Retry')}
          </Button>
        )}
        <span className="jp-SrcStage-spacer" />
        <Button
          kind="icon"
          icon={closeIcon}
          aria-label={trans.__('Stop tracking this job here (SRCNet keeps it)')}
          testid="srcstage-job-forget"
          disabled={model.isBusy(`job:${job.id}`)}
          onClick={() => void run(() => model.forgetJob(job.id))}
        />
      </div>
    </li>
  );
}
