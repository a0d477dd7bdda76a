import { Signal } from '@lumino/signaling';
import {
  DeclaredData,
  IDeclaredCollection,
  IDeclaringNotebook,
  readDeclaration
} from '../declared';
import { SrcStageModel } from '../model';
import { collection, FakeServer, job } from './fake';

// The same cases the kernel side reads (tests/test_declared.py): one schema, two readers that agree.
import FIXTURE from '../../tests/fixtures/declared-notebooks.json';

describe('readDeclaration', () => {
  it('reads the shared fixture as the kernel does', () => {
    for (const c of FIXTURE.valid) {
      expect(readDeclaration(c.metadata)).toEqual({
        collections: c.collections,
        error: null
      });
    }
  });

  it('names the field the kernel names', () => {
    for (const c of FIXTURE.malformed) {
      const read = readDeclaration({ srcstage: c.block });
      expect(read.collections).toEqual([]);
      expect([c.field, read.error?.startsWith(c.field)]).toEqual([
        c.field,
        true
      ]);
    }
  });
});

class FakeNotebook implements IDeclaringNotebook {
  constructor(public meta: Record<string, unknown>) {}
  path = 'work/analysis.ipynb';
  dirty = false;
  metadataChanged = new Signal<unknown, unknown>(this);
  metadata(): unknown {
    return this.meta;
  }
  setDeclaration(value: { collections: IDeclaredCollection[] } | null): void {
    if (value) {
      this.meta = { ...this.meta, srcstage: value };
    } else {
      const rest = { ...this.meta };
      delete rest.srcstage;
      this.meta = rest;
    }
    this.dirty = true;
    this.metadataChanged.emit(null);
  }
}

const CONFIG = {
  default_lifetime_s: 86400,
  max_lifetime_s: 30 * 86400,
  collection_namespace: 'user.demo'
};

function server(): FakeServer {
  return new FakeServer()
    .on('GET', 'config', CONFIG)
    .on('GET', 'collections', {
      collections: [collection('c1', 'here', ['ska-mid:a', 'ska-mid:b'])]
    })
    .on('GET', 'jobs', { jobs: [] })
    .on('POST', 'collections/c1/stage', (call: { body: any }) =>
      call.body.dry_run
        ? {
            body: {
              ok: true,
              files: 2,
              already_at_destination: { files: 2, bytes: 20 }
            }
          }
        : { status: 500, body: { message: 'must not stage' } }
    );
}

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

describe('DeclaredData', () => {
  it('checks each declared collection once per notebook change, stages only what is missing', async () => {
    const fake = server()
      .on('POST', 'collections', {
        status: 201,
        body: collection('c2', 'new', ['ska-low:x'])
      })
      .on('POST', 'collections/c2/stage', (call: { body: any }) =>
        call.body.dry_run
          ? {
              body: { ok: true, files: 1, already_at_destination: { files: 0 } }
            }
          : { status: 202, body: job('j2', 'active', 'SUBMITTED') }
      );
    const model = new SrcStageModel({ api: fake.api(), autoPoll: false });
    await model.refreshConfig();
    await model.refreshCollections();
    const declared = new DeclaredData(model);
    const notebook = new FakeNotebook({
      srcstage: {
        collections: [
          { name: 'here', dids: ['ska-mid:a', 'ska-mid:b'] },
          { name: 'new', dids: ['ska-low:x'], lifetime: '2d' }
        ]
      }
    });
    declared.setNotebook(notebook);
    await flush();
    expect(fake.count('POST', 'collections/c1/stage')).toBe(1);
    const [here, fresh] = declared.statuses();
    expect(here.precheck?.already_at_destination?.files).toBe(2);
    expect(fresh.collection).toBeNull();
    expect(fresh.notCollected).toEqual(['ska-low:x']);

    // Reading again (a render) asks nothing; another metadata key changing asks nothing either.
    declared.statuses();
    notebook.meta = { ...notebook.meta, kernelspec: {} };
    notebook.metadataChanged.emit(null);
    await flush();
    expect(fake.count('POST', 'collections/c1/stage')).toBe(1);

    const outcomes = await declared.stageMissing();
    expect(outcomes).toEqual([
      { name: 'here', alreadyHere: true },
      expect.objectContaining({ name: 'new', job: expect.anything() })
    ]);
    const made = fake.calls.find(
      c => c.method === 'POST' && c.path === 'collections'
    );
    expect(made?.body).toEqual({ name: 'new', dids: ['ska-low:x'] });
    const staged = fake.calls.filter(
      c => c.path === 'collections/c2/stage' && !c.body.dry_run
    );
    expect(staged.map(c => c.body)).toEqual([
      { lifetime: '2d', namespace: 'user.demo' }
    ]);
    declared.dispose();
    model.dispose();
  });

  it('keeps a refusal verbatim and stages nothing else for that collection', async () => {
    const fake = server()
      .on('GET', 'collections', {
        collections: [collection('c3', 'big', ['ska-mid:c'])]
      })
      .on('POST', 'collections/c3/stage', (call: { body: any }) =>
        call.body.dry_run
          ? {
              body: { ok: true, files: 1, already_at_destination: { files: 0 } }
            }
          : {
              status: 400,
              body: {
                message: 'Staging was refused.',
                code: 'precheck_failed',
                detail: 'lifetime exceeds the maximum of 30 days'
              }
            }
      );
    const model = new SrcStageModel({ api: fake.api(), autoPoll: false });
    await model.refreshCollections();
    const declared = new DeclaredData(model);
    declared.setNotebook(
      new FakeNotebook({
        srcstage: { collections: [{ name: 'big', dids: ['ska-mid:c'] }] }
      })
    );
    await flush();
    const [outcome] = await declared.stageMissing();
    expect(outcome.error?.detailLines).toEqual([
      'lifetime exceeds the maximum of 30 days'
    ]);
    expect(model.jobs).toEqual([]);
    declared.dispose();
    model.dispose();
  });

  it('declares and removes a collection in the notebook, marking it changed', () => {
    const model = new SrcStageModel({ api: server().api(), autoPoll: false });
    const declared = new DeclaredData(model);
    const notebook = new FakeNotebook({ kernelspec: { name: 'python3' } });
    declared.setNotebook(notebook);
    declared.declare({ name: 'run', dids: ['ska-mid:a'] });
    expect(notebook.dirty).toBe(true);
    expect(declared.isDeclared('run')).toBe(true);
    expect(notebook.meta.srcstage).toEqual({
      collections: [{ name: 'run', dids: ['ska-mid:a'] }]
    });
    declared.undeclare('run');
    expect(notebook.meta).toEqual({ kernelspec: { name: 'python3' } });
    expect(declared.statuses()).toEqual([]);
    declared.dispose();
    model.dispose();
  });
});
