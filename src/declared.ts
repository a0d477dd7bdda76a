/**
 * Data the current notebook declares it needs (`metadata.srcstage`), for the sidebar.
 *
 * The schema is described once, in `srcstage_jlab/declared.py`; `readDeclaration` mirrors only what
 * the sidebar must know to show a declaration and name a bad field. Both are checked against the
 * same fixture notebooks (`tests/fixtures/declared-notebooks.json`). The server validates the DIDs
 * again when the sidebar stages them.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { SrcStageError, toSrcStageError } from './api';
import { trans } from './i18n';
import type { SrcStageModel } from './model';
import { namespaceProblem } from './text';
import type { ICollection, IJob, IPrecheck } from './tokens';

/** The notebook metadata key (declared.py `METADATA_KEY`). */
export const METADATA_KEY = 'srcstage';

export interface IDeclaredCollection {
  name: string;
  dids: string[];
  /** Seconds or a text such as '7d'; the server's default when absent. */
  lifetime?: string | number;
}

export interface IDeclaration {
  collections: IDeclaredCollection[];
  /** A malformed declaration: what is wrong, naming the field (nothing is staged from it). */
  error: string | null;
}

function invalid(where: string, what: string): IDeclaration {
  return {
    collections: [],
    error: trans.__('metadata.%1%2: %3', METADATA_KEY, where, what)
  };
}

function didProblem(did: unknown): string | null {
  if (typeof did !== 'string' || !did.includes(':')) {
    return trans.__('write it as namespace:name');
  }
  const text = did.trim();
  const [namespace, ...rest] = text.split(':');
  return (
    namespaceProblem(namespace) ??
    (rest.join(':') ? null : trans.__('the name is empty'))
  );
}

/** The collections a notebook's metadata declares (`{}` when it declares none). */
export function readDeclaration(metadata: unknown): IDeclaration {
  const meta = metadata as Record<string, unknown> | null | undefined;
  if (!meta || typeof meta !== 'object' || !(METADATA_KEY in meta)) {
    return { collections: [], error: null };
  }
  const block = meta[METADATA_KEY] as { collections?: unknown } | null;
  if (
    !block ||
    typeof block !== 'object' ||
    !Array.isArray(block.collections)
  ) {
    return invalid('', trans.__('must be an object with a list "collections"'));
  }
  const found: IDeclaredCollection[] = [];
  for (const [i, entry] of block.collections.entries()) {
    const where = `.collections[${i}]`;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      return invalid(
        where,
        trans.__('must be an object with name, dids and an optional lifetime')
      );
    }
    const { name, dids, lifetime } = entry as Record<string, unknown>;
    if (typeof name !== 'string' || !name.trim()) {
      return invalid(`${where}.name`, trans.__('give the collection a name'));
    }
    if (!Array.isArray(dids) || !dids.length) {
      return invalid(
        `${where}.dids`,
        trans.__('give a non-empty list of DIDs (namespace:name)')
      );
    }
    for (const [j, did] of dids.entries()) {
      const problem = didProblem(did);
      if (problem) {
        return invalid(
          `${where}.dids[${j}]`,
          `${JSON.stringify(did)}: ${problem}`
        );
      }
    }
    if (
      lifetime !== undefined &&
      lifetime !== null &&
      typeof lifetime !== 'string' &&
      typeof lifetime !== 'number'
    ) {
      return invalid(
        `${where}.lifetime`,
        trans.__("a number of seconds or a text such as '7d'")
      );
    }
    if (found.some(c => c.name === name.trim())) {
      return invalid(`${where}.name`, trans.__('“%1” is declared twice', name));
    }
    const declared: IDeclaredCollection = {
      name: name.trim(),
      dids: [...new Set(dids.map(d => (d as string).trim()))]
    };
    if (lifetime !== undefined && lifetime !== null) {
      declared.lifetime = lifetime as string | number;
    }
    found.push(declared);
  }
  return { collections: found, error: null };
}

/** The metadata block with `collection` declared (replacing one of the same name). */
export function withDeclared(
  collections: IDeclaredCollection[],
  collection: IDeclaredCollection
): { collections: IDeclaredCollection[] } {
  return {
    collections: [
      ...collections.filter(c => c.name !== collection.name),
      collection
    ]
  };
}

/** The metadata block without `name`; `null` when nothing is left (the key goes). */
export function withoutDeclared(
  collections: IDeclaredCollection[],
  name: string
): { collections: IDeclaredCollection[] } | null {
  const left = collections.filter(c => c.name !== name);
  return left.length ? { collections: left } : null;
}

/** What the sidebar needs of a notebook; `index.ts` adapts a NotebookPanel to it. */
export interface IDeclaringNotebook {
  /** Its path, for display and to tell notebooks apart. */
  readonly path: string;
  /** Its whole metadata (read when it changes). */
  metadata(): unknown;
  /** Set our key's value (`null` deletes the key) and mark the notebook changed. */
  setDeclaration(value: { collections: IDeclaredCollection[] } | null): void;
  /** Emitted when the notebook's metadata changed. */
  readonly metadataChanged: ISignal<unknown, unknown>;
}

/** One declared collection as the sidebar shows it. */
export interface IDeclaredStatus {
  declared: IDeclaredCollection;
  /** The server's collection of that name, when there is one. */
  collection: ICollection | null;
  /** Declared DIDs the server's collection does not hold (all of them without a collection). */
  notCollected: string[];
  /** The stage route's dry run for it, when it holds every declared DID. */
  precheck: IPrecheck | null;
  /** The newest job for that collection. */
  job: IJob | null;
}

/** What "Stage what is missing" did for one collection. */
export interface IStageOutcome {
  name: string;
  job?: IJob;
  /** Nothing to do: every file is at the destination already. */
  alreadyHere?: boolean;
  error?: SrcStageError;
}

export type DeclaredChange = 'notebook' | 'checks' | 'staging';

/**
 * The declared data of the current notebook, with the dry run of each collection: run once when
 * the notebook becomes current or its declaration changes (and after staging one), never per render.
 */
export class DeclaredData {
  constructor(model: SrcStageModel) {
    this.model = model;
    model.jobFinished.connect(this._onJobFinished, this);
  }

  readonly model: SrcStageModel;

  get changed(): ISignal<this, DeclaredChange> {
    return this._changed;
  }

  get notebook(): IDeclaringNotebook | null {
    return this._notebook;
  }

  get declaration(): IDeclaration {
    return this._declaration;
  }

  get checking(): boolean {
    return this._checking > 0;
  }

  get staging(): boolean {
    return this._staging;
  }

  get outcomes(): IStageOutcome[] {
    return this._outcomes;
  }

  /** The notebook now current in the main area (`null`: not a notebook). */
  setNotebook(notebook: IDeclaringNotebook | null): void {
    if (notebook === this._notebook) {
      return;
    }
    this._notebook?.metadataChanged.disconnect(this._onMetadata, this);
    this._notebook = notebook;
    notebook?.metadataChanged.connect(this._onMetadata, this);
    this._outcomes = [];
    this._read();
  }

  /** Each declared collection with what the server holds of it (no request made here). */
  statuses(): IDeclaredStatus[] {
    return this._declaration.collections.map(declared => {
      const collection = this._serverCollection(declared.name);
      const held = new Set(collection?.dids.map(d => d.did) ?? []);
      const notCollected = declared.dids.filter(d => !held.has(d));
      const checked = collection ? this._prechecks.get(collection.id) : null;
      const job = collection
        ? (this.model.jobs.find(j => j.collection_id === collection.id) ?? null)
        : null;
      return {
        declared,
        collection,
        notCollected,
        precheck: !notCollected.length && checked ? checked : null,
        job
      };
    });
  }

  /** Declare `collection` in the current notebook (replacing one of the same name). */
  declare(collection: IDeclaredCollection): void {
    if (!this._notebook) {
      return;
    }
    const current = readDeclaration(this._notebook.metadata()).collections;
    this._notebook.setDeclaration(withDeclared(current, collection));
  }

  /** Remove `name` from the current notebook's declared data. */
  undeclare(name: string): void {
    if (!this._notebook) {
      return;
    }
    const current = readDeclaration(this._notebook.metadata()).collections;
    this._notebook.setDeclaration(withoutDeclared(current, name));
  }

  isDeclared(name: string): boolean {
    return this._declaration.collections.some(c => c.name === name);
  }

  /**
   * Stage what is missing: each declared collection is made (or completed) on the server, checked
   * with the stage route's dry run, and staged through the same stage route as the sidebar's Stage
   * unless all its files are here already. A refusal is kept, verbatim, next to its collection.
   */
  async stageMissing(): Promise<IStageOutcome[]> {
    if (this._staging) {
      return this._outcomes;
    }
    this._staging = true;
    this._outcomes = [];
    this._emit('staging');
    const outcomes: IStageOutcome[] = [];
    try {
      for (const declared of this._declaration.collections) {
        outcomes.push(await this._stageOne(declared));
        this._outcomes = [...outcomes];
        this._emit('staging');
      }
    } finally {
      this._staging = false;
      this._emit('staging');
    }
    return outcomes;
  }

  dispose(): void {
    this.setNotebook(null);
    this.model.jobFinished.disconnect(this._onJobFinished, this);
    Signal.clearData(this);
  }

  private async _stageOne(
    declared: IDeclaredCollection
  ): Promise<IStageOutcome> {
    const name = declared.name;
    try {
      let collection = this._serverCollection(name);
      if (!collection) {
        collection = await this.model.createCollection(name, declared.dids);
      } else {
        const held = new Set(collection.dids.map(d => d.did));
        const missing = declared.dids.filter(d => !held.has(d));
        if (missing.length) {
          collection = await this.model.addToCollection(collection.id, missing);
        }
      }
      const checked = await this.model.api.precheck(
        collection.id,
        declared.lifetime
      );
      this._prechecks.set(collection.id, checked);
      this._emit('checks');
      if (allHere(checked)) {
        return { name, alreadyHere: true };
      }
      const job = await this.model.stage(
        collection.id,
        declared.lifetime,
        this.model.defaultNamespace || undefined
      );
      return { name, job };
    } catch (e) {
      return { name, error: toSrcStageError(e) };
    }
  }

  private _serverCollection(name: string): ICollection | null {
    return this.model.collections.find(c => c.name === name) ?? null;
  }

  private _onMetadata(): void {
    const before = JSON.stringify(this._declaration);
    const next = readDeclaration(this._notebook?.metadata());
    if (JSON.stringify(next) !== before) {
      this._read(); // our key changed, not some other metadata
    }
  }

  private _read(): void {
    this._declaration = readDeclaration(this._notebook?.metadata());
    this._prechecks.clear();
    this._emit('notebook');
    void this._checkAll();
  }

  /** The dry run of every declared collection the server holds in full. */
  private async _checkAll(): Promise<void> {
    const seq = ++this._checkSeq;
    if (!this._declaration.collections.length) {
      return;
    }
    if (!this.model.collectionsLoaded) {
      await this.model.refreshCollections();
    }
    const targets = this.statuses().filter(
      s => s.collection && !s.notCollected.length
    );
    await Promise.all(targets.map(s => this._check(s, seq)));
  }

  private async _check(status: IDeclaredStatus, seq: number): Promise<void> {
    const id = status.collection!.id;
    this._checking++;
    this._emit('checks');
    try {
      const checked = await this.model.api.precheck(
        id,
        status.declared.lifetime
      );
      if (seq === this._checkSeq) {
        this._prechecks.set(id, checked);
      }
    } catch (e) {
      // A refused dry run says why with its problems; other failures say it in place of one.
      const err = toSrcStageError(e);
      if (seq === this._checkSeq) {
        this._prechecks.set(
          id,
          err.precheck ?? {
            ok: false,
            problems: [{ message: err.message, detail: err.detail }]
          }
        );
      }
    } finally {
      this._checking--;
      this._emit('checks');
    }
  }

  private _onJobFinished(_: SrcStageModel, job: IJob): void {
    const status = this.statuses().find(
      s => s.collection && s.collection.id === job.collection_id
    );
    if (status && !status.notCollected.length) {
      void this._check(status, this._checkSeq); // what is here has changed
    }
  }

  private _emit(change: DeclaredChange): void {
    this._changed.emit(change);
  }

  private _changed = new Signal<this, DeclaredChange>(this);
  private _notebook: IDeclaringNotebook | null = null;
  private _declaration: IDeclaration = { collections: [], error: null };
  private _prechecks = new Map<string, IPrecheck>();
  private _checkSeq = 0;
  private _checking = 0;
  private _staging = false;
  private _outcomes: IStageOutcome[] = [];
}

/** Whether a dry run found every file at the destination already. */
export function allHere(precheck: IPrecheck | null | undefined): boolean {
  const files = precheck?.files;
  const here = precheck?.already_at_destination?.files;
  return (
    typeof files === 'number' &&
    files > 0 &&
    typeof here === 'number' &&
    here >= files &&
    !precheck?.sampled
  );
}
