// Rules every metadata store adapter applies the same way: what each entity's collection is (the
// spec table), id, page-size and filter checks, validation of written items, patch merging,
// newest-first order and opaque cursors. Shared so the stores cannot drift apart (their contract
// suite checks the behaviour); metadata-collections.ts applies them over an adapter's storage.
import type { z } from "zod";
import {
  AuditEntry,
  Backup,
  Drill,
  JobStatus,
  ManagedDatabase,
  Restore,
  Schedule,
  Server,
} from "#core/entities.ts";
import { ConflictError, ValidationError } from "#core/errors.ts";

/** A collection of one entity kind, as every store sees it; storage layouts are keyed by `collection`. */
export interface EntitySpec<T> {
  /** The MetadataStore property, and the name a store may give its table or file. */
  collection: CollectionName;
  /** The entity's name in errors ("backup b1 already exists"). */
  entity: string;
  schema: z.ZodType<T>;
  /** The fields a list may filter on (equality). */
  filterFields: readonly string[];
  /** Filter fields that only make sense together with another one. */
  requires?: Readonly<Record<string, string>>;
  /** A job (backup, restore): its status moves only through transitions. */
  job: boolean;
}

export type CollectionName =
  | "servers"
  | "databases"
  | "backups"
  | "schedules"
  | "restores"
  | "drills"
  | "audit";

export const entitySpecs = {
  servers: { collection: "servers", entity: "server", schema: Server, filterFields: [], job: false },
  databases: {
    collection: "databases",
    entity: "database",
    schema: ManagedDatabase,
    filterFields: ["server_id", "name", "enabled"],
    requires: { name: "server_id" },
    job: false,
  },
  backups: {
    collection: "backups",
    entity: "backup",
    schema: Backup,
    filterFields: ["server_id", "database", "status", "schedule_id", "imported_from"],
    requires: { database: "server_id" },
    job: true,
  },
  schedules: {
    collection: "schedules",
    entity: "schedule",
    schema: Schedule,
    filterFields: ["enabled"],
    job: false,
  },
  restores: {
    collection: "restores",
    entity: "restore",
    schema: Restore,
    filterFields: ["backup_id", "status", "target_server_id"],
    job: true,
  },
  drills: {
    collection: "drills",
    entity: "drill",
    schema: Drill,
    filterFields: ["backup_id", "status"],
    job: true,
  },
  audit: {
    collection: "audit",
    entity: "audit entry",
    schema: AuditEntry,
    filterFields: ["actor", "target_type", "target_id"],
    job: false,
  },
} as const satisfies {
  servers: EntitySpec<Server> & { job: false };
  databases: EntitySpec<ManagedDatabase> & { job: false };
  backups: EntitySpec<Backup> & { job: true };
  schedules: EntitySpec<Schedule> & { job: false };
  restores: EntitySpec<Restore> & { job: true };
  drills: EntitySpec<Drill> & { job: true };
  audit: EntitySpec<AuditEntry> & { job: false };
};

export type FilterValue = string | boolean;

/** A list filter after checkFilter: only the spec's filter fields, each set to a string or boolean. */
export type CheckedFilter = Readonly<Record<string, FilterValue>>;

/** The given fields of `filter`, checked against the spec; ValidationError names the bad field. */
export function checkFilter(spec: EntitySpec<unknown>, filter: object): CheckedFilter {
  const given: Record<string, FilterValue> = {};
  for (const [field, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    if (!spec.filterFields.includes(field)) {
      throw new ValidationError(field, `is not a filter of ${spec.entity} lists`);
    }
    if (typeof value !== "string" && typeof value !== "boolean") {
      throw new ValidationError(field, `must be a string or a boolean, got ${typeof value}`);
    }
    given[field] = value;
  }
  for (const [field, needed] of Object.entries(spec.requires ?? {})) {
    if (given[field] !== undefined && given[needed] === undefined) {
      throw new ValidationError(field, `can only be used together with ${needed}`);
    }
  }
  return given;
}

export function isId(id: unknown): id is string {
  return typeof id === "string" && id.length >= 1 && id.length <= 64;
}

export function checkLimit(limit: unknown): number {
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new ValidationError("limit", `must be an integer from 1 to 100, got ${String(limit)}`);
  }
  return limit;
}

/** Parses `value` with the entity's schema; the error names the first bad field. */
export function validate<T>(schema: z.ZodType<T>, entity: string, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : entity;
  throw new ValidationError(field, issue?.message ?? "invalid value", { cause: result.error });
}

/** `current` with the defined fields of `patch`; the id never changes. */
export function applyPatch<T extends { id: string }>(current: T, patch: object): Record<string, unknown> {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) next[key] = value;
  }
  next.id = current.id;
  return next;
}

/** Ids are UUIDv7 (time-ordered): descending id is newest first. */
export const newestFirst = (a: { id: string }, b: { id: string }) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** An opaque cursor: base64url JSON of `fields` plus the last returned id. */
export function encodeCursor(fields: Record<string, string>, id: string): string {
  return Buffer.from(JSON.stringify({ ...fields, id })).toString("base64url");
}

/** The last id of a cursor made by encodeCursor with the same `fields`; ValidationError otherwise. */
export function decodeCursor(cursor: unknown, fields: Record<string, string>): string {
  const invalid = (cause?: unknown) =>
    new ValidationError("cursor", "is not a cursor returned by this list", cause ? { cause } : undefined);
  if (typeof cursor !== "string" || !/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch (error) {
    throw invalid(error);
  }
  if (typeof parsed !== "object" || parsed === null) throw invalid();
  const record = parsed as Record<string, unknown>;
  if (!Object.entries(fields).every(([k, v]) => record[k] === v) || !isId(record.id)) throw invalid();
  return record.id;
}

/** A job's status moves only through `transition`, never through `update`. */
export function rejectStatusPatch(entity: string, id: string, patch: object): void {
  if (Object.hasOwn(patch, "status")) {
    throw new ConflictError(`${entity} ${id}: status changes only through a transition`);
  }
}

/** The target of a transition, checked to be a status at all. */
export function checkTargetStatus(to: unknown): JobStatus {
  if (!JobStatus.safeParse(to).success) throw new ValidationError("status", `unknown status ${String(to)}`);
  return to as JobStatus;
}
