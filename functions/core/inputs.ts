// What callers may send: the request bodies of every change, as zod schemas (query strings are the
// API's: functions/api/queries.ts). The API
// validates with them (and publishes them in its OpenAPI document); the use cases receive the
// parsed values. Objects are strict: an unknown field is an error naming it, never ignored.
import { z } from "zod";
import { AuthMechanism, Compression, DatabaseName, DrillTarget, Id, OutboundAllowlist } from "./entities.ts";

// Every rule is a schema the OpenAPI document can state (test/api/openapi-conformance.test.ts checks
// that the document and the validators agree): a string carries ONE unflagged ECMA-262 regex (the
// generator publishes only the first `.regex()`, and a flagged one as a pattern no client can match);
// what a regex cannot say goes in `.meta()` (which the OpenAPI generator copies into the schema) (JSON Schema 2020-12 keywords).

/** C0 and C1 control characters, DEL included: they break logs, terminals and the console. */
const CONTROL = "\\x00-\\x1f\\x7f-\\x9f";
/** Control characters less tab, line feed and carriage return (allowed in free text). */
const CONTROL_BUT_NEWLINES = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f";
const NO_CONTROL = "must not contain control characters";

/** `[Pp][Aa]...`: a case-insensitive literal without the `i` flag JSON Schema patterns lack. */
const caseless = (word: string) =>
  [...word].map((ch) => (/[a-z]/i.test(ch) ? `[${ch.toUpperCase()}${ch.toLowerCase()}]` : ch)).join("");

/** One line of text: no control characters. */
export const Line = (max: number) =>
  z
    .string()
    .max(max)
    .regex(new RegExp(`^[^${CONTROL}]*$`), NO_CONTROL);

/** Free text such as notes: tabs and newlines allowed, other control characters not. */
const Text = (max: number) =>
  z
    .string()
    .max(max)
    .regex(new RegExp(`^[^${CONTROL_BUT_NEWLINES}]*$`), NO_CONTROL);

/**
 * A name: one line with something besides white space in it (it is trimmed, and a blank name would
 * be empty). `\s` is ECMA-262's white space, the same set String.prototype.trim removes.
 */
const Name = z
  .string()
  .min(1)
  .max(200)
  .regex(
    new RegExp(`^[^${CONTROL}]*[^\\s${CONTROL}][^${CONTROL}]*$`),
    "must not be blank or contain control characters",
  )
  .trim();
/** A DNS name or IPv4 address (dot-separated labels), or an IPv6 address in brackets. */
const HOST_PATTERN = "([A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*|\\[[0-9A-Fa-f:.]+\\])";
/**
 * The validator's character check lets through a few strings no URI parser takes (`a:b:c`, `[x`):
 * those are refused later with 422 (field `host`). The document states the stricter form a client
 * should send, so nothing it allows is refused.
 */
const HostName = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[A-Za-z0-9._:[\]-]+$/, "must be a host name or an IP address")
  .meta({ pattern: `^${HOST_PATTERN}$` });
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

const OptionName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_]*$/, "must be a URI option name");
/** The option names isCredentialOption refuses, as a pattern for the document. */
const CREDENTIAL_OPTION = `${caseless("password")}$|^${caseless("authMechanismProperties")}$`;

/** Extra URI options: `readPreference=secondary` and the like, never credentials. */
const UriOptions = z
  .record(OptionName, Line(1024))
  .refine((o) => Object.keys(o).length <= 50, "at most 50 options")
  .refine((o) => !Object.keys(o).some(isCredentialOption), "credentials go in password, not in options")
  .meta({
    maxProperties: 50,
    propertyNames: {
      type: "string",
      minLength: 1,
      maxLength: 64,
      pattern: "^[A-Za-z][A-Za-z0-9_]*$",
      not: { pattern: CREDENTIAL_OPTION },
    },
  });
const CS_USERINFO = "([A-Za-z0-9._~!$'()*+,;=-]+(:[A-Za-z0-9._~!$'()*+,;=-]*)?@)?";
const CS_PORT = "(:([1-9][0-9]{0,3}|[1-5][0-9]{4}))?";
const CS_OPTION = "[A-Za-z][A-Za-z0-9_]*=[A-Za-z0-9_.,:-]*";
const ConnectionString = z
  .string()
  .max(4096)
  .regex(
    new RegExp(`^mongodb(\\+srv)?://[^${CONTROL}]*$`),
    "must start with mongodb:// or mongodb+srv:// and contain no control characters",
  )
  .refine(
    (uri) => ![...uriQueryKeys(uri)].some(isCredentialOption),
    "credentials in the query (e.g. proxyPassword) would be stored and shown: give the password separately",
  )
  .meta({
    // The document's form is stricter than the parser (mongodb-connection-string-url, at the use
    // case): what it allows always parses. Userinfo without `%`-escapes, ports 1-59999, a database
    // name and plain `name=value` options.
    pattern: `^(mongodb://${CS_USERINFO}${HOST_PATTERN}${CS_PORT}(,${HOST_PATTERN}${CS_PORT})*|mongodb\\+srv://${CS_USERINFO}[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+){2,})(/([A-Za-z0-9_-]{1,63})?(\\?(${CS_OPTION}(&${CS_OPTION})*)?)?)?$`,
    // The query's option names as written; the validator also decodes percent-escapes, which a
    // pattern cannot, so `pass%77ord=` is refused though this pattern does not say so.
    not: {
      pattern: `[?&][^=&#]*${caseless("password")}(=|&|#|$)|[?&]${caseless("authMechanismProperties")}(=|&|#|$)`,
    },
  });

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
  /** A staging server restore drills may create and drop scratch databases on. */
  sandbox: z.boolean(),
  replica_set: Line(256).min(1).nullable(),
  options: UriOptions,
  connection_string: ConnectionString,
};

/** A new server's fields; an update takes the same ones, each optional (below). */
const ServerCreateFields = z.strictObject({
  name: ServerFields.name,
  host: ServerFields.host.optional(),
  port: ServerFields.port.optional(),
  username: ServerFields.username.optional(),
  password: Password.optional(),
  auth_source: ServerFields.auth_source.optional(),
  auth_mechanism: ServerFields.auth_mechanism.optional(),
  tls: ServerFields.tls.optional(),
  sandbox: ServerFields.sandbox.optional(),
  replica_set: ServerFields.replica_set.optional(),
  options: ServerFields.options.optional(),
  connection_string: ServerFields.connection_string.optional(),
});

/**
 * PLAIN needs tls (core/mongo-uri.ts). On an update the stored record may hold tls: the document is
 * the stricter side and asks for `tls: true` in the same body as `auth_mechanism: "PLAIN"`.
 */
const PLAIN_WITHOUT_TLS = {
  required: ["auth_mechanism"],
  properties: { auth_mechanism: { const: "PLAIN" } },
  not: { required: ["tls"], properties: { tls: { const: true } } },
};

export const CreateServerInput = ServerCreateFields.superRefine(oneWayToConnect).meta({
  oneOf: [{ required: ["host"] }, { required: ["connection_string"] }],
  not: PLAIN_WITHOUT_TLS,
});
export type CreateServerInput = z.infer<typeof CreateServerInput>;

/**
 * The create fields, every one optional: what is present changes, what is absent stays. `null` also
 * removes the password or the connection string (then host/port say how to connect).
 */
export const UpdateServerInput = ServerCreateFields.partial()
  .extend({
    password: ServerFields.password.optional(),
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
  })
  .meta({
    minProperties: 1,
    not: {
      anyOf: [
        {
          required: ["connection_string"],
          properties: { connection_string: { type: "string" } },
          anyOf: [{ required: ["host"] }, { required: ["port"] }],
        },
        PLAIN_WITHOUT_TLS,
      ],
    },
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
  })
  .meta({ dependentRequired: { database: ["server_id"] } });
export type TriggerBackupInput = z.infer<typeof TriggerBackupInput>;

export const AnnotateBackupInput = z
  .strictObject({ name: Line(200).nullable().optional(), notes: Text(4000).nullable().optional() })
  .refine((v) => v.name !== undefined || v.notes !== undefined, {
    message: "give name or notes",
    path: ["name"],
  })
  .meta({ minProperties: 1 });

const CollectionName = z
  .string()
  .min(1)
  .max(255)
  .regex(new RegExp(`^[^$${CONTROL}]+$`), "not a valid collection name (no $ or control characters)")
  .refine((n) => !n.startsWith("system."), "system collections are not restored")
  .meta({ not: { pattern: "^system\\." } });

/**
 * A restore names its backup (`backup_id`), or asks for the newest completed backup of a server's
 * database (`server_id` + `database`; with `verified: true` the newest that passed a drill).
 */
export const TriggerRestoreInput = z
  .strictObject({
    backup_id: Id.optional(),
    /** With database: restore that database's newest completed backup. */
    server_id: Id.optional(),
    database: DatabaseName.optional(),
    /** With server_id + database: the newest backup whose restore drill passed. */
    verified: z.boolean().optional(),
    /** Defaults to the backup's own server. */
    target_server_id: Id.optional(),
    /** Defaults to the backup's database name. */
    target_database: DatabaseName.optional(),
    /** Restore only these collections (all when absent). */
    collections: z.array(CollectionName).min(1).max(1000).optional(),
    /** Drop each restored collection first. Required to restore over the source database itself. */
    drop: z.boolean().optional(),
  })
  .superRefine((v, ctx) => {
    const issue = (field: string, message: string) =>
      ctx.addIssue({ code: "custom", path: [field], message });
    if (v.backup_id !== undefined) {
      if (v.server_id !== undefined || v.database !== undefined || v.verified !== undefined) {
        issue("backup_id", "give backup_id, or server_id + database for the latest backup, not both");
      }
      return;
    }
    if (v.server_id === undefined && v.database === undefined) {
      issue("backup_id", "give backup_id, or server_id + database for the latest backup");
    } else if (v.database === undefined) {
      issue("database", "needed with server_id (the latest backup of that database)");
    } else if (v.server_id === undefined) {
      issue("server_id", "needed with database (the latest backup of that server's database)");
    }
  })
  .meta({
    oneOf: [
      {
        required: ["backup_id"],
        not: { anyOf: [{ required: ["server_id"] }, { required: ["database"] }, { required: ["verified"] }] },
      },
      { required: ["server_id", "database"], not: { required: ["backup_id"] } },
    ],
  });
/** What the use case receives: a backup by id, or the latest of a server's database. */
export type TriggerRestoreInput = z.infer<typeof TriggerRestoreInput>;

/** A key under imports/: `/`-separated segments, none empty, "." or "..", no control characters or backslash. */
const IMPORT_SEGMENT = `[^/\\\\${CONTROL}]+`;
export const ImportSourceKey = z
  .string()
  .min(9)
  .max(512)
  .regex(
    new RegExp(`^imports/(${IMPORT_SEGMENT}/)*${IMPORT_SEGMENT}$`),
    'must be a key under imports/ (e.g. "imports/2026/11/01/shop.archive.gz"): no empty segment, backslash or control character',
  )
  .refine((key) => !key.split("/").some((s) => s === "." || s === ".."), 'must not have "." or ".." segments')
  .meta({ not: { pattern: "(^|/)\\.\\.?(/|$)" } });

/** POST /api/backups/import: a dump put under imports/ becomes a backup of that server's database. */
export const ImportBackupInput = z.strictObject({
  server_id: Id,
  /** The database the dump is of; any valid name (see README, "Bring your existing backups"). */
  database: DatabaseName,
  source_key: ImportSourceKey,
  name: Line(200).nullable().optional(),
  notes: Text(4000).nullable().optional(),
  /** Our codec for the stored archive; default as for manual backups (zstd). */
  compression: Compression.optional(),
});
export type ImportBackupInput = z.infer<typeof ImportBackupInput>;

/**
 * The document's grammar of a cron expression: five space-separated fields of `*`, numbers, ascending
 * ranges, steps and lists, each number within its field's range. What validateCron checks beyond it
 * (a range's start not after its end, a date that matches, EventBridge's limits on AWS) a pattern
 * cannot say, so the document names it `format: "cron"`; croner's extras (JAN, MON, L, W, #) are
 * accepted but not documented: a client that keeps to the document is never refused for syntax.
 */
function cronField(n: string, step: string): string {
  const item = `(\\*(/(${step}))?|(${n})(-(${n})(/(${step}))?)?)`;
  return `${item}(,${item})*`;
}
const CRON_PATTERN = `^ *${[
  cronField("[1-5]?[0-9]", "[1-9]|[1-5][0-9]"),
  cronField("1?[0-9]|2[0-3]", "[1-9]|1[0-9]|2[0-3]"),
  cronField("[1-9]|[12][0-9]|3[01]", "[1-9]|[12][0-9]|3[01]"),
  cronField("[1-9]|1[0-2]", "[1-9]|1[0-2]"),
  cronField("[0-7]", "[1-7]"),
].join(" +")} *$`;

/** The IANA names the document lists (ICU's canonical ones and UTC); the validator takes aliases too. */
const TIME_ZONES = ["UTC", ...Intl.supportedValuesOf("timeZone").filter((tz) => tz !== "UTC")];

const ScheduleFields = {
  name: Name,
  cron_expression: Line(200)
    .min(1)
    .meta({ format: "cron", allOf: [{ pattern: CRON_PATTERN }] }),
  timezone: Line(64).min(1).meta({ enum: TIME_ZONES }),
  server_id: Id.nullable(),
  database: DatabaseName.nullable(),
  retention_days: z.number().int().min(1).max(36500),
  keep_last: z.number().int().min(1).max(1000),
  /** 0 never, 1 every backup it makes, N every Nth. */
  verify_every: z.number().int().min(0).max(1000),
  /** Null: the settings' default target. */
  drill_target: DrillTarget.nullable(),
  enabled: z.boolean(),
};

/** A new schedule's fields; an update takes the same ones, each optional. */
const ScheduleCreateFields = z.strictObject({
  name: ScheduleFields.name,
  cron_expression: ScheduleFields.cron_expression,
  timezone: ScheduleFields.timezone.optional(),
  server_id: ScheduleFields.server_id.optional(),
  database: ScheduleFields.database.optional(),
  retention_days: ScheduleFields.retention_days.optional(),
  keep_last: ScheduleFields.keep_last.optional(),
  verify_every: ScheduleFields.verify_every.optional(),
  drill_target: ScheduleFields.drill_target.optional(),
  enabled: ScheduleFields.enabled.optional(),
});

export const CreateScheduleInput = ScheduleCreateFields.superRefine((v, ctx) => {
  // On create there is no stored server to fall back on: a database needs server_id here.
  if (v.database && !v.server_id) {
    ctx.addIssue({ code: "custom", path: ["database"], message: "needs server_id too" });
  }
}).meta({
  // "if database is a name then server_id is an id", without `then` (a thenable object to JS).
  anyOf: [
    { not: { required: ["database"], properties: { database: { type: "string" } } } },
    { required: ["server_id"], properties: { server_id: { type: "string" } } },
  ],
});
export type CreateScheduleInput = z.infer<typeof CreateScheduleInput>;

export const UpdateScheduleInput = ScheduleCreateFields.partial()
  .superRefine(databaseNeedsServer)
  // Only when the body is otherwise fine: `{"last_run": ...}` is an unknown field, not an empty body.
  .refine((v) => Object.keys(v).length > 0, {
    message: "give at least one field to change",
    path: ["name"],
    when: (payload) => payload.issues.length === 0,
  })
  .meta({
    minProperties: 1,
    anyOf: [
      { not: { required: ["database"], properties: { database: { type: "string" } } } },
      { properties: { server_id: { type: "string" } } },
    ],
  });
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
      // What z.url with this protocol accepts, as far as a pattern can say it: an http(s) scheme (any
      // letter case: URL lowercases it) and a host.
      // Characters RFC 3986 allows (the reply's `format: uri` holds the stored value to them).
      .regex(
        /^[Hh][Tt][Tt][Pp][Ss]?:\/\/[A-Za-z0-9\-._~%!$&'()*+,;=:@[\]]+([/?#][A-Za-z0-9\-._~%!$&'()*+,;=:@/?#[\]]*)?$/,
        "must be an http(s) URL",
      )
      .nullable()
      .optional(),
    /** Replaces the whole list; `[]` empties it. */
    outbound_allowlist: OutboundAllowlist.optional(),
    drills: z
      .strictObject({
        target: DrillTarget.optional(),
        max_age_days: z.number().int().min(1).max(3650).optional(),
      })
      .optional(),
  })
  .refine((v) => Object.keys(v).length > 0, {
    message: "give at least one setting",
    path: ["retention_days"],
  })
  .meta({ minProperties: 1 });
export type UpdateSettingsInput = z.infer<typeof UpdateSettingsInput>;

/** POST /api/backups/{id}/verify: the target, else the settings' default. */
export const VerifyBackupInput = z.strictObject({ target: DrillTarget.optional() });
export type VerifyBackupInput = z.infer<typeof VerifyBackupInput>;
