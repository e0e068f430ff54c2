// Domain entities and their zod schemas. JSON field names are snake_case because the API speaks it;
// the same shapes are what the metadata store persists. Nothing here imports AWS or HTTP.
import { z } from "zod";

export const Id = z.string().min(1).max(64);
export const IsoTime = z.iso.datetime({ offset: true });

/** Job states shared by backups and restores; see `state-machine.ts` for the allowed moves. */
export const JobStatus = z.enum(["queued", "running", "completed", "failed", "cancelled"]);
export type JobStatus = z.infer<typeof JobStatus>;

/** A running job's heartbeat: archive bytes moved so far, and when that was written (every few seconds). */
export const JobProgress = z.object({ bytes: z.number().int().nonnegative(), at: IsoTime });

export const Compression = z.enum(["gzip", "zstd", "none"]);
export type Compression = z.infer<typeof Compression>;

export const ConnectionTest = z.object({
  ok: z.boolean(),
  at: IsoTime,
  server_version: z.string().nullable(),
  error: z.string().nullable(),
});

// A MongoDB database name: no `/\. "$*<>:|?` and under 64 bytes (MongoDB's own limits).
export const DatabaseName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[^/\\. "$*<>:|?\0]+$/, "not a valid MongoDB database name");

/**
 * How a server authenticates, when the driver's default (SCRAM negotiation) is not wanted. PLAIN
 * (LDAP) needs tls. MONGODB-AWS signs with AWS credentials, the function's own role when the record
 * holds no key: only a record that names it here uses it (never an option or a default).
 * X.509, Kerberos and OIDC need files or callbacks this product does not hold, so they are absent.
 */
export const AuthMechanism = z.enum(["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "MONGODB-AWS"]);
export type AuthMechanism = z.infer<typeof AuthMechanism>;

export const Server = z.object({
  id: Id,
  name: z.string().min(1).max(200),
  host: z.string().min(1).max(1024),
  port: z.number().int().min(1).max(65535),
  username: z.string().max(1024).nullable(),
  auth_source: z.string().max(64).nullable(),
  /** null: the driver's default (SCRAM). Records from before the field read as null. */
  auth_mechanism: AuthMechanism.nullable().default(null),
  tls: z.boolean(),
  /**
   * A staging server that restore drills may restore into (a scratch database each time, dropped
   * afterwards). Never implied, not even for a backup's own source. Records from before it read false.
   */
  sandbox: z.boolean().default(false),
  replica_set: z.string().max(256).nullable(),
  /** Extra URI options such as `readPreference=secondary`, kept as key/value pairs. */
  options: z.record(z.string(), z.string()),
  /**
   * A whole `mongodb://` or `mongodb+srv://` URI instead of host/port. Stored without any password
   * (the password moves to the secret store); when set it wins over host/port/username.
   */
  connection_string: z.string().max(4096).nullable(),
  /** Whether a password is held in the secret store; the password itself never leaves it. */
  has_password: z.boolean(),
  last_test: ConnectionTest.nullable(),
  created_at: IsoTime,
  updated_at: IsoTime,
});
export type Server = z.infer<typeof Server>;

export const BackupSummary = z.object({
  backup_id: Id,
  status: JobStatus,
  finished_at: IsoTime.nullable(),
  size_bytes: z.number().int().nonnegative().nullable(),
});

export const ManagedDatabase = z.object({
  id: Id,
  server_id: Id,
  name: DatabaseName,
  enabled: z.boolean(),
  size_on_disk: z.number().nonnegative().nullable(),
  discovered_at: IsoTime,
  /** Set when a sync no longer finds the database on its server; cleared if it comes back. */
  vanished_at: IsoTime.nullable().default(null),
  last_backup: BackupSummary.nullable(),
  /** Set when housekeeping found its newest passing drill too old (DrillStale, announced once); cleared by the next pass. */
  drill_stale_since: IsoTime.nullable().default(null),
  /** Its latest passing restore drill: when, of which backup, and the restore's time (recovery time). */
  last_verified: z
    .object({ backup_id: Id, at: IsoTime, duration_ms: z.number().int().nonnegative().nullable() })
    .nullable()
    .default(null),
  /** Scheduled backups completed since its last drill, for a schedule's `verify_every` above 1. */
  scheduled_since_drill: z.number().int().nonnegative().default(0),
});
export type ManagedDatabase = z.infer<typeof ManagedDatabase>;

/** `import`: a dump made outside the product, brought in by POST /api/backups/import. */
export const Trigger = z.enum(["manual", "schedule", "import"]);

/** Where a drill restores: a throwaway server the task starts itself, or a registered sandbox server. */
export const DrillTarget = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("ephemeral") }),
  z.object({ kind: z.literal("sandbox"), server_id: Id }),
]);
export type DrillTarget = z.infer<typeof DrillTarget>;

/** `validate`'s verdict on one restored collection; a server without the command says so, never a silent pass. */
export const ValidateVerdict = z.enum(["valid", "invalid", "not supported by this server", "not run"]);

/** What one drill proved about one collection. */
export const CollectionProof = z.object({
  /** Documents recorded at backup time (null when the backup recorded none). */
  expected: z.number().int().nonnegative().nullable(),
  restored: z.number().int().nonnegative().nullable(),
  /** Index names the archive's metadata lists for it, and those found after the restore. */
  indexes_expected: z.array(z.string()),
  indexes_restored: z.array(z.string()),
  valid: ValidateVerdict,
});

/** The proof of a backup's latest restore drill (its history is in the audit log). */
export const Verification = z.object({
  status: z.enum(["passed", "failed"]),
  drill_id: Id,
  at: IsoTime,
  /** The restore's own time: the database's measured recovery time. Null when it did not get that far. */
  duration_ms: z.number().int().nonnegative().nullable(),
  /** `ephemeral` or `sandbox:<server id>`. */
  target: z.string().max(200),
  collections: z.record(z.string(), CollectionProof),
  error: z.string().nullable(),
});
export type Verification = z.infer<typeof Verification>;

export const Backup = z.object({
  id: Id,
  server_id: Id,
  database: DatabaseName,
  name: z.string().max(200).nullable(),
  notes: z.string().max(4000).nullable(),
  status: JobStatus,
  trigger: Trigger,
  schedule_id: Id.nullable(),
  created_by: z.string().max(256),
  created_at: IsoTime,
  started_at: IsoTime.nullable(),
  finished_at: IsoTime.nullable(),
  duration_ms: z.number().int().nonnegative().nullable(),
  blob_key: z.string().nullable(),
  size_bytes: z.number().int().nonnegative().nullable(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  /** The blob store's version of the archive (S3 VersionId), recorded at upload: a restore reads
   * exactly these bytes in one pass. Null for the local store and for backups from before it. */
  blob_version: z.string().max(1024).nullable().default(null),
  /** The store's own full-object checksum of the archive, verified by the store at upload (`crc32:<base64>` on S3). */
  blob_checksum: z.string().max(256).nullable().default(null),
  compression: Compression,
  tool_version: z.string().nullable(),
  /** Documents per collection as reported by mongodump. */
  collections: z.record(z.string(), z.number().int().nonnegative()).nullable(),
  /** Archive bytes moved so far (written by a backup, fed to mongorestore by a restore), updated
   * every few seconds while the job runs. */
  progress: JobProgress.nullable().default(null),
  error: z.string().nullable(),
  expires_at: IsoTime.nullable(),
  /** Who runs it: an ECS task ARN on AWS, `local:<pid>` in local mode. */
  runner_ref: z.string().nullable(),
  /** An imported backup's source key (`imports/...`); null for the product's own. */
  imported_from: z.string().max(1024).nullable().default(null),
  /** The latest restore drill's proof; null until one ended. */
  verification: Verification.nullable().default(null),
});
export type Backup = z.infer<typeof Backup>;

/**
 * A restore drill: a job that restores one completed backup into a throwaway target, proves it
 * (counts, indexes, validate), cleans up and records the proof on the backup (`verification`).
 */
export const Drill = z.object({
  id: Id,
  backup_id: Id,
  server_id: Id,
  database: DatabaseName,
  target: DrillTarget,
  /** The sandbox's scratch database (`mbm_drill_<short backup id>`); null for an ephemeral target. */
  scratch_database: DatabaseName.nullable(),
  trigger: z.enum(["manual", "schedule"]),
  status: JobStatus,
  created_by: z.string().max(256),
  created_at: IsoTime,
  started_at: IsoTime.nullable(),
  finished_at: IsoTime.nullable(),
  duration_ms: z.number().int().nonnegative().nullable(),
  progress: JobProgress.nullable().default(null),
  /** The proof, once the drill ended (passed or failed); also copied onto the backup. */
  result: Verification.nullable(),
  error: z.string().nullable(),
  runner_ref: z.string().nullable(),
});
export type Drill = z.infer<typeof Drill>;

export const Schedule = z.object({
  id: Id,
  name: z.string().min(1).max(200),
  cron_expression: z.string().min(9).max(200),
  timezone: z.string().min(1).max(64),
  server_id: Id.nullable(),
  database: DatabaseName.nullable(),
  retention_days: z.number().int().min(1).max(36500),
  keep_last: z.number().int().min(1).max(1000),
  /** Drill every backup it makes (1), every Nth (N), or never (0). Schedules from before it read 1. */
  verify_every: z.number().int().min(0).max(1000).default(1),
  /** Where its drills restore; null: the settings' default target. */
  drill_target: DrillTarget.nullable().default(null),
  enabled: z.boolean(),
  last_run: z
    .object({ at: IsoTime, backups_created: z.number().int().nonnegative(), error: z.string().nullable() })
    .nullable(),
  /** Set when the schedule was found stale (and announced once); cleared by its next success. */
  stale_since: IsoTime.nullable().default(null),
  created_at: IsoTime,
  updated_at: IsoTime,
});
export type Schedule = z.infer<typeof Schedule>;

export const Restore = z.object({
  id: Id,
  backup_id: Id,
  source_server_id: Id,
  source_database: DatabaseName,
  target_server_id: Id,
  target_database: DatabaseName,
  /** Drop each restored collection first. Never implied: the request must say so. */
  drop: z.boolean(),
  /** Restore only these collections; null means all. */
  collections: z.array(z.string().min(1).max(255)).nullable(),
  status: JobStatus,
  created_by: z.string().max(256),
  created_at: IsoTime,
  started_at: IsoTime.nullable(),
  finished_at: IsoTime.nullable(),
  duration_ms: z.number().int().nonnegative().nullable(),
  /** Archive bytes moved so far (written by a backup, fed to mongorestore by a restore), updated
   * every few seconds while the job runs. */
  progress: JobProgress.nullable().default(null),
  error: z.string().nullable(),
  runner_ref: z.string().nullable(),
});
export type Restore = z.infer<typeof Restore>;

export const AuditEntry = z.object({
  id: Id,
  at: IsoTime,
  actor: z.string().max(256),
  action: z.string().max(100),
  target_type: z.string().max(50),
  target_id: z.string().max(256).nullable(),
  outcome: z.enum(["success", "failure"]),
  details: z.record(z.string(), z.unknown()).nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** One outbound_allowlist entry: an IPv4 or IPv6 CIDR, prefix length required (`10.1.0.0/16`, `fd00::/8`). */
/**
 * One pattern for both families (zod's own cidrv4/cidrv6 expressions): the OpenAPI generator would
 * publish z.cidrv4() as a bare `format` that clients do not check, and the document must state the rule.
 */
const CIDR_V4 =
  "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\\/([0-9]|[1-2][0-9]|3[0-2])";
const CIDR_V6 =
  "(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:))\\/(12[0-8]|1[01][0-9]|[1-9]?[0-9])";
const CIDR_MESSAGE = "must be an IPv4 or IPv6 CIDR such as 10.1.0.0/16 or fd00::/8";
export const OutboundCidr = z
  .string({ error: CIDR_MESSAGE })
  .regex(new RegExp(`^(${CIDR_V4}|${CIDR_V6})$`), CIDR_MESSAGE);
export const OutboundAllowlist = z.array(OutboundCidr).max(100);

/** Defaults that apply where a schedule or a request says nothing. One document, edited through the API. */
export const Settings = z.object({
  /** Days a manual backup is kept (a schedule's own retention_days wins for its backups). */
  retention_days: z.number().int().min(1).max(36500),
  /** The newest completed backups of each server/database pair that retention never deletes. */
  keep_last: z.number().int().min(1).max(1000),
  /** How many backups run at once: per server and overall. */
  concurrency: z.object({
    per_server: z.number().int().min(1).max(50),
    total: z.number().int().min(1).max(500),
  }),
  /**
   * A running job (or one handed to a task) whose record has had no heartbeat (progress write, every
   * few seconds while a task lives) for this long is presumed dead and recorded failed by the reaper.
   */
  heartbeat_timeout_minutes: z.number().int().min(2).max(1440).default(15),
  /** Where failure notifications are POSTed as JSON (Slack-compatible `text`); null for none. */
  webhook_url: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .nullable(),
  /**
   * CIDRs that outbound connections may reach although the outbound policy (core/outbound-policy.ts)
   * refuses them: a webhook receiver inside the VPC, a MongoDB server on loopback. Never the cloud
   * metadata addresses. Documents saved before it existed read as empty.
   */
  outbound_allowlist: OutboundAllowlist.default([]),
  /** Restore drills: the default target, and how old a database's newest passing drill may get before DrillStale. */
  drills: z
    .object({
      target: DrillTarget,
      max_age_days: z.number().int().min(1).max(3650),
    })
    .default({ target: { kind: "ephemeral" }, max_age_days: 7 }),
  updated_at: IsoTime,
});
export type Settings = z.infer<typeof Settings>;

export const defaultSettings: Omit<Settings, "updated_at"> = {
  retention_days: 30,
  keep_last: 3,
  concurrency: { per_server: 2, total: 10 },
  heartbeat_timeout_minutes: 15,
  webhook_url: null,
  outbound_allowlist: [],
  drills: { target: { kind: "ephemeral" }, max_age_days: 7 },
};
