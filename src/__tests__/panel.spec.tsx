import * as React from 'react';
import { act } from 'react';
import { SrcStageView } from '../components/Panel';
import { RESULT_ROW_HEIGHT } from '../components/FindData';
import { SrcStageModel } from '../model';
import { FakeServer, job } from './fake';
import { mount, NO_ACTIONS } from './mount';

// React 18: tell it that this is a test environment with act().
(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const NOT_SIGNED_IN = {
  status: 401,
  body: {
    message:
      'You are not signed in to SRCNet. Sign in from the SRCNet staging sidebar, or ask your administrator.',
    code: 'not_signed_in'
  }
};

function server(): FakeServer {
  const items = Array.from({ length: 10000 }, (_, i) => ({
    did: `ska-mid:obs_${i}`,
    name: `obs_${i}`,
    type: i % 2 ? 'file' : 'dataset',
    bytes: 1000 * i
  }));
  return new FakeServer()
    .on('GET', 'config', {
      default_lifetime_s: 604800,
      max_lifetime_s: 2592000
    })
    .on('GET', 'session', { state: 'signed_out' })
    .on('GET', 'destination', {
      status: 409,
      body: {
        message: 'No storage area could be chosen for this server.',
        detail: [{ loc: ['host'], msg: 'no matching service', type: 'lookup' }],
        code: 'no_destination'
      }
    })
    .on('GET', 'namespaces', { namespaces: ['ska-mid'], owned: [] })
    .on('GET', 'collections', { collections: [] })
    .on('GET', 'jobs', {
      jobs: [
        job('j1', 'completed', 'COMPLETED'),
        job('j2', 'unknown', 'SUSPENDED')
      ]
    })
    .on('GET', 'dids', { items, truncated: false, limit: 10000 });
}

describe('SrcStageView', () => {
  let host: HTMLDivElement;
  let unmount: () => void;
  let model: SrcStageModel;

  beforeEach(async () => {
    model = new SrcStageModel({
      api: server().api(),
      autoPoll: false,
      isDocumentHidden: () => false
    });
    await model.initialize();
    ({ host, unmount } = await mount(
      <SrcStageView model={model} actions={NO_ACTIONS} />
    ));
  });

  afterEach(() => {
    unmount();
    model.dispose();
  });

  const q = (testid: string) =>
    host.querySelectorAll(`[data-testid="${testid}"]`);

  it('shows sign-in, the destination error with its detail, and jobs verbatim', () => {
    expect(q('srcstage-signin')).toHaveLength(1);
    const error = q('srcstage-destination-error')[0];
    expect(error.textContent).toContain(
      'No storage area could be chosen for this server.'
    );
    expect(error.textContent).toContain('host: no matching service (lookup)');
    const states = Array.from(q('srcstage-job-state')).map(e => e.textContent);
    expect(states).toEqual(['COMPLETED', 'SUSPENDED']);
    // Only a completed job offers its files.
    expect(q('srcstage-insert-code')).toHaveLength(1);
    expect(q('srcstage-copy-paths')).toHaveLength(1);
    // Every job offers where its files are now.
    expect(q('srcstage-job-show-files')).toHaveLength(2);
  });

  it('renders a window of 10,000 results and selects with modifiers', async () => {
    model.setQuery({ namespace: 'ska-mid' });
    await act(async () => {
      await model.runSearch();
    });
    expect(q('srcstage-results-count')[0].textContent).toBe('10,000 results');
    const rows = () => Array.from(q('srcstage-result')) as HTMLElement[];
    expect(rows().length).toBeGreaterThan(5);
    expect(rows().length).toBeLessThan(30);

    await act(async () => {
      rows()[1].dispatchEvent(new MouseEvent('click', { bubbles: true }));
    });
    await act(async () => {
      rows()[3].dispatchEvent(
        new MouseEvent('click', { bubbles: true, shiftKey: true })
      );
    });
    await act(async () => {
      rows()[6].dispatchEvent(
        new MouseEvent('click', { bubbles: true, ctrlKey: true })
      );
    });
    expect(q('srcstage-selected-count')[0].textContent).toBe('4 selected');
    expect(
      rows()
        .filter(r => r.getAttribute('aria-selected') === 'true')
        .map(r => r.dataset.did)
    ).toEqual([
      'ska-mid:obs_1',
      'ska-mid:obs_2',
      'ska-mid:obs_3',
      'ska-mid:obs_6'
    ]);

    // Scrolling far down renders other rows, never all of them.
    const list = q('srcstage-results')[0] as HTMLElement;
    await act(async () => {
      list.scrollTop = RESULT_ROW_HEIGHT * 9000;
      list.dispatchEvent(new Event('scroll'));
    });
    expect(rows()[0].dataset.did).toBe('ska-mid:obs_8996');
    expect(rows().length).toBeLessThan(30);
  });

  it('shows the full DID as the tooltip of a result', async () => {
    await act(async () => {
      model.setQuery({ namespace: 'ska-mid' });
      await model.runSearch();
    });
    const row = q('srcstage-result')[0] as HTMLElement;
    const name = row.querySelector('.jp-SrcStage-resultName') as HTMLElement;
    expect(name.title).toBe('ska-mid:obs_0');
    // The full name stays in the text for screen readers (and searches).
    expect(name.textContent).toContain('obs_0');
  });
});

describe('SrcStageView signed out', () => {
  let host: HTMLDivElement;
  let unmount: () => void;
  let model: SrcStageModel;

  beforeEach(async () => {
    const fake = new FakeServer()
      .on('GET', 'config', { default_lifetime_s: 604800 })
      .on('GET', 'session', { state: 'signed_out' })
      .on('GET', 'destination', NOT_SIGNED_IN)
      .on('GET', 'namespaces', NOT_SIGNED_IN)
      .on('GET', 'collections', { collections: [] })
      .on('GET', 'jobs', { jobs: [] });
    model = new SrcStageModel({
      api: fake.api(),
      autoPoll: false,
      isDocumentHidden: () => false
    });
    await model.initialize();
    ({ host, unmount } = await mount(
      <SrcStageView model={model} actions={NO_ACTIONS} />
    ));
  });

  afterEach(() => {
    unmount();
    model.dispose();
  });

  const q = (testid: string) =>
    host.querySelectorAll(`[data-testid="${testid}"]`);

  it('shows calm hints, not errors, before sign-in', () => {
    expect(model.destinationError?.code).toBe('not_signed_in');
    expect(q('srcstage-signin')).toHaveLength(1);
    expect(q('srcstage-destination-error')).toHaveLength(0);
    expect(host.querySelectorAll('[role="alert"]')).toHaveLength(0);
    expect(q('srcstage-destination-signed-out')[0].textContent).toMatch(
      /^Sign in to see/
    );
    expect(q('srcstage-find-signed-out')[0].textContent).toMatch(
      /^Sign in to see/
    );
    expect(host.textContent).not.toContain('You are not signed in');
    expect(host.textContent).not.toContain('Namespaces could not be listed');
  });
});
