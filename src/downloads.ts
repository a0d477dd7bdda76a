/**
 * Downloads of staged files (the server's download mode): `GET /srcstage/downloads`,
 * polled with a Lumino `Poll` only while a download runs, so the job cards can show it.
 *
 * A download runs inside a paths request on the server: one the sidebar makes (copy paths),
 * or one a kernel makes (`job.paths()`, e.g. from an inserted code cell), which the sidebar
 * learns of from the jobs listing (`downloading` on a job).
 */
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import type { SrcStageAPI } from './api';

export interface IDownload {
  did: string;
  running: boolean;
  files_total: number;
  files_done: number;
  bytes_total: number;
  bytes_done: number;
  /** Of `bytes_done`: found intact on disk, not fetched. */
  bytes_reused: number;
  reused: number;
  refetched: number;
  /** File DID → why it could not be downloaded. */
  failed: Record<string, string>;
  folder: string;
}

export interface IDownloads {
  downloads: IDownload[];
}

/** Between two reads while a download runs (ms). */
export const DOWNLOAD_POLL_MS = 1000;

export class DownloadsModel implements IDisposable {
  constructor(
    private readonly _api: SrcStageAPI,
    private readonly _onChange: () => void,
    intervalMs = DOWNLOAD_POLL_MS
  ) {
    this._poll = new Poll({
      auto: false,
      factory: () => this._tick(),
      frequency: { interval: intervalMs, backoff: true, max: 10 * intervalMs },
      name: 'srcstage-jlab:downloads'
    });
  }

  /** The latest download of `did` seen here (running, or how it ended). */
  get(did: string): IDownload | undefined {
    return this._downloads.get(did);
  }

  /** Whether the poll runs now (tests, and the one-poll-only-while-running promise). */
  get polling(): boolean {
    const phase = this._poll.state.phase;
    return (
      phase !== 'constructed' && phase !== 'stopped' && !this._poll.isDisposed
    );
  }

  /** Start reading (again): a download is said to run. Reads stop once none runs. */
  watch(): void {
    if (!this._poll.isDisposed && !this.polling) {
      void this._poll.start();
    }
  }

  /** Follow the downloads while `request` (a paths request of the sidebar's) lasts. */
  async track<T>(request: Promise<T>): Promise<T> {
    this._pending++;
    this.watch();
    try {
      return await request;
    } finally {
      this._pending--;
      await this._read(); // its end: the counts it finished with
    }
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  dispose(): void {
    this._poll.dispose();
  }

  private async _tick(): Promise<void> {
    await this._read();
    if (!this._pending && ![...this._downloads.values()].some(d => d.running)) {
      // After this tick has settled: the poll then stops instead of scheduling the next.
      setTimeout(() => {
        if (!this._pending && !this._poll.isDisposed) {
          void this._poll.stop();
        }
      }, 0);
    }
  }

  private async _read(): Promise<void> {
    const answer = await this._api.request<IDownloads>('downloads');
    this._downloads = new Map(
      (answer?.downloads ?? []).map(d => [d.did, d] as [string, IDownload])
    );
    this._onChange();
  }

  private _poll: Poll;
  private _pending = 0;
  private _downloads = new Map<string, IDownload>();
}
