import * as React from 'react';
import { act } from 'react';
import { JobsSection } from '../components/Jobs';
import { SrcStageModel } from '../model';
import { FakeServer, job } from './fake';
import { mount, NO_ACTIONS } from './mount';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const MB = 1000 * 1000;
const WHY =
  "Staged files cannot be read on this server: it has no mount of SANDBOX_LOCAL, and this Data Management API does not serve the download route (no route: set to '' in c.SrcStage.dm_routes).";

function download(running: boolean, filesDone: number, bytesDone: number) {
  return {
    did: 'user.demo:j1',
    running,
    files_total: 2,
    files_done: filesDone,
    bytes_total: 4 * MB,
    bytes_done: bytesDone,
    bytes_reused: 0,
    reused: running ? 0 : 1,
    refetched: running ? 0 : 1,
    failed: {},
    folder: '/home/demo/srcnet-downloads'
  };
}

function server(readFiles: unknown, downloading: boolean): FakeServer {
  return new FakeServer()
    .on('GET', 'config', { capabilities: { read_files: readFiles } })
    .on('GET', 'jobs', {
      jobs: [job('j1', 'completed', 'COMPLETED', { downloading })]
    })
    .sequence('GET', 'downloads', [
      { downloads: [download(true, 1, 1 * MB)] },
      { downloads: [download(false, 2, 4 * MB)] }
    ]);
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) {
      throw new Error('timed out');
    }
    await act(() => new Promise(resolve => setTimeout(resolve, 50)));
  }
}

describe('the download bar on a job card', () => {
  let host: HTMLDivElement;
  let unmount: () => void;
  let model: SrcStageModel;

  async function render(fake: FakeServer): Promise<void> {
    model = new SrcStageModel({ api: fake.api(), autoPoll: false });
    await act(async () => {
      await Promise.all([model.refreshConfig(), model.refreshJobs()]);
    });
    ({ host, unmount } = await mount(
      <JobsSection model={model} actions={NO_ACTIONS} />
    ));
  }

  afterEach(() => {
    unmount();
    model.dispose();
  });

  const q = (testid: string) =>
    host.querySelector(`[data-testid="${testid}"]`) as HTMLElement | null;

  it('follows a download a kernel started, then shows its counts and stops polling', async () => {
    const fake = server({ mode: 'download', available: true, why: null }, true);
    await render(fake);
    await until(() => !!q('srcstage-job-download'));
    const bar = q('srcstage-job-download')!;
    expect(bar.dataset.running).toBe('true');
    expect(bar.textContent).toContain(
      'Downloading to /home/demo/srcnet-downloads'
    );
    expect(q('srcstage-download-files')!.textContent).toContain('1 of 2');
    expect(q('srcstage-download-bytes')!.textContent).toContain('1 MB of 4 MB');
    const fill = q('srcstage-download-bytes')!.querySelector(
      '[role="progressbar"]'
    )!;
    expect(fill.getAttribute('aria-valuenow')).toBe('25');

    await until(() => q('srcstage-job-download')?.dataset.running === 'false');
    expect(q('srcstage-download-summary')!.textContent).toBe(
      '1 reused · 1 fetched again · 0 failed'
    );
    await until(() => !model.downloads.polling);
    const reads = fake.count('GET', 'downloads');
    await act(() => new Promise(resolve => setTimeout(resolve, 1500)));
    expect(fake.count('GET', 'downloads')).toBe(reads); // nothing runs: no more reads
    expect(q('srcstage-read-files-why')).toBeNull();
  });

  it('reads nothing while no download runs, and says why files cannot be read here', async () => {
    const fake = server(
      { mode: 'download', available: false, why: WHY },
      false
    );
    await render(fake);
    expect(q('srcstage-read-files-why')!.textContent).toBe(WHY);
    await act(() => new Promise(resolve => setTimeout(resolve, 300)));
    expect(fake.count('GET', 'downloads')).toBe(0);
    expect(q('srcstage-job-download')).toBeNull();
  });
});
