/**
 * The sidebar's model: everything the panel shows, loaded through the REST
 * client, with Lumino signals for changes and one `Poll` for jobs and a
 * pending sign-in.
 */
import { IDisposable } from '@lumino/disposable';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';
import { SrcStageAPI, SrcStageError, toSrcStageError } from './api';
import { DownloadsModel } from './downloads';
import type {
  DidTypeFilter,
  IAvailability,
  ICollection,
  ICollectionExport,
  IConfig,
  IDestination,
  IDidInfo,
  IJob,
  IJobFiles,
  ILocations,
  IPaths,
  IPrecheck,
  IPreferences,
  ISession,
  ISubmitResult,
  JobAction
} from './tokens';
import { namespaceProblem, patternProblem } from './text';
import { UNIT_SECONDS } from './units';
import { trans } from './i18n';
import { clickSelect, ISelection, ISelectModifiers } from './virtual';

/** What part of the model changed. */
export type ChangeKind =
  | 'config'
  | 'session'
  | 'destination'
  | 'namespaces'
  | 'search'
  | 'selection'
  | 'locations'
  | 'collections'
  | 'jobs'
  | 'jobFiles'
  | 'preferences'
  | 'downloads'
  | 'busy';

export interface ISearchState {
  namespace: string;
  pattern: string;
  type: DidTypeFilter;
  loading: boolean;
  /** Whether a search has run (to tell "no results" from "not searched"). */
  searched: boolean;
  error: SrcStageError | null;
  items: IDidInfo[];
  truncated: boolean;
  limit: number | null;
}

export interface ILocationState {
  loading: boolean;
  error: SrcStageError | null;
  value: ILocations | null;
}

/** The per-file states of one job, as last read (kept while a new read runs). */
export interface IJobFilesState {
  loading: boolean;
  error: SrcStageError | null;
  value: IJobFiles | null;
}

export const DEFAULT_PREFERENCES: IPreferences = {
  defaultLifetimeDays: 0,
  pollIntervalS: 0
};

/** Locate requests the tables keep in flight at once. */
const LOCATE_CONCURRENCY = 4;

/** Poll interval when neither the settings nor the server say (s). */
const FALLBACK_POLL_S = 10;

/** Fallbacks while `/config` has not answered. */
const FALLBACK_LIFETIME_S = 7 * UNIT_SECONDS.days;
/** Poll interval while a sign-in is pending. */
export const PENDING_INTERVAL_MS = 2000;
/** Longest wait between polls after repeated failures. */
export const MAX_BACKOFF_MS = 5 * 60 * 1000;

export namespace SrcStageModel {
  export interface IOptions {
    api?: SrcStageAPI;
    preferences?: Partial<IPreferences>;
    /** Whether the browser tab is hidden (defaults to `document.hidden`). */
    isDocumentHidden?: () => boolean;
    /** Start polling at once (default true); tests drive ticks themselves. */
    autoPoll?: boolean;
  }
}

export class SrcStageModel implements IDisposable {
  constructor(options: SrcStageModel.IOptions = {}) {
    this.api = options.api ?? new SrcStageAPI();
    this._preferences = { ...DEFAULT_PREFERENCES, ...options.preferences };
    this._isDocumentHidden =
      options.isDocumentHidden ??
      (() => typeof document !== 'undefined' && document.hidden);
    this._poll = new Poll({
      auto: false,
      factory: () => this.tick(),
      frequency: this._frequency(),
      name: 'srcstage-jlab:jobs',
      standby: () => this.isStandby()
    });
    this._autoPoll = options.autoPoll ?? true;
    this.downloads = new DownloadsModel(this.api, () =>
      this._emit('downloads')
    );
  }

  readonly api: SrcStageAPI;

  /** Downloads of staged files on this server (download mode), read while one runs. */
  readonly downloads: DownloadsModel;

  /** Emitted whenever some part of the state changed. */
  get changed(): ISignal<this, ChangeKind> {
    return this._changed;
  }

  /** Emitted when a job reaches `completed` or `failed` while we watch. */
  get jobFinished(): ISignal<this, IJob> {
    return this._jobFinished;
  }

  get poll(): Poll {
    return this._poll;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll.dispose();
    this.downloads.dispose();
    Signal.clearData(this);
  }

  // ---------------------------------------------------------------- loading

  /** Load everything once, then start polling. */
  async initialize(): Promise<void> {
    await Promise.all([
      this.refreshConfig(),
      this.refreshSession(),
      this.refreshCollections(),
      this.refreshJobs()
    ]);
    await Promise.all([this.refreshDestination(), this.refreshNamespaces()]);
    if (this._autoPoll && !this._isDisposed) {
      void this._poll.start();
    }
  }

  /**
   * One poll tick: jobs and collections (conditional: a 304 while nothing
   * changed, so a collection made in a kernel or another tab shows up within
   * one tick), and the session while a sign-in is pending.
   */
  async tick(): Promise<void> {
    const tasks: Promise<boolean>[] = [
      this.refreshJobs(true),
      this.refreshCollections(true)
    ];
    if (this._session?.state === 'pending') {
      tasks.push(this.refreshSession());
    }
    const results = await Promise.all(tasks);
    this._updateFrequency();
    if (results.some(ok => !ok)) {
      // Let the poll back off while the server is failing.
      throw (
        this._jobsError ??
        this._collectionsError ??
        this._sessionError ??
        new Error('poll failed')
      );
    }
  }

  // ---------------------------------------------------------------- config

  get config(): IConfig | null {
    return this._config;
  }

  get configError(): SrcStageError | null {
    return this._configError;
  }

  async refreshConfig(): Promise<boolean> {
    try {
      this._config = await this.api.getConfig();
      this._configError = null;
      return true;
    } catch (e) {
      this._configError = toSrcStageError(e);
      return false;
    } finally {
      this._updateFrequency();
      this._emit('config');
    }
  }

  get preferences(): IPreferences {
    return this._preferences;
  }

  setPreferences(preferences: Partial<IPreferences>): void {
    this._preferences = { ...this._preferences, ...preferences };
    this._updateFrequency();
    this._emit('preferences');
  }

  /** The longest lifetime the server allows, when known. */
  get maxLifetimeS(): number | null {
    return this._config?.max_lifetime_s ?? null;
  }

  /** The lifetime to propose: the user's preference, else the server's default. */
  get defaultLifetimeS(): number {
    const days = this._preferences.defaultLifetimeDays;
    let seconds =
      days && days > 0
        ? Math.round(days * UNIT_SECONDS.days)
        : (this._config?.default_lifetime_s ?? FALLBACK_LIFETIME_S);
    const max = this.maxLifetimeS;
    if (max && seconds > max) {
      seconds = max;
    }
    return seconds;
  }

  /** The namespace a collection DID goes into unless the user picks another. */
  get defaultNamespace(): string {
    return this._config?.collection_namespace || this._owned[0] || '';
  }

  // ---------------------------------------------------------------- session

  get session(): ISession | null {
    return this._session;
  }

  get sessionError(): SrcStageError | null {
    return this._sessionError;
  }

  async refreshSession(): Promise<boolean> {
    const before = this._session?.state;
    try {
      this._setSession(await this.api.getSession());
      this._sessionError = null;
      return true;
    } catch (e) {
      this._sessionError = toSrcStageError(e);
      return false;
    } finally {
      this._emit('session');
      this._afterSessionChange(before);
    }
  }

  /** Start the device flow: the session turns `pending` with a user code. */
  async signIn(): Promise<void> {
    await this._changeSession('signin', () => this.api.startDeviceFlow());
  }

  /** Sign out (also cancels a pending device sign-in). */
  async signOut(): Promise<void> {
    await this._changeSession('signout', () => this.api.signOut());
  }

  private async _changeSession(
    action: 'signin' | 'signout',
    call: () => Promise<ISession>
  ): Promise<void> {
    const before = this._session?.state;
    await this._busy(action, async () => {
      try {
        this._setSession(await call());
        this._sessionError = null;
      } catch (e) {
        this._sessionError = toSrcStageError(e);
      }
      this._emit('session');
    });
    this._afterSessionChange(before);
  }

  private _setSession(session: ISession | null): void {
    this._session = session;
    this._updateFrequency();
  }

  private _afterSessionChange(before: string | undefined): void {
    const after = this._session?.state;
    if (before === 'signed_in' && after !== 'signed_in') {
      // What the previous identity found is not for whoever signs in next.
      this._search = {
        ...this._search,
        items: [],
        searched: false,
        truncated: false,
        error: null
      };
      this._selection = { selected: new Set(), anchor: null };
      this._locatedDid = null;
      this._emit('search');
      this._emit('selection');
      this._emit('locations');
    }
    if (after === 'pending' && before !== 'pending') {
      // Watch the sign-in closely.
      void this._refreshPoll();
    }
    if (
      after === 'signed_in' &&
      before !== 'signed_in' &&
      before !== undefined
    ) {
      // A new identity: what it may see and where its data goes.
      void this.refreshNamespaces();
      void this.refreshDestination();
    }
  }

  // ---------------------------------------------------------------- destination

  get destination(): IDestination | null {
    return this._destination;
  }

  get destinationError(): SrcStageError | null {
    return this._destinationError;
  }

  get destinationLoading(): boolean {
    return this._destinationLoading;
  }

  async refreshDestination(refresh = false): Promise<boolean> {
    this._destinationLoading = true;
    this._emit('destination');
    try {
      this._destination = await this.api.getDestination(refresh);
      this._destinationError = null;
      return true;
    } catch (e) {
      this._destination = null;
      this._destinationError = toSrcStageError(e);
      return false;
    } finally {
      this._destinationLoading = false;
      this._emit('destination');
    }
  }

  // ---------------------------------------------------------------- namespaces

  get namespaces(): string[] {
    return this._namespaces;
  }

  get ownedNamespaces(): string[] {
    return this._owned;
  }

  get namespacesError(): SrcStageError | null {
    return this._namespacesError;
  }

  async refreshNamespaces(): Promise<boolean> {
    try {
      const answer = await this.api.getNamespaces();
      this._namespaces = [...(answer?.namespaces ?? [])].sort();
      this._owned = answer?.owned ?? [];
      this._namespacesError = null;
      if (!this._search.namespace && this._namespaces.length) {
        this._search = {
          ...this._search,
          namespace: this._owned[0] ?? this._namespaces[0]
        };
        this._emit('search');
      }
      return true;
    } catch (e) {
      this._namespacesError = toSrcStageError(e);
      return false;
    } finally {
      this._emit('namespaces');
    }
  }

  // ---------------------------------------------------------------- search

  get search(): ISearchState {
    return this._search;
  }

  /** Change the query fields without searching. */
  setQuery(
    query: Partial<Pick<ISearchState, 'namespace' | 'pattern' | 'type'>>
  ): void {
    this._search = { ...this._search, ...query };
    this._emit('search');
  }

  /** Search with the current query; a newer search wins over an older one. */
  async runSearch(): Promise<boolean> {
    const seq = ++this._searchSeq;
    const { namespace, pattern, type } = this._search;
    const refusal = !namespace
      ? trans.__('Choose a namespace to search in.')
      : (namespaceProblem(namespace.trim()) ?? patternProblem(pattern.trim()));
    if (refusal) {
      this._search = {
        ...this._search,
        error: new SrcStageError({ message: refusal, code: 'invalid_input' }),
        searched: true,
        items: []
      };
      this._emit('search');
      return false;
    }
    this._search = { ...this._search, loading: true, error: null };
    this._emit('search');
    try {
      const answer = await this.api.searchDids({
        namespace: namespace.trim(),
        name: pattern.trim() || '*',
        type
      });
      if (seq !== this._searchSeq) {
        return false;
      }
      this._search = {
        ...this._search,
        loading: false,
        searched: true,
        error: null,
        items: answer?.items ?? [],
        truncated: !!answer?.truncated,
        limit: answer?.limit ?? null
      };
      this._selection = { selected: new Set(), anchor: null };
      this._emit('selection');
      return true;
    } catch (e) {
      if (seq !== this._searchSeq) {
        return false;
      }
      this._search = {
        ...this._search,
        loading: false,
        searched: true,
        error: toSrcStageError(e),
        items: [],
        truncated: false
      };
      return false;
    } finally {
      if (seq === this._searchSeq) {
        this._emit('search');
      }
    }
  }

  // ---------------------------------------------------------------- selection

  get selection(): ISelection {
    return this._selection;
  }

  /** The selected results, in list order. */
  get selectedDids(): string[] {
    const selected = this._selection.selected;
    return this._search.items.map(i => i.did).filter(d => selected.has(d));
  }

  /** Replace the result selection (the main-area view selects in its own row order). */
  setSelection(selection: ISelection): void {
    this._selection = selection;
    this._emit('selection');
  }

  /** Apply a click (with modifiers) on result row `index`. */
  clickResult(index: number, mods: ISelectModifiers = {}): void {
    this._selection = clickSelect(this._selection, this._keys(), index, mods);
    this._emit('selection');
  }

  selectAll(): void {
    this._selection = {
      selected: new Set(this._keys()),
      anchor: this._selection.anchor ?? 0
    };
    this._emit('selection');
  }

  clearSelection(): void {
    this._selection = { selected: new Set(), anchor: null };
    this._emit('selection');
  }

  private _keys(): string[] {
    if (this._keysFor !== this._search.items) {
      this._keysFor = this._search.items;
      this._keysCache = this._search.items.map(i => i.did);
    }
    return this._keysCache;
  }

  // ---------------------------------------------------------------- locations

  get locations(): ReadonlyMap<string, ILocationState> {
    return this._locations;
  }

  /** The DID whose locations are shown, if any. */
  get locatedDid(): string | null {
    return this._locatedDid;
  }

  async locate(did: string): Promise<void> {
    this._locatedDid = did;
    const answer = this._fetchLocation(did);
    this._emit('locations');
    await answer;
    this._emit('locations');
  }

  /** Ask where `did` is and keep the answer (or the error) in `locations`. */
  private async _fetchLocation(did: string): Promise<void> {
    this._locateCalls++;
    this._locations.set(did, { loading: true, error: null, value: null });
    try {
      const value = await this.api.locate(did);
      this._locations.set(did, { loading: false, error: null, value });
    } catch (e) {
      this._locations.set(did, {
        loading: false,
        error: toSrcStageError(e),
        value: null
      });
    }
  }

  /**
   * Locate the DIDs not located yet (the rows a table shows), a few at a time;
   * answers are cached in `locations`, so scrolling back asks nothing again.
   */
  locateMissing(dids: readonly string[]): void {
    for (const did of dids) {
      if (!this._locations.has(did) && !this._locateQueue.includes(did)) {
        this._locateQueue.push(did);
      }
    }
    while (this._locating < LOCATE_CONCURRENCY && this._locateQueue.length) {
      void this._locateNext();
    }
  }

  /** Locate requests sent so far (the view's benchmark counts them). */
  get locateCalls(): number {
    return this._locateCalls;
  }

  private async _locateNext(): Promise<void> {
    const did = this._locateQueue.shift();
    if (did === undefined || this._locations.has(did)) {
      return;
    }
    this._locating++;
    try {
      await this._fetchLocation(did);
    } finally {
      this._locating--;
      this._emit('locations');
      if (this._locateQueue.length) {
        void this._locateNext();
      }
    }
  }

  closeLocations(): void {
    this._locatedDid = null;
    this._emit('locations');
  }

  // ---------------------------------------------------------------- collections

  get collections(): ICollection[] {
    return this._collections;
  }

  get collectionsError(): SrcStageError | null {
    return this._collectionsError;
  }

  get collectionsLoaded(): boolean {
    return this._collectionsLoaded;
  }

  get activeCollectionId(): string | null {
    if (
      this._activeId &&
      this._collections.some(c => c.id === this._activeId)
    ) {
      return this._activeId;
    }
    return this._collections[0]?.id ?? null;
  }

  get activeCollection(): ICollection | null {
    const id = this.activeCollectionId;
    return this._collections.find(c => c.id === id) ?? null;
  }

  setActiveCollection(id: string | null): void {
    this._activeId = id;
    this._locatedDid = null; // the "where?" box was about the other collection's data
    this._emit('locations');
    this._emit('collections');
  }

  /** Reload the collections; `ifChanged` skips the work when the server says 304. */
  async refreshCollections(ifChanged = false): Promise<boolean> {
    const version = this._collectionsVersion;
    try {
      const collections = ifChanged
        ? await this.api.listCollectionsIfChanged()
        : await this.api.listCollections();
      if (version !== this._collectionsVersion) {
        // Asked before a change made here (a new collection): this answer is older than what we
        // hold. The next poll brings the server's list with the change (its ETag differs).
        return true;
      }
      if (collections === null && !this._collectionsError) {
        return true; // unchanged since the last read: nothing to redraw
      }
      if (collections !== null) {
        this._collections = collections;
        this._collectionsLoaded = true;
      }
      this._collectionsError = null;
      this._emit('collections');
      return true;
    } catch (e) {
      this._collectionsError = toSrcStageError(e);
      this._emit('collections');
      return false;
    }
  }

  async createCollection(
    name: string,
    dids: string[] = []
  ): Promise<ICollection> {
    const collection = await this._busy('collections', () =>
      this.api.createCollection(name, dids)
    );
    this._putCollection(collection, true);
    this._activeId = collection.id;
    this._emit('collections');
    return collection;
  }

  async importCollection(doc: unknown): Promise<ICollection> {
    const collection = await this._busy('collections', () =>
      this.api.importCollection(doc)
    );
    this._putCollection(collection, true);
    this._activeId = collection.id;
    this._emit('collections');
    return collection;
  }

  async renameCollection(id: string, name: string): Promise<ICollection> {
    return this._patchCollection(id, { name });
  }

  async addToCollection(id: string, dids: string[]): Promise<ICollection> {
    return this._patchCollection(id, { add: dids });
  }

  async removeFromCollection(id: string, dids: string[]): Promise<ICollection> {
    return this._patchCollection(id, { remove: dids });
  }

  async deleteCollection(id: string): Promise<void> {
    await this._busy(`collection:${id}`, () => this.api.deleteCollection(id));
    this._collectionsVersion++;
    this._collections = this._collections.filter(c => c.id !== id);
    if (this._activeId === id) {
      this._activeId = null;
    }
    this._emit('collections');
  }

  exportCollection(id: string): Promise<ICollectionExport> {
    return this.api.exportCollection(id);
  }

  async submit(id: string, namespace?: string): Promise<ISubmitResult> {
    const result = await this._busy(`collection:${id}`, () =>
      this.api.submit(id, namespace ? { namespace } : {})
    );
    if (result?.collection) {
      this._putCollection(result.collection);
    }
    this._emit('collections');
    return result;
  }

  /** What staging would do, without changing anything. */
  precheck(id: string, lifetimeS?: number): Promise<IPrecheck> {
    return this._busy(`collection:${id}`, () =>
      this.api.precheck(id, lifetimeS)
    );
  }

  /**
   * Stage a collection. The server decides how: submitting the collection DID first
   * (into `namespace` when given) where the DM serves collection routes, else one
   * confirmed staging request with the member DIDs and `namespace` as parent namespace.
   */
  async stage(
    id: string,
    lifetimeS?: number | string,
    namespace?: string
  ): Promise<IJob> {
    const job = await this._busy(`collection:${id}`, () =>
      this.api.stage(id, lifetimeS, namespace || undefined)
    );
    this._upsertJob(job);
    void this.refreshCollections();
    void this.refreshConfig(); // the first stage may have taught the server what the DM serves
    void this._refreshPoll();
    return job;
  }

  private async _patchCollection(
    id: string,
    patch: { name?: string; add?: string[]; remove?: string[] }
  ): Promise<ICollection> {
    const collection = await this._busy(`collection:${id}`, () =>
      this.api.updateCollection(id, patch)
    );
    this._putCollection(collection);
    this._emit('collections');
    return collection;
  }

  private _putCollection(collection: ICollection, first = false): void {
    this._collectionsVersion++;
    const i = this._collections.findIndex(c => c.id === collection.id);
    if (i >= 0) {
      const next = [...this._collections];
      next[i] = collection;
      this._collections = next;
    } else {
      this._collections = first
        ? [collection, ...this._collections]
        : [...this._collections, collection];
    }
  }

  // ---------------------------------------------------------------- jobs

  get jobs(): IJob[] {
    return this._jobs;
  }

  get jobsError(): SrcStageError | null {
    return this._jobsError;
  }

  get jobsLoaded(): boolean {
    return this._jobsLoaded;
  }

  /** Whether some job is still moving (or in a state we cannot read yet). */
  get hasActiveJobs(): boolean {
    return this._jobs.some(j => j.phase === 'active' || j.phase === 'unknown');
  }

  /** Reload the jobs; `ifChanged` skips the work when the server says 304. */
  async refreshJobs(ifChanged = false): Promise<boolean> {
    try {
      const jobs = ifChanged
        ? await this.api.listJobsIfChanged()
        : await this.api.listJobs();
      if (jobs === null) {
        if (this._jobsError) {
          this._jobsError = null;
          this._emit('jobs');
        }
        return true; // unchanged since the last read
      }
      this._jobsError = null;
      this._setJobs(jobs);
      return true;
    } catch (e) {
      this._jobsError = toSrcStageError(e);
      this._emit('jobs');
      return false;
    }
  }

  async forgetJob(id: string): Promise<void> {
    await this._busy(`job:${id}`, () => this.api.forgetJob(id));
    this._jobs = this._jobs.filter(j => j.id !== id);
    this._jobPhases.delete(id);
    this._updateFrequency();
    this._emit('jobs');
  }

  /** The job's local paths; in download mode the files are downloaded first (shown on its card). */
  jobPaths(id: string): Promise<IPaths> {
    return this.readFiles.mode === 'download'
      ? this.downloads.track(this.api.jobPaths(id))
      : this.api.jobPaths(id);
  }

  /** How staged files are read on this server, and why not when they cannot be (from `/config`). */
  get readFiles(): IAvailability & { mode?: 'mount' | 'download' | null } {
    return this._config?.capabilities?.read_files ?? { available: null };
  }

  /** Whether the DM serves a job action here, and if not, why (from `/config`). */
  jobAction(action: JobAction): IAvailability {
    return (
      this._config?.capabilities?.job_actions?.[action] ?? { available: null }
    );
  }

  async extendJob(id: string, lifetime: string): Promise<IJob> {
    const job = await this._busy(`job:${id}`, () =>
      this.api.extendJob(id, lifetime)
    );
    this._upsertJob(job);
    return job;
  }

  async releaseJob(id: string): Promise<IJob> {
    const job = await this._busy(`job:${id}`, () => this.api.releaseJob(id));
    this._upsertJob(job);
    return job;
  }

  /** The new job a retry made; it is put first and followed like any other. */
  async retryJob(id: string): Promise<IJob> {
    const job = await this._busy(`job:${id}`, () => this.api.retryJob(id));
    this._upsertJob(job);
    void this.refreshJobs(); // the failed job now names its retry
    return job;
  }

  private _upsertJob(job: IJob): void {
    const others = this._jobs.filter(j => j.id !== job.id);
    this._setJobs([job, ...others]);
  }

  private _setJobs(jobs: IJob[]): void {
    const finished: IJob[] = [];
    if (this._jobsLoaded) {
      for (const job of jobs) {
        const before = this._jobPhases.get(job.id);
        const terminal = job.phase === 'completed' || job.phase === 'failed';
        // A released job is over too, but by the user's own act: no notification.
        if (terminal && before !== job.phase) {
          finished.push(job);
        }
      }
    }
    this._jobPhases = new Map(jobs.map(j => [j.id, j.phase]));
    this._jobs = jobs;
    if (jobs.some(j => j.downloading)) {
      this.downloads.watch(); // e.g. job.paths() in a kernel
    }
    this._jobsLoaded = true;
    this._updateFrequency();
    this._emit('jobs');
    this._refreshShownJobFiles();
    for (const job of finished) {
      this._jobFinished.emit(job);
    }
  }

  // ---------------------------------------------------------------- per-file states

  /** Per-file states of the jobs whose files are shown (read again as their job moves). */
  get jobFiles(): ReadonlyMap<string, IJobFilesState> {
    return this._jobFiles;
  }

  /** Show where each file of job `id` is now; kept up to date while shown. */
  async showJobFiles(id: string): Promise<void> {
    this._jobFilesShown.add(id);
    await this._fetchJobFiles(id);
  }

  hideJobFiles(id: string): void {
    this._jobFilesShown.delete(id);
    this._jobFiles.delete(id);
    this._jobFilesSeen.delete(id);
    this._emit('jobFiles');
  }

  /** A shown job whose server-side record changed (a poll moved it) is read again. */
  private _refreshShownJobFiles(): void {
    for (const id of this._jobFilesShown) {
      const job = this._jobs.find(j => j.id === id);
      if (!job) {
        this.hideJobFiles(id); // forgotten
      } else if (this._jobFilesSeen.get(id) !== jobMoment(job)) {
        void this._fetchJobFiles(id);
      }
    }
  }

  private async _fetchJobFiles(id: string): Promise<void> {
    if (this._jobFilesReading.has(id)) {
      return; // one read at a time per job; the next poll reads again if it moved
    }
    this._jobFilesReading.add(id);
    const job = this._jobs.find(j => j.id === id);
    const previous = this._jobFiles.get(id)?.value ?? null;
    this._jobFiles.set(id, { loading: true, error: null, value: previous });
    this._emit('jobFiles');
    try {
      const value = await this.api.jobFiles(id);
      if (this._jobFilesShown.has(id)) {
        this._jobFiles.set(id, { loading: false, error: null, value });
        this._jobFilesSeen.set(id, job ? jobMoment(job) : '');
      }
    } catch (e) {
      if (this._jobFilesShown.has(id)) {
        this._jobFiles.set(id, {
          loading: false,
          error: toSrcStageError(e),
          value: previous
        });
      }
    } finally {
      this._jobFilesReading.delete(id);
      this._emit('jobFiles');
    }
  }

  // ---------------------------------------------------------------- polling

  get visible(): boolean {
    return this._visible;
  }

  /** The panel was shown or hidden. */
  setVisible(visible: boolean): void {
    if (this._visible === visible) {
      return;
    }
    this._visible = visible;
    if (visible) {
      void this._refreshPoll();
    }
  }

  /** The main-area view was shown or hidden (it polls like the panel). */
  setViewVisible(visible: boolean): void {
    if (this._viewVisible === visible) {
      return;
    }
    this._viewVisible = visible;
    if (visible) {
      void this._refreshPoll();
    }
  }

  /**
   * Whether the poll should rest: always while the browser tab is hidden;
   * while the panel is hidden, unless a job or a sign-in is under way
   * (so that its end is still announced).
   */
  isStandby(): boolean {
    if (this._isDocumentHidden()) {
      return true;
    }
    if (this._visible || this._viewVisible) {
      return false;
    }
    return !(this.hasActiveJobs || this._session?.state === 'pending');
  }

  /** The wait between two polls now, in ms. */
  get pollIntervalMs(): number {
    const idle = Math.max(
      1000,
      (this._preferences.pollIntervalS ||
        this._config?.poll_interval_s ||
        FALLBACK_POLL_S) * 1000
    );
    if (this._session?.state === 'pending') {
      return Math.min(idle, PENDING_INTERVAL_MS);
    }
    if (this.hasActiveJobs) {
      // Faster while something moves, but never hammer the server.
      return Math.max(1000, Math.min(idle, Math.round(idle / 4), 3000));
    }
    return idle;
  }

  private _frequency(): IPoll.Frequency {
    const interval = this.pollIntervalMs;
    return {
      interval,
      backoff: true,
      max: Math.max(interval, MAX_BACKOFF_MS)
    };
  }

  private _updateFrequency(): void {
    if (this._poll && !this._poll.isDisposed) {
      this._poll.frequency = this._frequency();
    }
  }

  private async _refreshPoll(): Promise<void> {
    if (this._isDisposed || !this._autoPoll) {
      return;
    }
    if (this._poll.state.phase === 'constructed') {
      await this._poll.start();
    } else {
      await this._poll.refresh();
    }
  }

  // ---------------------------------------------------------------- busy

  /** Whether an operation under `key` is running (`signin`, `collection:<id>`…). */
  isBusy(key: string): boolean {
    return (this._busyKeys.get(key) ?? 0) > 0;
  }

  private async _busy<T>(key: string, fn: () => Promise<T>): Promise<T> {
    this._busyKeys.set(key, (this._busyKeys.get(key) ?? 0) + 1);
    this._emit('busy');
    try {
      return await fn();
    } finally {
      this._busyKeys.set(key, (this._busyKeys.get(key) ?? 1) - 1);
      this._emit('busy');
    }
  }

  private _emit(kind: ChangeKind): void {
    if (!this._isDisposed) {
      this._changed.emit(kind);
    }
  }

  private _changed = new Signal<this, ChangeKind>(this);
  private _jobFinished = new Signal<this, IJob>(this);
  private _isDisposed = false;
  private _poll: Poll;
  private _autoPoll: boolean;
  private _isDocumentHidden: () => boolean;
  private _visible = false;
  private _viewVisible = false;
  private _preferences: IPreferences;
  private _busyKeys = new Map<string, number>();

  private _config: IConfig | null = null;
  private _configError: SrcStageError | null = null;
  private _session: ISession | null = null;
  private _sessionError: SrcStageError | null = null;
  private _destination: IDestination | null = null;
  private _destinationError: SrcStageError | null = null;
  private _destinationLoading = false;
  private _namespaces: string[] = [];
  private _owned: string[] = [];
  private _namespacesError: SrcStageError | null = null;
  private _search: ISearchState = {
    namespace: '',
    pattern: '*',
    type: 'all',
    loading: false,
    searched: false,
    error: null,
    items: [],
    truncated: false,
    limit: null
  };
  private _searchSeq = 0;
  private _selection: ISelection = { selected: new Set(), anchor: null };
  private _keysFor: IDidInfo[] | null = null;
  private _keysCache: string[] = [];
  private _locations = new Map<string, ILocationState>();
  private _locatedDid: string | null = null;
  private _locateQueue: string[] = [];
  private _locating = 0;
  private _locateCalls = 0;
  private _collections: ICollection[] = [];
  private _collectionsError: SrcStageError | null = null;
  private _collectionsLoaded = false;
  private _activeId: string | null = null;
  /** Bumped by every change made here, so that a listing asked for before it is not taken. */
  private _collectionsVersion = 0;
  private _jobs: IJob[] = [];
  private _jobsError: SrcStageError | null = null;
  private _jobsLoaded = false;
  private _jobPhases = new Map<string, string>();
  private _jobFiles = new Map<string, IJobFilesState>();
  private _jobFilesShown = new Set<string>();
  private _jobFilesReading = new Set<string>();
  /** The job's record (jobMoment) when its files were last read. */
  private _jobFilesSeen = new Map<string, string>();
}

/** What changes when a job moves: its state and its counts. */
function jobMoment(job: IJob): string {
  const p = job.progress ?? {};
  return [job.phase, job.state, p.files_done, p.bytes_done].join('|');
}
