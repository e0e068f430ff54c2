// The ports through which the core reaches the world. Each has an AWS adapter and an embedded
// (local mode) adapter; one contract suite per port in test/contract runs against both.
import type { Readable } from "node:stream";
import type { CounterFields, CounterKey } from "./backup-counters.ts";
import type {
  AuditEntry,
  Backup,
  Drill,
  JobStatus,
  ManagedDatabase,
  Restore,
  Schedule,
  Server,
  Settings,
} from "./entities.ts";
import type { DomainEvent } from "./events.ts";

// ---------------------------------------------------------------------------------------------
// Metadata store
// ---------------------------------------------------------------------------------------------

export interface PageRequest {
  /** 1..100. */
  limit: number;
  /** Opaque token from a previous page's `next_cursor`. A malformed cursor is a ValidationError. */
  cursor?: string | undefined;
}

export interface Page<T> {
  items: T[];
  /** Null when there is nothing more. */
  next_cursor: string | null;
}

/**
 * One kind of entity. Ids are UUIDv7 (time-ordered), so "newest first" is descending id order.
 * Lists never scan the whole collection: each filter combination is answered from an index.
 */
export interface EntityStore<T extends { id: string }, F> {
  /** Fails with ConflictError when the id exists. */
  create(item: T): Promise<T>;
  get(id: string): Promise<T | undefined>;
  /**
   * Read-modify-write of the fields in `patch` (never `id`), as one optimistic conditional write:
   * NotFoundError when absent, retried internally on a concurrent change. Returns the new item.
   */
  update(id: string, patch: Partial<Omit<T, "id">>): Promise<T>;
  /** Returns whether something was deleted. */
  delete(id: string): Promise<boolean>;
  /** Newest first. */
  list(filter: F, page: PageRequest): Promise<Page<T>>;
}

/** A store of jobs (backups, restores) whose status moves only by conditional transitions. */
export interface JobStore<T extends { id: string; status: JobStatus }, F> extends EntityStore<T, F> {
  /**
   * Moves the job to `to` and applies `patch`, in one conditional write that succeeds only if the
   * current status is one of `statusesAllowedBefore(to)` (state-machine.ts). NotFoundError when
   * absent; ConflictError when the current status does not allow it (including losing a race).
   * `update` must not be used to change `status`: it throws ConflictError if the patch has one.
   */
  transition(id: string, to: JobStatus, patch?: Partial<Omit<T, "id" | "status">>): Promise<T>;
}

/** Servers are few; they are listed whole. */
export type ServerFilter = Record<string, never>;
export interface DatabaseFilter {
  server_id?: string | undefined;
  /** With server_id: the one database of that name on that server. */
  name?: string | undefined;
  enabled?: boolean | undefined;
}
export interface BackupFilter {
  server_id?: string | undefined;
  /** Only together with server_id. */
  database?: string | undefined;
  status?: JobStatus | undefined;
  schedule_id?: string | undefined;
  /** The import of this source key (`imports/...`): at most one, a second import is refused. */
  imported_from?: string | undefined;
}
export interface ScheduleFilter {
  enabled?: boolean | undefined;
}
export interface RestoreFilter {
  backup_id?: string | undefined;
  status?: JobStatus | undefined;
  target_server_id?: string | undefined;
}
export interface DrillFilter {
  backup_id?: string | undefined;
  status?: JobStatus | undefined;
}
export interface AuditFilter {
  actor?: string | undefined;
  target_type?: string | undefined;
  target_id?: string | undefined;
}

/** The one settings document. */
export interface SettingsStore {
  /** Undefined until first saved (callers fall back to `defaultSettings`). */
  get(): Promise<Settings | undefined>;
  /** Replaces the document (validated like every write). */
  put(settings: Settings): Promise<Settings>;
}

/**
 * The backup counters (core/backup-counters.ts): kept by the store in the same conditional write or
 * transaction as each backup write, so the dashboard reads a few documents whatever the history.
 */
export interface BackupCounters {
  /** The counter documents asked for; one that was never written reads as absent (all zero). */
  read(keys: readonly CounterKey[]): Promise<Map<CounterKey, CounterFields>>;
  /**
   * Recounts every backup record and replaces all counter documents with the result: the repair
   * for counters that drifted (a write made around the store). Writes made while it runs may be
   * lost from the counters, so it is meant for a quiet moment; run it again if in doubt.
   */
  rebuild(): Promise<{ backups: number; documents: number }>;
}

export interface MetadataStore {
  servers: EntityStore<Server, ServerFilter>;
  databases: EntityStore<ManagedDatabase, DatabaseFilter>;
  backups: JobStore<Backup, BackupFilter>;
  schedules: EntityStore<Schedule, ScheduleFilter>;
  restores: JobStore<Restore, RestoreFilter>;
  drills: JobStore<Drill, DrillFilter>;
  counters: BackupCounters;
  /** Append-only: update and delete are not part of an audit log. */
  audit: Pick<EntityStore<AuditEntry, AuditFilter>, "create" | "get" | "list">;
  settings: SettingsStore;
}

// ---------------------------------------------------------------------------------------------
// Secret store: one secret per server, holding that server's password.
// ---------------------------------------------------------------------------------------------

export interface SecretStore {
  /** Creates or replaces the server's secret. */
  put(serverId: string, password: string): Promise<void>;
  get(serverId: string): Promise<string | undefined>;
  /** Idempotent: deleting a missing secret is not an error. */
  delete(serverId: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Blob store: backup archives.
// ---------------------------------------------------------------------------------------------

export interface BlobInfo {
  key: string;
  size: number;
  /** A version token (S3 ETag, or mtime+size locally) used to pin reads to one object version. */
  etag: string;
  /** The store's own id of this object version (S3 VersionId on a versioned bucket): its bytes never change. */
  versionId?: string | undefined;
  /** The store's own checksum of the whole object, verified by the store at upload, as `<algorithm>:<value>` (S3: `crc32:<base64>`); from upload and head, not download. */
  checksum?: string | undefined;
}

export interface UploadOptions {
  signal?: AbortSignal | undefined;
  contentType?: string | undefined;
  /** Stored with the object (S3 user metadata). Keys lowercase ASCII. */
  metadata?: Record<string, string> | undefined;
}

export interface DownloadOptions {
  signal?: AbortSignal | undefined;
  /** Fail (ConflictError) unless the object still has this version token. */
  ifMatch?: string | undefined;
  /** Read exactly this object version (BlobInfo.versionId); NotFoundError when it is gone. A store without versions refuses it. */
  versionId?: string | undefined;
}

export interface BlobStore {
  /**
   * Streams `body` to `key`. All or nothing: if `body` errors, the signal aborts or the store fails,
   * nothing is left under `key` (a multipart upload is aborted, a temp file removed) and the
   * promise rejects. Memory stays bounded whatever the body's length.
   */
  upload(key: string, body: Readable, options?: UploadOptions): Promise<BlobInfo>;
  /** NotFoundError when absent. */
  download(key: string, options?: DownloadOptions): Promise<{ info: BlobInfo; body: Readable }>;
  head(key: string): Promise<BlobInfo | undefined>;
  /** Idempotent. */
  delete(key: string): Promise<void>;
}

/** Where dumps made elsewhere are put to be imported: keys under this prefix, never under backups/. */
export const IMPORT_PREFIX = "imports/";

/**
 * Read-only access to the dumps under `imports/` (issue 16): the product's bucket on AWS, the files
 * under DATA_DIR/imports in local mode. A key outside the prefix is a ValidationError.
 */
export type ImportSources = Pick<BlobStore, "download" | "head">;

// ---------------------------------------------------------------------------------------------
// Job runner and scheduler.
// ---------------------------------------------------------------------------------------------

/**
 * A job a task runs: `backup`, `import` (a backup record filled from a dump under imports/) and
 * `restore` name records of their own kind (import: a backup); `verify` names a drill.
 */
export interface JobRef {
  kind: "backup" | "import" | "restore" | "verify";
  id: string;
}

export interface JobRunner {
  /** Starts the task entry point for the job; returns a reference to record as `runner_ref`. */
  start(job: JobRef): Promise<{ runnerRef: string }>;
  /** Asks a running job to stop (SIGTERM to the task). */
  stop(runnerRef: string, reason: string): Promise<void>;
}

export interface Scheduler {
  /** Creates or updates the timer of a schedule, enabled or disabled as the schedule says. */
  upsert(schedule: Schedule): Promise<void>;
  /** Idempotent. */
  remove(scheduleId: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Mongo inspector: the API's connection test and database discovery (the MongoDB Node driver).
// ---------------------------------------------------------------------------------------------

/** How to reach a server: a password-free URI (core/mongo-uri.ts) and the password apart. */
export interface MongoTarget {
  uri: string;
  password?: string | undefined;
  /**
   * CIDRs (settings' `outbound_allowlist`) the hosts may resolve into although the outbound policy
   * refuses them for MongoDB (loopback, link-local, unspecified). Added to the inspector's own.
   */
  allowlist?: readonly string[] | undefined;
}

/** Which way a connection failed, so the user knows what to fix. */
/** `refused`: the outbound policy (core/outbound-policy.ts) forbids the address; nothing was sent. */
export type ConnectionFailureKind =
  | "authentication"
  | "unreachable"
  | "tls"
  | "timeout"
  | "refused"
  | "other";

export type ConnectionTestResult =
  | { ok: true; server_version: string | null }
  | { ok: false; kind: ConnectionFailureKind; message: string };

export interface DiscoveredDatabase {
  name: string;
  size_on_disk: number | null;
}

/** A connection attempt that failed; `message` is already free of secrets. */
export class ConnectionFailedError extends Error {
  override name = "ConnectionFailedError";
  readonly kind: ConnectionFailureKind;
  constructor(kind: ConnectionFailureKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

export interface MongoInspector {
  /** Connects, authenticates and reads the server version. Never throws for a connection failure. */
  test(target: MongoTarget): Promise<ConnectionTestResult>;
  /** `listDatabases` without the system ones (admin, config, local). ConnectionFailedError on failure. */
  listDatabases(target: MongoTarget): Promise<DiscoveredDatabase[]>;
}

// ---------------------------------------------------------------------------------------------
// Download links: a short-lived URL to one archive (S3 presigned on AWS, a signed local route).
// ---------------------------------------------------------------------------------------------

export interface DownloadLink {
  url: string;
  expires_at: string;
}

export interface DownloadLinker {
  link(blobKey: string, fileName: string): Promise<DownloadLink>;
}

// ---------------------------------------------------------------------------------------------
// Alerts: events to a bus for automation, notifications to people (core/events.ts has the shapes).
// ---------------------------------------------------------------------------------------------

/** Where every event goes: an EventBridge bus on AWS, the log in local mode. */
export interface EventBus {
  /** Rejects when the event was not accepted. */
  publish(event: DomainEvent): Promise<void>;
}

/** A channel to people for failures and stale schedules (an SNS topic on AWS). */
export interface Notifier {
  /** Short name for health and the audit log, e.g. "sns". */
  readonly channel: string;
  /** Rejects when the notification was not accepted. */
  notify(subject: string, text: string, event: DomainEvent): Promise<void>;
}

/** A failed webhook delivery, after every retry; `message` is free of secrets and of the URL's query. */
export class WebhookDeliveryError extends Error {
  override name = "WebhookDeliveryError";
  readonly attempts: number;
  constructor(message: string, attempts: number, options?: ErrorOptions) {
    super(message, options);
    this.attempts = attempts;
  }
}

export interface WebhookPostOptions {
  /**
   * CIDRs (settings' `outbound_allowlist`) whose addresses may be posted to although the outbound
   * policy (core/outbound-policy.ts) refuses them: loopback, private, link-local... Default none.
   */
  allowlist?: readonly string[] | undefined;
}

/** POSTs JSON to the settings' webhook URL, retrying with backoff. */
export interface WebhookSender {
  /**
   * Resolves with the number of attempts it took; WebhookDeliveryError when every attempt failed,
   * or before any when the URL's host resolves to an address the outbound policy refuses.
   */
  post(
    url: string,
    body: Record<string, unknown>,
    options?: WebhookPostOptions,
  ): Promise<{ attempts: number }>;
  /**
   * Resolves the URL's host and checks its addresses, sending nothing: WebhookDeliveryError with
   * an OutboundRefusedError as its cause when the policy refuses one.
   */
  check(url: string, options?: WebhookPostOptions): Promise<void>;
}
