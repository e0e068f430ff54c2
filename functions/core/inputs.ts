// What callers may send: the request bodies and queries of every change, as zod schemas. The API
// validates with them (and publishes them in its OpenAPI document); the use cases receive the
// parsed values. Objects are strict: an unknown field is an error naming it, never ignored.
import { z } from "zod";
import { AuthMechanism, Compression, DatabaseName, Id, JobStatus, OutboundAllowlist } from "./entities.ts";

// Control characters are checked with refine, not a regex: the OpenAPI generator would publish a
// flagged regex (`/\p{Cc}/u`) as a pattern no client can match.
const isControl = (code: number, allowed: readonly number[]) =>
  (code < 0x20 || (code >= 0x7f && code <= 0x9f)) && !allowed.includes(code);
const hasControl = (value: string, allowed: readonly number[] = []) =>
  [...value].some((ch) => isControl(ch.codePointAt(0) ?? 0, allowed));

/** One line of text: no control characters (they break logs, terminals and the console). */
const Line = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !hasControl(v), "must not contain control characters");

/** Free text such as notes: tabs and newlines allowed, other control characters not. */
const Text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !hasControl(v, [0x09, 0x0a, 0x0d]), "must not contain control characters");

const Name = Line(200).min(1).trim();
const HostName = Line(1024)
  .min(1)
  .regex(/^[A-Za-z0-9._:[\]-]+$/, "must be a host name or an IP address");
const Password = z.string().min(1).max(1024);
/**
 * Option names that carry a credential: `password`, `proxyPassword`, `tlsCertificateKeyFilePassword`,
 * `authMechanismProperties` (may hold AWS session tokens). They would be stored in the server's
 * record and shown to viewers, so they are refused; only `password` has a place (the secret store).
 */
const isCredentialOption = (name: string) =>
  /password$/i.test(name) || /^authMechanismProperties$/i.test(name);

/** The option names in a connection string's query (none if it has no query). */
function uriQueryKeys(uri: string): Set<string> {
  const query = uri.split("?")[1] ?? "";
  return new Set([...new URLSearchParams(query).keys()]);
}

/** Extra URI options: `readPreference=secondary` and the like, never credentials. */
const UriOptions = z
  .record(
    z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z][A-Za-z0-9_]*$/, "must be a URI option name"),
    Line(1024),
  )
  .refine((o) => Object.keys(o).length <= 50, "at most 50 options")
  .refine((o) => !Object.keys(o).some(isCredentialOption), "credentials go in password, not in options");
const ConnectionString = Line(4096)
  .regex(/^mongodb(\+srv)?:\/\//, "must start with mongodb:// or mongodb+srv://")
  .refine(
    (uri) => ![...uriQueryKeys(uri)].some(isCredentialOption),
    "credentials in the query (e.g. proxyPassword) would be stored and shown: give the password separately",
  );

const ServerFields = {
  name: Name,
  host: HostName,
  port: z.number().int().min(1).max(65535),
  username: Line(1024).min(1).nullable(),
  /** Write-only: goes to the secret store. `null` on update removes it. */
  password: Password.nullable(),
  auth_source: Line(64).min(1).nullable(),
  /** Rules (PLAIN needs tls, MONGODB-AWS only when named here) are checked in core/mongo-uri.ts. */
  auth_mechanism: AuthMechanism.nullable(),
  tls: z.boolean(),
  replica_set: Line(256).min(1).nullable(),
  options: UriOptions,
  connection_string: ConnectionString,
};

export const CreateServerInput = z
  .strictObject({
    name: ServerFields.name,
    host: ServerFields.host.optional(),
    port: ServerFields.port.optional(),
    username: ServerFields.username.optional(),
    password: Password.optional(),
    auth_source: ServerFields.auth_source.optional(),
    auth_mechanism: ServerFields.auth_mechanism.optional(),
    tls: ServerFields.tls.optional(),
    replica_set: ServerFields.replica_set.optional(),
    options: ServerFields.options.optional(),
    connection_string: ServerFields.connection_string.optional(),
  })
  .superRefine(oneWayToConnect);
export type CreateServerInput = z.infer<typeof CreateServerInput>;

/** Every field optional: what is present changes, what is absent stays. */
export const UpdateServerInput = z
  .strictObject({
    name: ServerFields.name.optional(),
    host: ServerFields.host.optional(),
    port: ServerFields.port.optional(),
    username: ServerFields.username.optional(),
    password: ServerFields.password.optional(),
    auth_source: ServerFields.auth_source.optional(),
    auth_mechanism: ServerFields.auth_mechanism.optional(),
    tls: ServerFields.tls.optional(),
    replica_set: ServerFields.replica_set.optional(),
    options: ServerFields.options.optional(),
    connection_string: ServerFields.connection_string.nullable().optional(),
  })
  .superRefine((v, ctx) => {
    if (Object.keys(v).length === 0) {
      ctx.addIssue({ code: "custom", path: ["name"], message: "give at least one field to change" });
    }
    if (v.connection_string && (v.host !== undefined || v.port !== undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["connection_string"],
        message: "give host/port or connection_string, not both",
      });
    }
  });
export type UpdateServerInput = z.infer<typeof UpdateServerInput>;

/** Ad-hoc credentials for `probe-databases`: a server that is not saved (nothing is stored). */
export const ProbeInput = CreateServerInput;

function oneWayToConnect(
  v: { host?: string | undefined; connection_string?: string | undefined },
  ctx: z.RefinementCtx,
) {
  if (v.connection_string && v.host !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["connection_string"],
      message: "give host/port or connection_string, not both",
    });
  }
  if (!v.connection_string && v.host === undefined) {
    ctx.addIssue({ code: "custom", path: ["host"], message: "host (or connection_string) is required" });
  }
}

export const SyncDatabasesInput = z.strictObject({ server_id: Id.optional() });

export const UpdateDatabaseInput = z.strictObject({ enabled: z.boolean() });

export const TriggerBackupInput = z
  .strictObject({
    server_id: Id.optional(),
    database: DatabaseName.optional(),
    name: Line(200).nullable().optional(),
    notes: Text(4000).nullable().optional(),
    compression: Compression.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.database !== undefined && v.server_id === undefined) {
      ctx.addIssue({ code: "custom", path: ["database"], message: "needs server_id too" });
    }
  });
export type TriggerBackupInput = z.infer<typeof TriggerBackupInput>;

export const AnnotateBackupInput = z
  .strictObject({ name: Line(200).nullable().optional(), notes: Text(4000).nullable().optional() })
  .refine((v) => v.name !== undefined || v.notes !== undefined, {
    message: "give name or notes",
    path: ["name"],
  });

const CollectionName = Line(255)
  .min(1)
  .regex(/^[^$\0]+$/, "not a valid collection name")
  .refine((n) => !n.startsWith("system."), "system collections are not restored");

export const TriggerRestoreInput = z.strictObject({
  backup_id: Id,
  /** Defaults to the backup's own server. */
  target_server_id: Id.optional(),
  /** Defaults to the backup's database name. */
  target_database: DatabaseName.optional(),
  /** Restore only these collections (all when absent). */
  collections: z.array(CollectionName).min(1).max(1000).optional(),
  /** Drop each restored collection first. Required to restore over the source database itself. */
  drop: z.boolean().optional(),
});
export type TriggerRestoreInput = z.infer<typeof TriggerRestoreInput>;

const ScheduleFields = {
  name: Name,
  cron_expression: Line(200).min(1),
  timezone: Line(64).min(1),
  server_id: Id.nullable(),
  database: DatabaseName.nullable(),
  retention_days: z.number().int().min(1).max(36500),
  keep_last: z.number().int().min(1).max(1000),
  enabled: z.boolean(),
};

export const CreateScheduleInput = z
  .strictObject({
    name: ScheduleFields.name,
    cron_expression: ScheduleFields.cron_expression,
    timezone: ScheduleFields.timezone.optional(),
    server_id: ScheduleFields.server_id.optional(),
    database: ScheduleFields.database.optional(),
    retention_days: ScheduleFields.retention_days.optional(),
    keep_last: ScheduleFields.keep_last.optional(),
    enabled: ScheduleFields.enabled.optional(),
  })
  .superRefine(databaseNeedsServer);
export type CreateScheduleInput = z.infer<typeof CreateScheduleInput>;

export const UpdateScheduleInput = z
  .strictObject({
    name: ScheduleFields.name.optional(),
    cron_expression: ScheduleFields.cron_expression.optional(),
    timezone: ScheduleFields.timezone.optional(),
    server_id: ScheduleFields.server_id.optional(),
    database: ScheduleFields.database.optional(),
    retention_days: ScheduleFields.retention_days.optional(),
    keep_last: ScheduleFields.keep_last.optional(),
    enabled: ScheduleFields.enabled.optional(),
  })
  .superRefine(databaseNeedsServer);
export type UpdateScheduleInput = z.infer<typeof UpdateScheduleInput>;

function databaseNeedsServer(
  v: { server_id?: string | null | undefined; database?: string | null | undefined },
  ctx: z.RefinementCtx,
) {
  if (v.database && v.server_id === null) {
    ctx.addIssue({ code: "custom", path: ["database"], message: "needs server_id too" });
  }
}

export const UpdateSettingsInput = z
  .strictObject({
    retention_days: z.number().int().min(1).max(36500).optional(),
    keep_last: z.number().int().min(1).max(1000).optional(),
    concurrency: z
      .strictObject({
        per_server: z.number().int().min(1).max(50).optional(),
        total: z.number().int().min(1).max(500).optional(),
      })
      .optional(),
    heartbeat_timeout_minutes: z.number().int().min(2).max(1440).optional(),
    webhook_url: z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
      .max(2048)
      .nullable()
      .optional(),
    /** Replaces the whole list; `[]` empties it. */
    outbound_allowlist: OutboundAllowlist.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, {
    message: "give at least one setting",
    path: ["retention_days"],
  });
export type UpdateSettingsInput = z.infer<typeof UpdateSettingsInput>;

// ---------------------------------------------------------------------------------------------
// Query strings (strings on the wire; coerced here).
// ---------------------------------------------------------------------------------------------

const Limit = z.coerce.number().int().min(1).max(100).default(25);
const Cursor = z
  .string()
  .max(400)
  .regex(/^[A-Za-z0-9_-]+$/, "is not a cursor returned by this list");
const BoolString = z.enum(["true", "false"]).transform((v) => v === "true");

export const PageQuery = z.strictObject({ limit: Limit, cursor: Cursor.optional() });

export const BackupListQuery = PageQuery.extend({
  status: JobStatus.optional(),
  server_id: Id.optional(),
  database: DatabaseName.optional(),
  schedule_id: Id.optional(),
});

export const DatabaseListQuery = PageQuery.extend({
  server_id: Id.optional(),
  enabled: BoolString.optional(),
});

export const ScheduleListQuery = PageQuery.extend({ enabled: BoolString.optional() });

export const RestoreListQuery = PageQuery.extend({
  backup_id: Id.optional(),
  status: JobStatus.optional(),
  target_server_id: Id.optional(),
});

export const AuditListQuery = PageQuery.extend({
  actor: Line(256).min(1).optional(),
  target_type: Line(50).min(1).optional(),
  target_id: Line(256).min(1).optional(),
});

export const DeleteServerQuery = z.strictObject({
  /** Also delete the server's backups (archives and records). Default: keep them. */
  delete_backups: BoolString.optional(),
});
