// The query strings of the API's list and delete routes: strings on the wire, coerced here (HTTP's
// concern, so not in the core); the use cases receive the parsed filters.
import { z } from "zod";
import { DatabaseName, Id, JobStatus } from "#core/entities.ts";
import { Line } from "#core/inputs.ts";

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
  // Lists filter by a database within one server (the store's index); OpenAPI has no keyword for one
  // parameter needing another, so the document says it in prose and in `x-requires`.
  database: DatabaseName.optional().meta({
    description: "Only together with server_id (422 otherwise)",
    "x-requires": "server_id",
  }),
  schedule_id: Id.optional(),
  /** The backup imported from this source key (issue 16). */
  imported_from: Line(1024).min(1).optional(),
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

export const DrillListQuery = PageQuery.extend({
  backup_id: Id.optional(),
  status: JobStatus.optional(),
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
