import { detailLines, errorFromResponse, SrcStageError } from '../api';
import { FakeServer } from './fake';

describe('SrcStageAPI', () => {
  it('calls the routes of openapi.yaml with query and JSON body', async () => {
    const server = new FakeServer()
      .on('GET', 'dids', { items: [{ did: 'ska-mid:a' }], truncated: false })
      .on('PATCH', 'collections/c%201', (call: any) => ({
        body: { id: 'c 1', name: call.body.name, dids: [] }
      }));
    const api = server.api();
    const found = await api.searchDids({
      namespace: 'ska-mid',
      name: 'obs_*',
      type: 'file'
    });
    expect(found.items[0].did).toBe('ska-mid:a');
    expect(server.calls[0].query).toMatchObject({
      namespace: 'ska-mid',
      name: 'obs_*',
      type: 'file'
    });
    const renamed = await api.updateCollection('c 1', { name: 'new' });
    expect(renamed.name).toBe('new');
    expect(server.calls[1]).toMatchObject({
      method: 'PATCH',
      path: 'collections/c%201',
      body: { name: 'new' }
    });
  });

  it('sends lifetimes in seconds and an empty body when none', async () => {
    const server = new FakeServer().on(
      'POST',
      'collections/x/stage',
      (call: any) =>
        call.body?.dry_run
          ? { body: { ok: true } }
          : {
              status: 202,
              body: { id: 'j', state: 'STAGING', phase: 'active', did: 'd' }
            }
    );
    const api = server.api();
    expect(await api.precheck('x', 86400)).toEqual({ ok: true });
    await api.stage('x');
    expect(server.calls.map(c => c.body)).toEqual([
      { lifetime: 86400, dry_run: true },
      {}
    ]);
  });

  it('answers null for 204 No Content', async () => {
    const server = new FakeServer().on('DELETE', 'jobs/j1', () => ({
      status: 204
    }));
    await expect(server.api().forgetJob('j1')).resolves.toBeUndefined();
  });

  it('maps an error body to message, verbatim string detail and code', async () => {
    const server = new FakeServer().on('POST', 'collections/x/stage', {
      status: 403,
      body: {
        message: 'SRCNet refused to stage this collection.',
        detail: 'Quota exceeded for account demo at SANDBOX_LOCAL',
        code: 'forbidden',
        service: 'data-management'
      }
    });
    const error = await server
      .api()
      .stage('x', 60)
      .catch(e => e);
    expect(error).toBeInstanceOf(SrcStageError);
    expect(error.message).toBe('SRCNet refused to stage this collection.');
    expect(error.code).toBe('forbidden');
    expect(error.status).toBe(403);
    expect(error.service).toBe('data-management');
    expect(error.detailLines).toEqual([
      'Quota exceeded for account demo at SANDBOX_LOCAL'
    ]);
  });

  it('maps FastAPI list details to one line per item', async () => {
    const server = new FakeServer().on('POST', 'collections/x/submit', {
      status: 400,
      body: {
        message: 'The DM API did not accept the request.',
        code: 'invalid_input',
        detail: [
          {
            loc: ['body', 'lifetime'],
            msg: 'ensure this value is less than 2592000',
            type: 'value_error.number.not_lt'
          },
          { msg: 'second problem' }
        ]
      }
    });
    const error: SrcStageError = await server
      .api()
      .submit('x')
      .catch(e => e);
    expect(error.detailLines).toEqual([
      'body → lifetime: ensure this value is less than 2592000 (value_error.number.not_lt)',
      'second problem'
    ]);
  });

  it('keeps the precheck of a refused stage', async () => {
    const precheck = {
      ok: false,
      problems: [{ code: 'lifetime', message: 'Too long' }]
    };
    const server = new FakeServer().on('POST', 'collections/x/stage', {
      status: 409,
      body: { message: 'Pre-check failed', code: 'precheck_failed', precheck }
    });
    const error: SrcStageError = await server
      .api()
      .stage('x', 1)
      .catch(e => e);
    expect(error.code).toBe('precheck_failed');
    expect(error.precheck).toEqual(precheck);
  });

  it('never shows a traceback or an HTML page', async () => {
    const html =
      '<html><body>Traceback (most recent call last):\n  File "x.py"</body></html>';
    const server = new FakeServer()
      .on('GET', 'jobs', { status: 500, text: html })
      .on('GET', 'config', {
        status: 500,
        body: { reason: 'Internal Server Error', traceback: 'Traceback ...' }
      });
    const api = server.api();
    const e1: SrcStageError = await api.listJobs().catch(e => e);
    expect(e1.message).toBe(
      'HTTP 500: the Jupyter server answered with an error'
    );
    expect(e1.detailLines).toEqual([]);
    const e2: SrcStageError = await api.getConfig().catch(e => e);
    expect(e2.message).toBe('HTTP 500: Internal Server Error');
    expect(JSON.stringify(e2)).not.toContain('Traceback');
  });

  it('explains a missing server extension and a network failure', async () => {
    const server = new FakeServer();
    const e404: SrcStageError = await server
      .api()
      .getSession()
      .catch(e => e);
    // Our fake answers JSON for unknown routes; a bare 404 says the extension is missing.
    expect(errorFromResponse(404, 'Not Found').message).toContain(
      'server extension is not answering'
    );
    expect(e404.code).toBe('not_found');
    server.offline = true;
    const net: SrcStageError = await server
      .api()
      .getSession()
      .catch(e => e);
    expect(net.code).toBe('network');
    expect(net.message).toContain('could not be reached');
  });

  it('turns any detail shape into lines', () => {
    expect(detailLines(null)).toEqual([]);
    expect(detailLines(undefined)).toEqual([]);
    expect(detailLines('')).toEqual([]);
    expect(detailLines('plain')).toEqual(['plain']);
    expect(detailLines({ a: 1 })).toEqual(['{"a":1}']);
    expect(detailLines([{ loc: ['query', 0], msg: 'bad' }])).toEqual([
      'query → 0: bad'
    ]);
    expect(detailLines(['x', 3])).toEqual(['x', '3']);
  });
});
