import { SrcStageError } from '../api';
import { PENDING_INTERVAL_MS, SrcStageModel } from '../model';
import type { IJob } from '../tokens';
import { collection, FakeServer, job } from './fake';

const CONFIG = {
  version: '0.1.0',
  default_lifetime_s: 7 * 86400,
  max_lifetime_s: 30 * 86400,
  collection_namespace: 'user.demo',
  poll_interval_s: 10
};

function baseServer(): FakeServer {
  return new FakeServer()
    .on('GET', 'config', CONFIG)
    .on('GET', 'session', { state: 'signed_out' })
    .on('GET', 'destination', {
      storage_area: { id: 'sa1', name: 'SANDBOX_LOCAL', active: true }
    })
    .on('GET', 'namespaces', {
      namespaces: ['ska-mid', 'user.demo'],
      owned: ['user.demo']
    })
    .on('GET', 'collections', { collections: [] })
    .on('GET', 'jobs', { jobs: [] });
}

function makeModel(server: FakeServer, options = {}): SrcStageModel {
  return new SrcStageModel({
    api: server.api(),
    autoPoll: false,
    isDocumentHidden: () => false,
    ...options
  });
}

describe('SrcStageModel: loading', () => {
  it('loads config, session, destination, namespaces, collections and jobs', async () => {
    const server = baseServer();
    const model = makeModel(server);
    const kinds: string[] = [];
    model.changed.connect((_, kind) => kinds.push(kind));
    await model.initialize();
    expect(model.config).toEqual(CONFIG);
    expect(model.session?.state).toBe('signed_out');
    expect(model.destination?.storage_area.name).toBe('SANDBOX_LOCAL');
    expect(model.namespaces).toEqual(['ska-mid', 'user.demo']);
    expect(model.search.namespace).toBe('user.demo');
    expect(model.collectionsLoaded).toBe(true);
    expect(model.jobsLoaded).toBe(true);
    expect(model.defaultNamespace).toBe('user.demo');
    expect(kinds).toEqual(
      expect.arrayContaining(['config', 'session', 'destination', 'jobs'])
    );
    model.dispose();
  });

  it('keeps each failure next to what failed', async () => {
    const server = baseServer().on('GET', 'destination', {
      status: 503,
      body: {
        message: 'No storage area is next to this server.',
        detail: 'no service of type jupyterhub with host x',
        code: 'no_destination',
        service: 'site-capabilities'
      }
    });
    const model = makeModel(server);
    await model.initialize();
    expect(model.destination).toBeNull();
    expect(model.destinationError?.code).toBe('no_destination');
    expect(model.destinationError?.detailLines).toEqual([
      'no service of type jupyterhub with host x'
    ]);
    expect(model.sessionError).toBeNull();
    expect(model.session?.state).toBe('signed_out');
    model.dispose();
  });
});

describe('SrcStageModel: session', () => {
  it('goes signed_out → pending → signed_in through the device flow', async () => {
    const device = {
      user_code: 'ABCD-EFGH',
      verification_uri: 'https://auth.example/device',
      verification_uri_complete: 'https://auth.example/device?code=ABCD-EFGH'
    };
    const server = baseServer()
      .on('POST', 'session/device', {
        status: 202,
        body: { state: 'pending', device }
      })
      .sequence('GET', 'session', [
        { state: 'signed_out' },
        { state: 'pending', device },
        {
          state: 'signed_in',
          user: { username: 'demo', name: 'Demo User' },
          source: 'device'
        }
      ]);
    const model = makeModel(server);
    await model.initialize();
    const states: string[] = [model.session!.state];
    model.changed.connect((_, kind) => {
      if (
        kind === 'session' &&
        model.session!.state !== states[states.length - 1]
      ) {
        states.push(model.session!.state);
      }
    });
    const idle = model.pollIntervalMs;
    expect(idle).toBe(10000);

    await model.signIn();
    expect(model.session?.state).toBe('pending');
    expect(model.session?.device?.user_code).toBe('ABCD-EFGH');
    expect(model.pollIntervalMs).toBe(PENDING_INTERVAL_MS);
    // While pending the panel may be hidden, the poll still watches.
    model.setVisible(false);
    expect(model.isStandby()).toBe(false);

    const namespacesBefore = server.count('GET', 'namespaces');
    await model.tick(); // still pending
    expect(model.session?.state).toBe('pending');
    await model.tick(); // approved
    expect(model.session?.state).toBe('signed_in');
    expect(model.session?.user?.username).toBe('demo');
    expect(states).toEqual(['signed_out', 'pending', 'signed_in']);
    expect(model.pollIntervalMs).toBe(idle);
    // A new identity reloads what it may see.
    await new Promise(r => setTimeout(r, 0));
    expect(server.count('GET', 'namespaces')).toBe(namespacesBefore + 1);
    // A signed-in session is not polled any more.
    const sessionCalls = server.count('GET', 'session');
    await model.tick();
    expect(server.count('GET', 'session')).toBe(sessionCalls);
    model.dispose();
  });

  it('shows a refused device flow as an error with the SRCNet detail', async () => {
    const server = baseServer().on('POST', 'session/device', {
      status: 502,
      body: {
        message: 'The SRCNet Auth API refused to start a sign-in.',
        detail: 'invalid_client',
        code: 'unavailable',
        service: 'auth'
      }
    });
    const model = makeModel(server);
    await model.initialize();
    await model.signIn();
    expect(model.session?.state).toBe('signed_out');
    expect(model.sessionError?.message).toBe(
      'The SRCNet Auth API refused to start a sign-in.'
    );
    expect(model.sessionError?.detailLines).toEqual(['invalid_client']);
    expect(model.isBusy('signin')).toBe(false);
    model.dispose();
  });

  it('signs out', async () => {
    const server = baseServer()
      .on('GET', 'session', { state: 'signed_in', user: { username: 'demo' } })
      .on('DELETE', 'session', { state: 'signed_out' });
    const model = makeModel(server);
    await model.initialize();
    expect(model.session?.state).toBe('signed_in');
    await model.signOut();
    expect(model.session?.state).toBe('signed_out');
    model.dispose();
  });
});

describe('SrcStageModel: jobs', () => {
  it('follows job phases and announces each end once', async () => {
    const server = baseServer().sequence('GET', 'jobs', [
      {
        jobs: [
          job('old', 'completed', 'COMPLETED'),
          job('j1', 'active', 'STAGING')
        ]
      },
      {
        jobs: [
          job('old', 'completed', 'COMPLETED'),
          job('j1', 'active', 'STAGING')
        ]
      },
      {
        jobs: [
          job('j2', 'failed', 'FAILED', {
            error: {
              message: 'Transfer failed',
              detail: 'checksum mismatch',
              code: 'error'
            }
          }),
          job('old', 'completed', 'COMPLETED'),
          job('j1', 'completed', 'COMPLETED')
        ]
      },
      {
        jobs: [
          job('j2', 'failed', 'FAILED'),
          job('old', 'completed', 'COMPLETED'),
          job('j1', 'completed', 'COMPLETED')
        ]
      }
    ]);
    const model = makeModel(server);
    const finished: IJob[] = [];
    model.jobFinished.connect((_, j) => finished.push(j));
    await model.initialize();
    // Jobs that had ended before we looked are not announced.
    expect(finished).toEqual([]);
    expect(model.hasActiveJobs).toBe(true);
    expect(model.pollIntervalMs).toBe(2500);

    await model.tick();
    expect(finished).toEqual([]);
    await model.tick();
    expect(finished.map(j => [j.id, j.phase])).toEqual([
      ['j2', 'failed'],
      ['j1', 'completed']
    ]);
    expect(model.hasActiveJobs).toBe(false);
    expect(model.pollIntervalMs).toBe(10000);
    await model.tick();
    expect(finished).toHaveLength(2);
    expect(model.jobs.map(j => j.state)).toEqual([
      'FAILED',
      'COMPLETED',
      'COMPLETED'
    ]);
    model.dispose();
  });

  it('treats an unknown state as still moving, never as completed', async () => {
    const server = baseServer().on('GET', 'jobs', {
      jobs: [job('j', 'unknown', 'WAITING_APPROVAL')]
    });
    const model = makeModel(server);
    const finished: IJob[] = [];
    model.jobFinished.connect((_, j) => finished.push(j));
    await model.initialize();
    await model.tick();
    expect(model.hasActiveJobs).toBe(true);
    expect(model.jobs[0].state).toBe('WAITING_APPROVAL');
    expect(finished).toEqual([]);
    model.dispose();
  });

  it('lets the poll back off while the jobs route fails', async () => {
    const server = baseServer().on('GET', 'jobs', {
      status: 500,
      body: { message: 'The job store is unreadable.', code: 'error' }
    });
    const model = makeModel(server);
    await model.initialize();
    expect(model.jobsError?.message).toBe('The job store is unreadable.');
    await expect(model.tick()).rejects.toBeInstanceOf(SrcStageError);
    model.dispose();
  });

  it('forgets a job', async () => {
    const server = baseServer()
      .on('GET', 'jobs', { jobs: [job('j', 'completed', 'COMPLETED')] })
      .on('DELETE', 'jobs/j', { status: 204 });
    const model = makeModel(server);
    await model.initialize();
    await model.forgetJob('j');
    expect(model.jobs).toEqual([]);
    model.dispose();
  });
});

describe('SrcStageModel: per-file states', () => {
  function filesAnswer(staged: number): any {
    return {
      job_id: 'j1',
      phase: 'active',
      destination: 'SANDBOX_LOCAL',
      counts: { on_tape: 0, on_disk: 4 - staged, staged },
      files: [],
      truncated: false,
      not_located: 0
    };
  }

  it('reads a shown job’s files again only when the job moved, and stops when hidden', async () => {
    const moving = { jobs: [job('j1', 'active', 'STAGING')] };
    const moved = {
      jobs: [
        job('j1', 'active', 'STAGING', {
          progress: { files_total: 4, files_done: 3 }
        })
      ]
    };
    let staged = 1;
    const server = baseServer()
      .sequence('GET', 'jobs', [moving, moving, moving, moved, moved])
      .on('GET', 'jobs/j1/files', () => ({ body: filesAnswer(staged) }));
    const model = makeModel(server);
    await model.initialize();
    await model.showJobFiles('j1');
    expect(model.jobFiles.get('j1')?.value?.counts.staged).toBe(1);
    const reads = () =>
      server.calls.filter(c => c.path === 'jobs/j1/files').length;
    await model.tick(); // the job has not moved: not read again
    expect(reads()).toBe(1);
    staged = 3;
    await model.tick();
    await model.tick();
    await new Promise(r => setTimeout(r, 0));
    expect(reads()).toBe(2); // moved once: read once
    expect(model.jobFiles.get('j1')?.value?.counts.staged).toBe(3);
    model.hideJobFiles('j1');
    expect(model.jobFiles.has('j1')).toBe(false);
    model.dispose();
  });

  it('keeps the last answer beside the error when a read fails', async () => {
    let fail = false;
    const server = baseServer()
      .on('GET', 'jobs', { jobs: [job('j1', 'active', 'STAGING')] })
      .on('GET', 'jobs/j1/files', () =>
        fail
          ? {
              status: 502,
              body: {
                message: 'SRCNet Data Management did not answer.',
                detail: 'locate timed out',
                code: 'upstream'
              }
            }
          : { body: filesAnswer(2) }
      );
    const model = makeModel(server);
    await model.initialize();
    await model.showJobFiles('j1');
    fail = true;
    await model.showJobFiles('j1');
    const state = model.jobFiles.get('j1');
    expect(state?.error?.detailLines).toEqual(['locate timed out']);
    expect(state?.value?.counts.staged).toBe(2);
    model.dispose();
  });
});

describe('SrcStageModel: polling', () => {
  it('rests when the tab is hidden, or the panel is hidden with nothing moving', async () => {
    let hidden = false;
    const server = baseServer();
    const model = makeModel(server, { isDocumentHidden: () => hidden });
    await model.initialize();
    model.setVisible(true);
    expect(model.isStandby()).toBe(false);
    model.setVisible(false);
    expect(model.isStandby()).toBe(true);
    server.on('GET', 'jobs', { jobs: [job('j', 'active', 'STAGING')] });
    await model.refreshJobs();
    // An active job keeps the poll going so that its end is announced.
    expect(model.isStandby()).toBe(false);
    hidden = true;
    expect(model.isStandby()).toBe(true);
    model.dispose();
  });

  it('drives a real Poll: no requests in standby, one at once when shown', async () => {
    jest.useFakeTimers();
    try {
      const server = baseServer();
      const model = new SrcStageModel({
        api: server.api(),
        isDocumentHidden: () => false,
        preferences: { pollIntervalS: 1 }
      });
      await model.initialize();
      model.setVisible(true);
      await jest.advanceTimersByTimeAsync(3500);
      const shown = server.count('GET', 'jobs');
      expect(shown).toBeGreaterThanOrEqual(3);

      model.setVisible(false);
      await jest.advanceTimersByTimeAsync(1100);
      const hiddenStart = server.count('GET', 'jobs');
      await jest.advanceTimersByTimeAsync(5000);
      expect(server.count('GET', 'jobs')).toBe(hiddenStart);
      expect(model.poll.state.phase).toBe('standby');

      model.setVisible(true);
      await jest.advanceTimersByTimeAsync(50);
      expect(server.count('GET', 'jobs')).toBe(hiddenStart + 1);
      model.dispose();
    } finally {
      jest.useRealTimers();
    }
  });

  it('takes the interval from the settings, then the server', async () => {
    const server = baseServer().on('GET', 'config', {
      ...CONFIG,
      poll_interval_s: 2
    });
    const model = makeModel(server);
    await model.initialize();
    // 0 in the settings (the default) means the server's interval.
    expect(model.pollIntervalMs).toBe(2000);
    model.setPreferences({ pollIntervalS: 30 });
    expect(model.pollIntervalMs).toBe(30000);
    expect(model.poll.frequency.interval).toBe(30000);
    model.setPreferences({ pollIntervalS: 5 });
    expect(model.poll.frequency.interval).toBe(5000);
    model.dispose();
  });
});

describe('SrcStageModel: lifetimes', () => {
  it('proposes the preference, else the server default, never above the maximum', async () => {
    const model = makeModel(baseServer());
    await model.initialize();
    expect(model.defaultLifetimeS).toBe(7 * 86400);
    model.setPreferences({ defaultLifetimeDays: 2 });
    expect(model.defaultLifetimeS).toBe(2 * 86400);
    model.setPreferences({ defaultLifetimeDays: 90 });
    expect(model.defaultLifetimeS).toBe(30 * 86400);
    expect(model.maxLifetimeS).toBe(30 * 86400);
    model.dispose();
  });
});

describe('SrcStageModel: search and selection', () => {
  it('searches, selects with modifiers and clears the selection on a new search', async () => {
    const items = Array.from({ length: 10000 }, (_, i) => ({
      did: `ska-mid:f${i}`,
      name: `f${i}`,
      type: 'file',
      bytes: i
    }));
    const server = baseServer().on('GET', 'dids', {
      items,
      truncated: true,
      limit: 10000
    });
    const model = makeModel(server);
    await model.initialize();
    model.setQuery({ namespace: 'ska-mid', pattern: 'f*', type: 'file' });
    expect(await model.runSearch()).toBe(true);
    expect(server.calls.find(c => c.path === 'dids')?.query).toMatchObject({
      namespace: 'ska-mid',
      name: 'f*',
      type: 'file'
    });
    expect(model.search.items).toHaveLength(10000);
    expect(model.search.truncated).toBe(true);
    model.clickResult(2);
    model.clickResult(5, { shift: true });
    model.clickResult(9000, { toggle: true });
    expect(model.selectedDids).toEqual([
      'ska-mid:f2',
      'ska-mid:f3',
      'ska-mid:f4',
      'ska-mid:f5',
      'ska-mid:f9000'
    ]);
    model.selectAll();
    expect(model.selection.selected.size).toBe(10000);
    await model.runSearch();
    expect(model.selection.selected.size).toBe(0);
    model.dispose();
  });

  it('shows empty and error states, and lets the newest search win', async () => {
    let release: () => void = () => undefined;
    const server = baseServer().on('GET', 'dids', (call: any) =>
      call.query.name === 'slow'
        ? new Promise(resolve => {
            release = () => resolve({ body: { items: [{ did: 'x:slow' }] } });
          })
        : call.query.name === 'bad'
          ? {
              status: 400,
              body: {
                message: 'The name pattern is not valid.',
                code: 'invalid_input',
                detail: [
                  {
                    loc: ['query', 'name'],
                    msg: 'bad wildcard',
                    type: 'value_error'
                  }
                ]
              }
            }
          : { body: { items: [] } }
    );
    const model = makeModel(server);
    await model.initialize();
    model.setQuery({ namespace: 'ska-mid', pattern: 'slow' });
    const slow = model.runSearch();
    model.setQuery({ pattern: 'none*' });
    await model.runSearch();
    release();
    expect(await slow).toBe(false);
    expect(model.search.items).toEqual([]);
    expect(model.search.searched).toBe(true);
    expect(model.search.error).toBeNull();

    model.setQuery({ pattern: 'bad' });
    await model.runSearch();
    expect(model.search.error?.message).toBe('The name pattern is not valid.');
    expect(model.search.error?.detailLines).toEqual([
      'query → name: bad wildcard (value_error)'
    ]);

    model.setQuery({ namespace: '' });
    expect(await model.runSearch()).toBe(false);
    expect(model.search.error?.code).toBe('invalid_input');
    model.dispose();
  });

  it('locates a DID on demand', async () => {
    const server = baseServer().on('GET', 'locations', {
      did: 'ska-mid:f1',
      locations: [{ rse: 'SANDBOX_LOCAL', files: 1, is_destination: true }]
    });
    const model = makeModel(server);
    await model.initialize();
    await model.locate('ska-mid:f1');
    expect(model.locatedDid).toBe('ska-mid:f1');
    expect(model.locations.get('ska-mid:f1')?.value?.locations[0].rse).toBe(
      'SANDBOX_LOCAL'
    );
    model.closeLocations();
    expect(model.locatedDid).toBeNull();
    model.dispose();
  });

  it('locates rows lazily, a few at a time, and never the same DID twice', async () => {
    const server = baseServer().on('GET', 'locations', {
      did: 'x',
      locations: [{ rse: 'FAR_TAPE', files: 1, tape: true }]
    });
    const model = makeModel(server);
    await model.initialize();
    const rows = Array.from({ length: 10 }, (_, i) => `ska-low:f${i}`);
    model.locateMissing(rows);
    model.locateMissing(rows.slice(0, 5)); // the same rows again: queued once
    for (let i = 0; i < 50 && model.locations.size < 10; i++) {
      await new Promise(r => setTimeout(r, 0));
    }
    await new Promise(r => setTimeout(r, 0));
    expect(rows.every(d => model.locations.get(d)?.value)).toBe(true);
    expect(server.count('GET', 'locations')).toBe(10);
    model.locateMissing(rows); // scrolled back: all cached
    expect(server.count('GET', 'locations')).toBe(10);
    expect(model.locateCalls).toBe(10);
    model.dispose();
  });
});

describe('SrcStageModel: collections and staging', () => {
  it('creates, renames, adds, removes and deletes', async () => {
    let current = collection('c1', 'tiles', ['a:1']);
    const server = baseServer()
      .on('POST', 'collections', (call: any) => ({
        status: 201,
        body: (current = collection('c1', call.body.name, call.body.dids))
      }))
      .on('PATCH', 'collections/c1', (call: any) => {
        const dids = current.dids
          .map((d: any) => d.did)
          .filter((d: string) => !(call.body.remove ?? []).includes(d))
          .concat(call.body.add ?? []);
        current = collection('c1', call.body.name ?? current.name, dids);
        return { body: current };
      })
      .on('DELETE', 'collections/c1', { status: 204 });
    const model = makeModel(server);
    await model.initialize();
    await model.createCollection('tiles', ['a:1']);
    expect(model.activeCollection?.name).toBe('tiles');
    await model.addToCollection('c1', ['a:2', 'a:3']);
    expect(model.activeCollection?.totals?.dids).toBe(3);
    await model.removeFromCollection('c1', ['a:1']);
    expect(model.activeCollection?.dids.map(d => d.did)).toEqual([
      'a:2',
      'a:3'
    ]);
    await model.renameCollection('c1', 'better');
    expect(model.collections.map(c => c.name)).toEqual(['better']);
    await model.deleteCollection('c1');
    expect(model.collections).toEqual([]);
    expect(model.activeCollection).toBeNull();
    model.dispose();
  });

  it('imports a document and exports one', async () => {
    const doc = { format: 'srcstage-collection/1', name: 'imp', dids: ['a:1'] };
    const server = baseServer()
      .on('POST', 'collections/import', (call: any) => ({
        status: 201,
        body: collection('c9', call.body.name, call.body.dids)
      }))
      .on('GET', 'collections/c9/export', doc);
    const model = makeModel(server);
    await model.initialize();
    const imported = await model.importCollection(doc);
    expect(imported.name).toBe('imp');
    expect(model.activeCollectionId).toBe('c9');
    expect(await model.exportCollection('c9')).toEqual(doc);
    model.dispose();
  });

  it('submits into the chosen namespace before staging, and tracks the job', async () => {
    const c = collection('c1', 'tiles', ['a:1']);
    const server = baseServer()
      .sequence('GET', 'collections', [{ collections: [c] }])
      .on('POST', 'collections/c1/submit', (call: any) => ({
        body: {
          did: `${call.body.namespace}:tiles`,
          created: true,
          collection: {
            ...c,
            submitted: { did: `${call.body.namespace}:tiles` }
          }
        }
      }))
      .on('POST', 'collections/c1/stage', (call: any) =>
        call.body.dry_run
          ? {
              body: {
                ok: true,
                files: 1,
                bytes: 10,
                lifetime_s: 86400,
                problems: []
              }
            }
          : {
              status: 202,
              body: job('j9', 'active', 'STAGING', { collection_id: 'c1' })
            }
      );
    const model = makeModel(server);
    await model.initialize();
    const pre = await model.precheck('c1', 86400);
    expect(pre.ok).toBe(true);
    expect(server.count('POST', 'collections/c1/submit')).toBe(0);
    const j = await model.stage('c1', 86400, 'user.demo');
    expect(j.id).toBe('j9');
    expect(
      server.calls.filter(x => x.method === 'POST').map(x => [x.path, x.body])
    ).toEqual([
      ['collections/c1/stage', { lifetime: 86400, dry_run: true }],
      // One verb: the server submits (or stages by the confirmed request) itself.
      ['collections/c1/stage', { lifetime: 86400, namespace: 'user.demo' }]
    ]);
    expect(model.jobs[0].id).toBe('j9');
    expect(model.hasActiveJobs).toBe(true);
    model.dispose();
  });

  it('does not submit again when already submitted into that namespace', async () => {
    const c = collection('c1', 'tiles', ['a:1'], {
      submitted: { did: 'user.demo:tiles', stale: false }
    });
    const server = baseServer()
      .on('GET', 'collections', { collections: [c] })
      .on('POST', 'collections/c1/stage', {
        status: 202,
        body: job('j1', 'completed', 'COMPLETED')
      });
    const model = makeModel(server);
    const finished: IJob[] = [];
    model.jobFinished.connect((_, j) => finished.push(j));
    await model.initialize();
    await model.stage('c1', 3600, 'user.demo');
    expect(server.count('POST', 'collections/c1/submit')).toBe(0);
    // Everything was already there: the job is done at once, and said so.
    expect(finished.map(j => j.id)).toEqual(['j1']);
    model.dispose();
  });

  it('passes a refused stage on with its precheck problems', async () => {
    const c = collection('c1', 'tiles', ['a:1'], {
      submitted: { did: 'user.demo:tiles' }
    });
    const server = baseServer()
      .on('GET', 'collections', { collections: [c] })
      .on('POST', 'collections/c1/stage', {
        status: 409,
        body: {
          message: 'Staging was not requested: the pre-check failed.',
          code: 'precheck_failed',
          precheck: {
            ok: false,
            problems: [
              {
                code: 'quota',
                message: 'Not enough quota',
                detail: 'demo: 1 GB left'
              }
            ]
          }
        }
      });
    const model = makeModel(server);
    await model.initialize();
    const error: SrcStageError = await model.stage('c1', 60).catch(e => e);
    expect(error.code).toBe('precheck_failed');
    expect(error.precheck?.problems?.[0].message).toBe('Not enough quota');
    expect(model.jobs).toEqual([]);
    expect(model.isBusy('collection:c1')).toBe(false);
    model.dispose();
  });
});

describe('SrcStageModel: one live state', () => {
  it('picks up a collection made elsewhere within one tick, with 304s while unchanged', async () => {
    const server = baseServer();
    server.etags = true;
    const model = makeModel(server);
    await model.initialize();
    let redraws = 0;
    model.changed.connect((_, what) => {
      if (what === 'collections') {
        redraws++;
      }
    });
    await model.tick();
    await model.tick();
    expect(server.notModified).toBe(4); // collections and jobs, twice
    expect(redraws).toBe(0);

    // A kernel (or another tab) creates a collection on the server.
    server.on('GET', 'collections', {
      collections: [collection('k1', 'from a kernel')]
    });
    await model.tick();
    expect(model.collections.map(c => c.name)).toEqual(['from a kernel']);
    expect(redraws).toBe(1);
    model.dispose();
  });
});
