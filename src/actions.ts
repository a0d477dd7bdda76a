/**
 * Using staged data: paths to the clipboard, a code cell in a notebook.
 */
import { Clipboard, Notification } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { SrcStageError, toSrcStageError } from './api';
import type { SrcStageModel } from './model';
import type { IJob, IPaths } from './tokens';
import { trans } from './i18n';

/** A Python string literal for any text (JSON strings are valid Python). */
export function pyString(text: string): string {
  return JSON.stringify(text);
}

/** Python code that opens a staged job's files with the kernel API. */
export function jobCode(
  job: Pick<IJob, 'id' | 'did' | 'collection_name'>
): string {
  const label = (job.collection_name || job.did || '').replace(/\s+/g, ' ');
  return [
    'import srcstage_jlab as srcstage',
    '',
    `# ${label ? `${label}: ` : ''}staged by job ${job.id.replace(/\s+/g, ' ')}`,
    `job = srcstage.job(${pyString(job.id)})`,
    'paths = job.paths()',
    'print(len(paths), "files staged, e.g.", paths[0] if paths else None)'
  ].join('\n');
}

/** The text put on the clipboard: one path per line. */
export function pathsText(paths: IPaths): string {
  return paths.paths.map(p => p.path).join('\n');
}

/** Copy a job's local paths; tells the user how it went. */
export async function copyJobPaths(
  model: SrcStageModel,
  job: IJob
): Promise<void> {
  let paths: IPaths;
  try {
    paths = await model.jobPaths(job.id);
  } catch (e) {
    const error = toSrcStageError(e);
    Notification.error(
      trans.__('Could not get the paths: %1', errorText(error)),
      {
        autoClose: false
      }
    );
    return;
  }
  if (!paths.paths.length) {
    Notification.warning(
      trans.__('This job has no file paths on this server yet.'),
      {
        autoClose: 5000
      }
    );
    return;
  }
  Clipboard.copyToSystem(pathsText(paths));
  const missing = paths.missing
    ? ' ' +
      trans._n(
        '%1 file is not visible on this server yet.',
        '%1 files are not visible on this server yet.',
        paths.missing
      )
    : '';
  Notification.success(
    trans._n(
      'Copied %1 path to the clipboard.',
      'Copied %1 paths to the clipboard.',
      paths.paths.length
    ) + missing,
    { autoClose: 4000 }
  );
}

/** Insert a code cell that opens the job's files, below the active cell. */
export function insertJobCode(
  tracker: INotebookTracker | null,
  job: IJob
): boolean {
  const panel = tracker?.currentWidget;
  if (!panel) {
    Notification.warning(
      trans.__('Open a notebook first, then insert the code.'),
      {
        autoClose: 5000
      }
    );
    return false;
  }
  const notebook = panel.content;
  NotebookActions.insertBelow(notebook);
  const cell = notebook.activeCell;
  if (!cell) {
    return false;
  }
  if (cell.model.type !== 'code') {
    NotebookActions.changeCellType(notebook, 'code');
  }
  notebook.activeCell?.model.sharedModel.setSource(jobCode(job));
  return true;
}

/** One line for a notification: message, then the SRCNet detail. */
export function errorText(error: SrcStageError): string {
  const detail = error.detailLines.join('; ');
  return detail ? `${error.message} (SRCNet: ${detail})` : error.message;
}
