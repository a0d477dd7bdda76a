/**
 * Shapes of the `/srcstage/` REST routes (see `srcstage_jlab/openapi.yaml`)
 * and the token under which the sidebar's model is published.
 */
import { Token } from '@lumino/coreutils';
import type { SrcStageModel } from './model';

/** The plugin id, also the settings id (`schema/plugin.json`). */
export const PLUGIN_ID = 'srcstage-jlab:plugin';

/** Command ids. */
export namespace CommandIDs {
  export const open = 'srcstage:open';
  export const refresh = 'srcstage:refresh';
  export const declare = 'srcstage:declare-collection';
  export const undeclare = 'srcstage:undeclare-collection';
  export const openView = 'srcstage:open-view';
}

/** The frontend model, for other extensions that want to react to jobs. */
export const ISrcStageModel = new Token<SrcStageModel>(
  'srcstage-jlab:ISrcStageModel',
  'The SRCNet staging model: session, collections and staging jobs.'
);

/** `detail` as SRCNet (FastAPI) sends it: a string, or a list of validation items. */
export type ErrorDetail =
  string | IValidationItem[] | Record<string, unknown> | null | undefined;

export interface IValidationItem {
  loc?: Array<string | number>;
  msg?: string;
  type?: string;
}

export type ErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'not_signed_in'
  | 'forbidden'
  | 'conflict'
  | 'precheck_failed'
  | 'not_staged'
  | 'unavailable'
  | 'no_destination'
  | 'error'
  | 'network'
  | string;

export interface IErrorBody {
  message: string;
  detail?: ErrorDetail;
  code: ErrorCode;
  service?: string | null;
  precheck?: IPrecheck;
}

export interface IConfig {
  version?: string;
  default_lifetime_s?: number;
  max_lifetime_s?: number;
  collection_namespace?: string | null;
  poll_interval_s?: number;
  /** What the DM serves beyond the confirmed contract, as learnt so far. */
  capabilities?: {
    submit_only?: { available: boolean; why?: string | null };
    search?: { available: boolean; why?: string | null };
    stage_via?: 'collection' | 'staging request';
    /** Job actions; `available` is null until the server has learnt it, `why` says why not. */
    job_actions?: Partial<Record<JobAction, IAvailability>>;
    /** How staged files are read here (a mount, or download mode) and, when they cannot be, why. */
    read_files?: IAvailability & { mode?: 'mount' | 'download' | null };
  };
}

export type JobAction = 'extend' | 'release' | 'retry' | 'forget';

export interface IAvailability {
  available: boolean | null;
  why?: string | null;
}

export type SessionState = 'signed_in' | 'signed_out' | 'pending' | 'error';

export interface ISession {
  state: SessionState;
  user?: { username?: string; name?: string } | null;
  source?: 'environment' | 'file' | 'device' | 'jupyterhub' | null;
  /** The JupyterHub this server's sign-in comes from (token_source "jupyterhub"). */
  hub?: string | null;
  device?: {
    user_code: string;
    verification_uri: string;
    verification_uri_complete?: string;
    expires_at?: string;
  } | null;
  error?: IErrorBody | null;
  /** Whether this server can start a device-flow sign-in (absent: yes). */
  device_flow?: boolean;
}

export interface IStorageArea {
  id?: string;
  name?: string;
  type?: string;
  tier?: number | null;
  site?: string | null;
  node?: string | null;
  active?: boolean;
  inactive_reason?: string | null;
}

export interface IDestination {
  storage_area: IStorageArea;
  found_by?: string;
  explanation?: string;
  mount?: string | null;
}

export interface INamespaces {
  namespaces: string[];
  owned?: string[];
}

export type DidType = 'file' | 'dataset' | 'container';
export type DidTypeFilter = 'all' | DidType;

export interface IDidInfo {
  did: string;
  namespace?: string;
  name?: string;
  type?: DidType | string | null;
  bytes?: number | null;
}

export interface IDidSearch {
  items: IDidInfo[];
  truncated?: boolean;
  limit?: number;
}

export interface ILocation {
  rse: string;
  storage_area_id?: string | null;
  files?: number;
  /** Bytes of the DID held there, when the DM says. */
  bytes?: number | null;
  /** Whether the RSE is tape (a recall comes before a copy). */
  tape?: boolean;
  is_destination?: boolean;
}

export interface ILocations {
  did: string;
  locations: ILocation[];
}

export interface ICollection {
  id: string;
  name: string;
  dids: IDidInfo[];
  created_at?: string;
  updated_at?: string;
  submitted?: {
    /** null when the DM made the parent container and did not name it */
    did: string | null;
    at?: string;
    stale?: boolean;
    via?: 'collection' | 'staging request';
    description?: string | null;
  } | null;
  totals?: {
    dids: number;
    files?: number | null;
    bytes?: number | null;
  };
}

export interface ICollectionExport {
  format: 'srcstage-collection/1';
  name: string;
  dids: string[];
}

export interface ISubmitResult {
  did: string;
  created: boolean;
  collection: ICollection;
}

export interface IPrecheckProblem {
  code?: string;
  message: string;
  detail?: ErrorDetail;
}

export interface IPrecheck {
  ok: boolean;
  problems?: IPrecheckProblem[];
  lifetime_s?: number | null;
  max_lifetime_s?: number;
  expires_at?: string | null;
  destination?: IStorageArea;
  submitted?: boolean;
  did?: string | null;
  /** how Stage will do it: make the collection DID first, or one confirmed staging request */
  stage_via?: 'collection' | 'staging request';
  files?: number | null;
  bytes?: number | null;
  already_at_destination?: { files: number; bytes?: number | null } | null;
  /** Where the data is now: one row per storage area holding some of it. */
  where?: IWhere[] | null;
  /** Files whose only copies are on tape (a recall comes first). */
  files_on_tape?: number | null;
  /** Set when where/already/files_on_tape are estimates from a sample of the files. */
  sampled?: { located: number; of: number } | null;
  /** Why where/already could not be counted, when so. */
  unknown_reason?: string | null;
  quota?: IQuota | null;
}

export interface IWhere {
  rse: string;
  files: number;
  bytes?: number | null;
  tape: boolean;
  is_destination: boolean;
}

/** The user's quota at the destination; `served` false = the DM does not tell it. */
export interface IQuota {
  served: boolean;
  limit?: number;
  used?: number;
  left?: number;
  needed?: number | null;
  fits?: boolean | null;
}

export interface IProgress {
  files_total?: number | null;
  files_done?: number | null;
  bytes_total?: number | null;
  bytes_done?: number | null;
}

/** 'released': the user gave the staged copy back early (job.release()). */
export type JobPhase =
  'active' | 'completed' | 'failed' | 'released' | 'unknown';

export interface IJob {
  id: string;
  collection_id?: string | null;
  collection_name?: string | null;
  did: string;
  destination?: IStorageArea;
  lifetime_s?: number;
  created_at?: string;
  updated_at?: string;
  expires_at?: string | null;
  state: string;
  phase: JobPhase;
  progress?: IProgress;
  error?: IErrorBody | null;
  /** "SRCNet is slow to answer; retrying" while the server's status polls meet transient failures. */
  /** The job a retry of this failed one made, and the failed job this one retries. */
  retried_by?: string | null;
  retry_of?: string | null;
  notice?: string | null;
  /** Its files are being downloaded on this server now (download mode; see `GET /downloads`). */
  downloading?: boolean;
}

export interface IPathEntry {
  did: string;
  path: string;
  exists: boolean;
  bytes?: number | null;
}

/** Where one file of a job is now (from DM locate). */
export type JobFileState = 'on_tape' | 'on_disk' | 'staged';

export interface IJobFile {
  /** The file's DID, when its replica URLs tell it. */
  did: string | null;
  name: string;
  state: JobFileState;
  /** The RSEs holding a replica. */
  rses: string[];
}

/** Each file of a job and where it is now (`GET /jobs/{id}/files`). */
export interface IJobFiles {
  job_id: string;
  phase: string;
  destination: string;
  counts: Record<JobFileState, number>;
  /** Not staged first (tape, then disk), then by name; at most the limit asked. */
  files: IJobFile[];
  truncated: boolean;
  /** DIDs of the job not located in this answer (located by a later one). */
  not_located: number;
}

export interface IPaths {
  did: string;
  destination?: string;
  root?: string | null;
  paths: IPathEntry[];
  missing: number;
}

/** User preferences from the settings registry (`schema/plugin.json`). */
export interface IPreferences {
  /** Default lifetime in days; 0 means "use the server's default". */
  defaultLifetimeDays: number;
  /** Seconds between job refreshes while nothing is being staged; 0 means "the server's `poll_interval_s`". */
  pollIntervalS: number;
}
