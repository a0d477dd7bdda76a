import * as React from 'react';
import { useModel } from '../components/common';
import { trans } from '../i18n';
import type { SrcStageModel } from '../model';
import type { IJob } from '../tokens';
import { formatBytes, formatCount, formatDuration, fraction } from '../units';

/** The staging jobs as one wide table: state, progress, destination, time left. */
export function JobsTable(props: { model: SrcStageModel }): JSX.Element {
  const { model } = props;
  useModel(model, ['jobs']);
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
              jobs.map(job => <JobRow key={job.id} job={job} now={now} />)
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function JobRow(props: { job: IJob; now: number }): JSX.Element {
  const { job, now } = props;
  const p = job.progress ?? {};
  const files = fraction(p.files_done, p.files_total);
  const bytes = fraction(p.bytes_done, p.bytes_total);
  const left = job.expires_at
    ? Math.round((new Date(job.expires_at).getTime() - now) / 1000)
    : null;
  return (
    <tr data-job-id={job.id} data-phase={job.phase}>
      <th scope="row" className="jp-SrcStage-gridName">
        {job.collection_name || job.did}
        {job.collection_name ? (
          <div className="jp-SrcStage-dim">{job.did}</div>
        ) : null}
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
