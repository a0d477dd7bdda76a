import * as React from 'react';
import { Button, ErrorBox, Loading, useModel } from '../components/common';
import { trans } from '../i18n';
import type { SrcStageModel } from '../model';
import type { IJob, JobFileState, JobPhase } from '../tokens';
import { formatBytes, formatCount, formatDuration, fraction } from '../units';

/**
 * The staging jobs as one wide table: state, progress, destination, time
 * left; a row opens to show where each of its files is now.
 */
export function JobsTable(props: { model: SrcStageModel }): JSX.Element {
  const { model } = props;
  useModel(model, ['jobs', 'jobFiles']); // a row's file list opens, closes and updates
  const jobs = model.jobs;
  const now = Date.now();
  return (
    <section
      className="jp-SrcStage-tableBox jp-SrcStage-jobsBox"
      aria-label={trans.__('Staging jobs')}
      data-testid="srcstage-view-jobs"
    >
      <div className="jp-SrcStage-tableBar">
        <h3 className="jp-SrcStage-tableTitle">{trans.__('Staging jobs')}</h3>
        <span className="jp-SrcStage-tableCount">
          {trans._n('%1 job', '%1 jobs', jobs.length)}
        </span>
      </div>
      <div
        className="jp-SrcStage-jobsScroll"
        role="region"
        aria-label={trans.__('Staging jobs, scrollable')}
        tabIndex={0}
      >
        <table className="jp-SrcStage-jobsTable">
          <thead>
            <tr>
              <th scope="col">{trans.__('Collection or DID')}</th>
              <th scope="col">{trans.__('State')}</th>
              <th scope="col">{trans.__('Files')}</th>
              <th scope="col">{trans.__('Bytes')}</th>
              <th scope="col">{trans.__('Destination')}</th>
              <th scope="col">{trans.__('Lifetime left')}</th>
            </tr>
          </thead>
          <tbody>
            {jobs.length === 0 ? (
              <tr>
                <td colSpan={6} className="jp-SrcStage-dim">
                  {trans.__('No staging job yet.')}
                </td>
              </tr>
            ) : (
              jobs.map(job => (
                <JobRows key={job.id} model={model} job={job} now={now} />
              ))
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function JobRows(props: {
  model: SrcStageModel;
  job: IJob;
  now: number;
}): JSX.Element {
  const { model, job, now } = props;
  const open = model.jobFiles.has(job.id);
  const filesId = `jp-SrcStage-jobFiles-${job.id}`;
  const p = job.progress ?? {};
  const files = fraction(p.files_done, p.files_total);
  const bytes = fraction(p.bytes_done, p.bytes_total);
  const left = job.expires_at
    ? Math.round((new Date(job.expires_at).getTime() - now) / 1000)
    : null;
  const toggle = () =>
    open ? model.hideJobFiles(job.id) : void model.showJobFiles(job.id);
  return (
    <>
      <tr data-job-id={job.id} data-phase={job.phase}>
        <th scope="row" className="jp-SrcStage-gridName">
          {job.collection_name || job.did}
          {job.collection_name ? (
            <div className="jp-SrcStage-dim">{job.did}</div>
          ) : null}
          <button
            type="button"
            className="jp-SrcStage-disclosure"
            aria-expanded={open}
            aria-controls={open ? filesId : undefined}
            data-testid="srcstage-view-job-files-toggle"
            onClick={toggle}
          >
            {open ? trans.__('Hide files') : trans.__('Show files')}
          </button>
        </th>
        <td>
          <span className={`jp-SrcStage-jobState jp-mod-${job.phase}`}>
            {job.state}
          </span>
        </td>
        <td data-testid="srcstage-view-job-files">
          <Meter
            value={files}
            label={trans.__(
              '%1 of %2 files',
              formatCount(p.files_done),
              formatCount(p.files_total)
            )}
          />
        </td>
        <td>
          <Meter
            value={bytes}
            label={trans.__(
              '%1 of %2',
              formatBytes(p.bytes_done),
              formatBytes(p.bytes_total)
            )}
          />
        </td>
        <td>{job.destination?.name ?? '—'}</td>
        <td>
          {left === null
            ? '—'
            : left <= 0
              ? trans.__('expired')
              : formatDuration(left)}
        </td>
      </tr>
      {open ? (
        <tr className="jp-SrcStage-jobFilesRow">
          <td colSpan={6} id={filesId}>
            <JobFiles model={model} job={job} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

/** What a file's state means for this job: still to come while it runs, not staged after. */
function fileStateText(state: JobFileState, phase: JobPhase): string {
  const running = phase === 'active' || phase === 'unknown';
  switch (state) {
    case 'staged':
      return trans.__('At the destination');
    case 'on_tape':
      return running
        ? trans.__('Waiting: to be recalled from tape')
        : trans.__('Not staged: on tape only');
    default:
      return running
        ? trans.__('Waiting: to be copied from disk')
        : trans.__('Not staged: on disk elsewhere');
  }
}

/** Where each file of one job is now, from SRCNet's locate; read again as the job moves. */
function JobFiles(props: { model: SrcStageModel; job: IJob }): JSX.Element {
  const { model, job } = props;
  const state = model.jobFiles.get(job.id);
  const files = state?.value;
  const total = files
    ? files.counts.staged + files.counts.on_disk + files.counts.on_tape
    : 0;
  return (
    <div
      className="jp-SrcStage-jobFiles"
      data-testid="srcstage-view-job-file-list"
    >
      <div className="jp-SrcStage-jobFilesBar">
        {files ? (
          <span data-testid="srcstage-view-job-files-counts">
            {[
              trans._n(
                '%1 file at the destination',
                '%1 files at the destination',
                files.counts.staged
              ),
              trans._n(
                '%1 on disk elsewhere',
                '%1 on disk elsewhere',
                files.counts.on_disk
              ),
              trans._n('%1 on tape', '%1 on tape', files.counts.on_tape)
            ].join(' · ')}
          </span>
        ) : null}
        {state?.loading ? (
          <Loading>{trans.__('Locating the files…')}</Loading>
        ) : (
          <Button
            testid="srcstage-view-job-files-refresh"
            onClick={() => void model.showJobFiles(job.id)}
          >
            {trans.__('Locate again')}
          </Button>
        )}
      </div>
      <ErrorBox
        error={state?.error}
        title={trans.__('Could not locate the files')}
      />
      {files && files.files.length ? (
        <div
          className="jp-SrcStage-jobFilesScroll"
          role="region"
          aria-label={trans.__('Files of %1', job.collection_name || job.did)}
          tabIndex={0}
        >
          <table className="jp-SrcStage-jobsTable jp-SrcStage-filesTable">
            <thead>
              <tr>
                <th scope="col">{trans.__('File')}</th>
                <th scope="col">{trans.__('Where now')}</th>
                <th scope="col">{trans.__('Copies at')}</th>
              </tr>
            </thead>
            <tbody>
              {files.files.map(f => (
                <tr
                  key={f.name}
                  data-testid="srcstage-view-job-file"
                  data-state={f.state}
                >
                  <th scope="row" className="jp-SrcStage-gridName">
                    {f.did ?? f.name}
                  </th>
                  <td>
                    <span className={`jp-SrcStage-fileState jp-mod-${f.state}`}>
                      {fileStateText(f.state, job.phase)}
                    </span>
                  </td>
                  <td>{f.rses.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : files ? (
        <div className="jp-SrcStage-dim">
          {trans.__('SRCNet locates no replica of this job’s files.')}
        </div>
      ) : null}
      {files?.truncated ? (
        <div className="jp-SrcStage-dim">
          {trans.__(
            'The first %1 of %2 files, those not at the destination first.',
            formatCount(files.files.length),
            formatCount(total)
          )}
        </div>
      ) : null}
      {files?.not_located ? (
        <div className="jp-SrcStage-dim">
          {trans._n(
            '%1 more DID not located yet: it is located as the job moves.',
            '%1 more DIDs not located yet: they are located as the job moves.',
            files.not_located
          )}
        </div>
      ) : null}
    </div>
  );
}

/** A progress bar with its text; the text is what a screen reader reads. */
function Meter(props: { value: number | null; label: string }): JSX.Element {
  return (
    <div className="jp-SrcStage-meter">
      {props.value !== null ? (
        <progress
          max={1}
          value={props.value}
          aria-label={props.label}
          className="jp-SrcStage-meterBar"
        />
      ) : null}
      <span className="jp-SrcStage-meterText">{props.label}</span>
    </div>
  );
}
