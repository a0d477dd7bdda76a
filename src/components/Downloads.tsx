/**
 * A job's download on its card (download mode): files and bytes while it runs, then what it
 * did (reused, fetched again, failed). Read from `model.downloads`, which polls only meanwhile.
 */
import * as React from 'react';
import type { IDownload } from '../downloads';
import { trans } from '../i18n';
import type { SrcStageModel } from '../model';
import type { IJob } from '../tokens';
import { formatBytes, formatCount } from '../units';
import { Progress, useModel } from './common';

export function JobDownload(props: {
  model: SrcStageModel;
  job: IJob;
}): JSX.Element | null {
  const { model, job } = props;
  useModel(model, ['downloads']);
  const download = model.downloads.get(job.did);
  if (!download) {
    return null;
  }
  const failed = Object.entries(download.failed ?? {});
  return (
    <div
      className="jp-SrcStage-download"
      data-testid="srcstage-job-download"
      data-running={download.running ? 'true' : 'false'}
    >
      <div
        className="jp-SrcStage-dim jp-SrcStage-jobMeta jp-SrcStage-downloadFolder"
        title={download.folder}
      >
        {download.running
          ? trans.__('Downloading to %1', download.folder)
          : trans.__('Downloaded to %1', download.folder)}
      </div>
      <Progress
        label={trans.__('Files')}
        what={trans.__('Files downloaded')}
        done={download.files_done}
        total={download.files_total}
        format={formatCount}
        testid="srcstage-download-files"
      />
      <Progress
        label={trans.__('Bytes')}
        what={trans.__('Bytes downloaded')}
        done={download.bytes_done}
        total={download.bytes_total}
        format={formatBytes}
        testid="srcstage-download-bytes"
      />
      {!download.running && (
        <div
          className="jp-SrcStage-dim jp-SrcStage-jobMeta"
          data-testid="srcstage-download-summary"
          title={failed.map(([did, why]) => `${did}: ${why}`).join('\n')}
        >
          {summary(download)}
        </div>
      )}
    </div>
  );
}

/** "2 reused · 1 fetched again · 0 failed" */
export function summary(download: IDownload): string {
  return [
    trans.__('%1 reused', formatCount(download.reused)),
    trans.__('%1 fetched again', formatCount(download.refetched)),
    trans.__(
      '%1 failed',
      formatCount(Object.keys(download.failed ?? {}).length)
    )
  ].join(' · ');
}

/** The one line that says why staged files cannot be read on this server (from `/config`). */
export function ReadFilesWhy(props: {
  model: SrcStageModel;
}): JSX.Element | null {
  useModel(props.model, ['config']);
  const read = props.model.readFiles;
  if (read.available !== false || !read.why) {
    return null;
  }
  return (
    <div className="jp-SrcStage-hint" data-testid="srcstage-read-files-why">
      {read.why}
    </div>
  );
}
