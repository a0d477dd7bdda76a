/**
 * A fake of the browser↔server boundary: the `fetch` that ServerConnection
 * calls. Routes answer like the server extension's REST routes would.
 */
import { ServerConnection } from '@jupyterlab/services';
import { SrcStageAPI } from '../api';

export interface IFakeCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: any;
}

export type FakeAnswer =
  | { status?: number; body?: unknown; text?: string }
  | Promise<{ status?: number; body?: unknown; text?: string }>;

export type FakeHandler = (call: IFakeCall) => FakeAnswer;

/** `{status, body}` or `{status, text}` is an answer; anything else is a body. */
function isAnswer(value: unknown): value is { status: number } {
  return (
    !!value &&
    typeof value === 'object' &&
    typeof (value as { status?: unknown }).status === 'number' &&
    ('body' in value || 'text' in value || Object.keys(value).length === 1)
  );
}

function hash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) {
    h = (h * 31 + text.charCodeAt(i)) | 0;
  }
  return h;
}

export const BASE_URL = 'http://localhost:8888/';

export class FakeServer {
  calls: IFakeCall[] = [];
  routes = new Map<string, FakeHandler>();
  /** When set, every request fails as if the network were down. */
  offline = false;
  /** When set, GET answers carry an ETag and honour If-None-Match (304). */
  etags = false;
  /** How many 304s were answered. */
  notModified = 0;

  on(method: string, path: string, handler: FakeHandler | unknown): this {
    this.routes.set(
      `${method} ${path}`,
      typeof handler === 'function'
        ? (handler as FakeHandler)
        : isAnswer(handler)
          ? () => handler
          : () => ({ body: handler })
    );
    return this;
  }

  /** Answer the next requests to a route from a list, then repeat the last. */
  sequence(method: string, path: string, answers: unknown[]): this {
    let i = 0;
    return this.on(method, path, () => ({
      body: answers[Math.min(i++, answers.length - 1)]
    }));
  }

  count(method: string, path: string): number {
    return this.calls.filter(c => c.method === method && c.path === path)
      .length;
  }

  fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request =
      input instanceof Request ? input : new Request(String(input), init);
    if (this.offline) {
      throw new TypeError('Failed to fetch');
    }
    const url = new URL(request.url);
    const prefix = '/srcstage/';
    if (!url.pathname.startsWith(prefix)) {
      return new Response('not found', { status: 404 });
    }
    const path = url.pathname.slice(prefix.length);
    const query: Record<string, string> = {};
    url.searchParams.forEach((v, k) => {
      if (v !== '') {
        query[k] = v;
      }
    });
    const raw = await request.text();
    const call: IFakeCall = {
      method: request.method,
      path,
      query,
      body: raw ? JSON.parse(raw) : undefined
    };
    this.calls.push(call);
    const handler = this.routes.get(`${request.method} ${path}`);
    if (!handler) {
      return new Response(
        JSON.stringify({
          message: `no fake for ${request.method} ${path}`,
          code: 'not_found'
        }),
        { status: 404 }
      );
    }
    const answer = await handler(call);
    const status = answer.status ?? 200;
    const text =
      answer.text ??
      (answer.body === undefined ? '' : JSON.stringify(answer.body));
    if (this.etags && request.method === 'GET' && status === 200) {
      // Like the server's listings: the content is the ETag.
      const etag = `"${text.length}:${hash(text)}"`;
      if (request.headers.get('If-None-Match') === etag) {
        this.notModified++;
        return new Response(null, { status: 304 });
      }
      return new Response(text, { status, headers: { ETag: etag } });
    }
    return new Response(status === 204 ? null : text, { status });
  };

  api(): SrcStageAPI {
    return new SrcStageAPI(
      ServerConnection.makeSettings({
        baseUrl: BASE_URL,
        fetch: this.fetch as any
      })
    );
  }
}

export function job(id: string, phase: string, state: string, extra = {}): any {
  return {
    id,
    did: `user.demo:${id}`,
    state,
    phase,
    collection_name: `c-${id}`,
    progress: { files_total: 4, files_done: phase === 'completed' ? 4 : 1 },
    ...extra
  };
}

export function collection(
  id: string,
  name: string,
  dids: string[] = [],
  extra = {}
): any {
  return {
    id,
    name,
    dids: dids.map(did => ({ did, type: 'file', bytes: 10 })),
    totals: { dids: dids.length, files: dids.length, bytes: 10 * dids.length },
    submitted: null,
    ...extra
  };
}
