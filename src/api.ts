/**
 * REST client for the `/srcstage/` routes of our server extension.
 *
 * Every failure becomes a `SrcStageError` carrying our plain `message`, the
 * SRCNet `detail` verbatim and a stable `code`; nothing else from a response
 * body (a traceback, an HTML page) ever reaches the user.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { trans } from './i18n';
import type {
  ErrorDetail,
  ICollection,
  ICollectionExport,
  IConfig,
  IDestination,
  IDidSearch,
  IErrorBody,
  IJob,
  IJobFiles,
  ILocations,
  INamespaces,
  IPaths,
  IPrecheck,
  ISession,
  ISubmitResult,
  DidTypeFilter
} from './tokens';

/** The route prefix of the server extension. */
export const API_NAMESPACE = 'srcstage';

/** An error explained: what the server (or the network) said, made safe to show. */
export class SrcStageError extends Error {
  constructor(body: IErrorBody, status = 0) {
    super(body.message);
    this.name = 'SrcStageError';
    this.status = status;
    this.code = body.code || 'error';
    this.detail = body.detail ?? null;
    this.service = body.service ?? null;
    this.precheck = body.precheck ?? null;
  }

  /** HTTP status, 0 when no answer came. */
  readonly status: number;
  readonly code: string;
  readonly detail: ErrorDetail;
  readonly service: string | null;
  readonly precheck: IPrecheck | null;

  /** The `detail` as lines of text, verbatim where it was text. */
  get detailLines(): string[] {
    return detailLines(this.detail);
  }
}

/**
 * `detail` as lines: a string stays as it is; FastAPI's list of
 * `{loc, msg, type}` gives one line per item, `loc → msg (type)`.
 */
export function detailLines(detail: ErrorDetail | unknown): string[] {
  if (detail === null || detail === undefined || detail === '') {
    return [];
  }
  if (typeof detail === 'string') {
    return [detail];
  }
  if (Array.isArray(detail)) {
    return detail.map(item => {
      if (item && typeof item === 'object') {
        const it = item as { loc?: unknown; msg?: unknown; type?: unknown };
        const loc = Array.isArray(it.loc) ? it.loc.join(' → ') : '';
        const msg =
          typeof it.msg === 'string' ? it.msg : JSON.stringify(it.msg ?? item);
        const type = typeof it.type === 'string' ? ` (${it.type})` : '';
        return loc ? `${loc}: ${msg}${type}` : `${msg}${type}`;
      }
      return String(item);
    });
  }
  if (typeof detail === 'object') {
    return [JSON.stringify(detail)];
  }
  return [String(detail)];
}

/** Turn anything thrown into a `SrcStageError`, never showing a stack trace. */
export function toSrcStageError(error: unknown): SrcStageError {
  if (error instanceof SrcStageError) {
    return error;
  }
  if (error instanceof ServerConnection.NetworkError) {
    return new SrcStageError({
      message: trans.__(
        'The Jupyter server could not be reached. Check your connection; the server may be restarting.'
      ),
      code: 'network'
    });
  }
  const message =
    error instanceof Error && error.message
      ? error.message
      : trans.__('Something unexpected went wrong in the sidebar.');
  return new SrcStageError({ message, code: 'error' });
}

function statusText(status: number): string {
  switch (status) {
    case 401:
      return trans.__('you are not logged in to this Jupyter server any more');
    case 403:
      return trans.__('the Jupyter server refused the request');
    case 404:
      return trans.__(
        'the srcstage server extension is not answering (is it installed and enabled?)'
      );
    case 502:
    case 503:
    case 504:
      return trans.__('a service behind the Jupyter server is unavailable');
    default:
      return trans.__('the Jupyter server answered with an error');
  }
}

/** Build the error for a failed response from its (maybe non-JSON) body. */
export function errorFromResponse(status: number, text: string): SrcStageError {
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    const body = data as Record<string, unknown>;
    const message =
      typeof body.message === 'string' && body.message
        ? body.message
        : typeof body.reason === 'string' && body.reason
          ? `HTTP ${status}: ${body.reason}`
          : `HTTP ${status}: ${statusText(status)}`;
    return new SrcStageError(
      {
        message,
        code: typeof body.code === 'string' ? body.code : 'error',
        detail: body.detail as ErrorDetail,
        service: typeof body.service === 'string' ? body.service : null,
        precheck: (body.precheck as IPrecheck) ?? undefined
      },
      status
    );
  }
  return new SrcStageError(
    { message: `HTTP ${status}: ${statusText(status)}`, code: 'error' },
    status
  );
}

export interface IRequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /**
   * Ask "changed since my last read?" (If-None-Match with the ETag this path
   * last answered); resolves with `null` when the server says 304.
   */
  ifChanged?: boolean;
}

export interface IDidQuery {
  namespace: string;
  name?: string;
  type?: DidTypeFilter;
  limit?: number;
}

/** The client for every route of `openapi.yaml`. */
export class SrcStageAPI {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  /** The ETag each conditionally read URL last answered (see `ifChanged`). */
  private _etags = new Map<string, string>();

  /** Call one route; resolves with the parsed JSON body (`null` for 204). */
  async request<T>(path: string, options: IRequestOptions = {}): Promise<T> {
    const base = URLExt.join(this.serverSettings.baseUrl, API_NAMESPACE, path);
    const query = Object.entries(options.query ?? {})
      .filter(([, v]) => v !== undefined && v !== '')
      .map(
        ([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`
      )
      .join('&');
    const url = query ? `${base}?${query}` : base;
    const init: RequestInit = { method: options.method ?? 'GET' };
    const headers: Record<string, string> = {};
    if (options.body !== undefined) {
      init.body = JSON.stringify(options.body);
      headers['Content-Type'] = 'application/json';
    }
    const lastEtag = options.ifChanged ? this._etags.get(url) : undefined;
    if (lastEtag) {
      headers['If-None-Match'] = lastEtag;
    }
    if (Object.keys(headers).length) {
      init.headers = headers;
    }
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(
        url,
        init,
        this.serverSettings
      );
    } catch (error) {
      throw toSrcStageError(error);
    }
    if (options.ifChanged && response.status === 304) {
      return null as T;
    }
    const etag = response.headers.get('ETag');
    if (response.ok && etag) {
      this._etags.set(url, etag); // any read counts: the next poll asks "changed since?"
    }
    let text = '';
    try {
      text = await response.text();
    } catch {
      text = '';
    }
    if (!response.ok) {
      throw errorFromResponse(response.status, text);
    }
    if (!text) {
      return null as T;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new SrcStageError(
        {
          message: trans.__(
            'The server extension sent an answer the sidebar cannot read (%1).',
            path
          ),
          code: 'error'
        },
        response.status
      );
    }
  }

  getConfig(): Promise<IConfig> {
    return this.request<IConfig>('config');
  }

  getSession(): Promise<ISession> {
    return this.request<ISession>('session');
  }

  startDeviceFlow(): Promise<ISession> {
    return this.request<ISession>('session/device', { method: 'POST' });
  }

  signOut(): Promise<ISession> {
    return this.request<ISession>('session', { method: 'DELETE' });
  }

  getDestination(refresh = false): Promise<IDestination> {
    return this.request<IDestination>('destination', {
      query: { refresh: refresh ? 'true' : undefined }
    });
  }

  getNamespaces(): Promise<INamespaces> {
    return this.request<INamespaces>('namespaces');
  }

  searchDids(q: IDidQuery): Promise<IDidSearch> {
    return this.request<IDidSearch>('dids', {
      query: {
        namespace: q.namespace,
        name: q.name || '*',
        type: q.type ?? 'all',
        limit: q.limit
      }
    });
  }

  locate(did: string): Promise<ILocations> {
    return this.request<ILocations>('locations', { query: { did } });
  }

  /** The collections, or `null` when unchanged since the last call (a poll). */
  async listCollectionsIfChanged(): Promise<ICollection[] | null> {
    const body = await this.request<{ collections: ICollection[] } | null>(
      'collections',
      { ifChanged: true }
    );
    return body === null ? null : (body.collections ?? []);
  }

  async listCollections(): Promise<ICollection[]> {
    const body = await this.request<{ collections: ICollection[] }>(
      'collections'
    );
    return body?.collections ?? [];
  }

  createCollection(name: string, dids: string[] = []): Promise<ICollection> {
    return this.request<ICollection>('collections', {
      method: 'POST',
      body: { name, dids }
    });
  }

  importCollection(doc: unknown): Promise<ICollection> {
    return this.request<ICollection>('collections/import', {
      method: 'POST',
      body: doc
    });
  }

  updateCollection(
    id: string,
    patch: { name?: string; add?: string[]; remove?: string[] }
  ): Promise<ICollection> {
    return this.request<ICollection>(`collections/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      body: patch
    });
  }

  async deleteCollection(id: string): Promise<void> {
    await this.request<null>(`collections/${encodeURIComponent(id)}`, {
      method: 'DELETE'
    });
  }

  exportCollection(id: string): Promise<ICollectionExport> {
    return this.request<ICollectionExport>(
      `collections/${encodeURIComponent(id)}/export`
    );
  }

  submit(
    id: string,
    options: { namespace?: string; name?: string } = {}
  ): Promise<ISubmitResult> {
    return this.request<ISubmitResult>(
      `collections/${encodeURIComponent(id)}/submit`,
      { method: 'POST', body: options }
    );
  }

  /** The stage verb's dry run: what staging would do, changing nothing. */
  precheck(id: string, lifetime?: number | string): Promise<IPrecheck> {
    return this.request<IPrecheck>(
      `collections/${encodeURIComponent(id)}/stage`,
      {
        method: 'POST',
        body:
          lifetime === undefined
            ? { dry_run: true }
            : { lifetime, dry_run: true }
      }
    );
  }

  stage(
    id: string,
    lifetime?: number | string,
    namespace?: string
  ): Promise<IJob> {
    const body: { lifetime?: number | string; namespace?: string } = {};
    if (lifetime !== undefined) {
      body.lifetime = lifetime;
    }
    if (namespace) {
      body.namespace = namespace;
    }
    return this.request<IJob>(`collections/${encodeURIComponent(id)}/stage`, {
      method: 'POST',
      body
    });
  }

  /** The jobs, or `null` when unchanged since the last call (a poll). */
  async listJobsIfChanged(): Promise<IJob[] | null> {
    const body = await this.request<{ jobs: IJob[] } | null>('jobs', {
      ifChanged: true
    });
    return body === null ? null : (body.jobs ?? []);
  }

  async listJobs(): Promise<IJob[]> {
    const body = await this.request<{ jobs: IJob[] }>('jobs');
    return body?.jobs ?? [];
  }

  getJob(id: string): Promise<IJob> {
    return this.request<IJob>(`jobs/${encodeURIComponent(id)}`);
  }

  async forgetJob(id: string): Promise<void> {
    await this.request<null>(`jobs/${encodeURIComponent(id)}`, {
      method: 'DELETE'
    });
  }

  /** Keep a staged copy `lifetime` (e.g. '14d') from now; the answer is the job. */
  extendJob(id: string, lifetime: string): Promise<IJob> {
    return this.request<IJob>(`jobs/${encodeURIComponent(id)}/extend`, {
      method: 'POST',
      body: { lifetime }
    });
  }

  /** Give the staged copy back now (its files may then go from the destination). */
  releaseJob(id: string): Promise<IJob> {
    return this.request<IJob>(`jobs/${encodeURIComponent(id)}/release`, {
      method: 'POST'
    });
  }

  /** Stage a failed job's DIDs again; the answer is the new job (the same one on a repeat). */
  retryJob(id: string): Promise<IJob> {
    return this.request<IJob>(`jobs/${encodeURIComponent(id)}/retry`, {
      method: 'POST'
    });
  }

  jobPaths(id: string): Promise<IPaths> {
    return this.request<IPaths>(`jobs/${encodeURIComponent(id)}/paths`);
  }

  /** Each file of the job and where it is now, from locate. */
  jobFiles(id: string): Promise<IJobFiles> {
    return this.request<IJobFiles>(`jobs/${encodeURIComponent(id)}/files`);
  }
}
