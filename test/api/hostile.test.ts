// Hostile and malformed requests against a realistic state, on both stores. Every one is refused
// with the status it deserves and the `{ error: { code, message, details } }` shape, and leaves the
// metadata store and the blobs exactly as they were: no record changed, no audit entry.
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backup } from "#core/entities.ts";
import { newId } from "#core/ids.ts";
import { listAll } from "#core/use-cases/deps.ts";
import { backupBlobKey } from "#engine/backup.ts";
import { maxBodyBytes } from "#functions/api/app.ts";
import {
  type ApiWorld,
  addTestServer,
  apiWorld,
  knownPasswords,
  type Reply,
} from "#test/support/api-harness.ts";
import { makeBackup, makeDatabase } from "#test/support/fixtures.ts";

type Status = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422;

interface Case {
  title: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Placeholders such as `{completed}` are replaced by the seeded ids (also in body strings). */
  path: string;
  /** A JSON value (sent as JSON), or a raw string sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  as?: "operator" | "viewer" | "nobody";
  /** Send the raw string body as bytes, so that no content-type is set at all. */
  noContentType?: boolean;
  status: Status;
  /** For 422: the fields `details` names (each once, in order). */
  fields?: string[];
}

/** The error code each status answers with (functions/api/errors.ts). */
const CODE: Record<Status, string> = {
  400: "malformed_request",
  401: "unauthenticated",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "invalid",
};

const JSON_TYPE = { "content-type": "application/json" };
const cronBody = (cron_expression: string) => ({ name: "hostile", cron_expression, timezone: "UTC" });
/** A password the replies must never echo (the harness checks every reply for it). */
const longPassword = `S3cret-${"p".repeat(2000)}`;
const forgedCursor = (fields: object) => Buffer.from(JSON.stringify(fields)).toString("base64url");

const cases: Case[] = [
  // --- Who is calling -------------------------------------------------------------------------
  { title: "no token", method: "GET", path: "/api/servers", as: "nobody", status: 401 },
  {
    title: "a wrong token",
    method: "GET",
    path: "/api/backups",
    as: "nobody",
    headers: { authorization: "Bearer not-the-token" },
    status: 401,
  },
  {
    title: "basic auth instead of a bearer token",
    method: "DELETE",
    path: "/api/backups/{completed}",
    as: "nobody",
    headers: { authorization: "Basic b3BlcmF0b3I6b3BlcmF0b3I=" },
    status: 401,
  },
  {
    title: "no token on a change, with a body",
    method: "PUT",
    path: "/api/settings",
    as: "nobody",
    body: { retention_days: 1 },
    status: 401,
  },
  {
    title: "viewer: POST a server",
    method: "POST",
    path: "/api/servers",
    as: "viewer",
    status: 403,
    body: { name: "v", host: "h" },
  },
  {
    title: "viewer: PUT settings",
    method: "PUT",
    path: "/api/settings",
    as: "viewer",
    body: { retention_days: 1 },
    status: 403,
  },
  {
    title: "viewer: PATCH a backup",
    method: "PATCH",
    path: "/api/backups/{completed}",
    as: "viewer",
    body: { name: "mine" },
    status: 403,
  },
  {
    title: "viewer: DELETE a backup",
    method: "DELETE",
    path: "/api/backups/{completed}",
    as: "viewer",
    status: 403,
  },
  {
    title: "viewer: cancel a backup",
    method: "POST",
    path: "/api/backups/{queued}/cancel",
    as: "viewer",
    status: 403,
  },
  {
    title: "viewer: PUT a schedule",
    method: "PUT",
    path: "/api/schedules/{schedule}",
    as: "viewer",
    body: { enabled: false },
    status: 403,
  },
  {
    title: "viewer: DELETE a server",
    method: "DELETE",
    path: "/api/servers/{server}",
    as: "viewer",
    status: 403,
  },
  {
    title: "viewer: POST a restore",
    method: "POST",
    path: "/api/restore",
    as: "viewer",
    body: { backup_id: "{completed}", target_database: "shop_copy" },
    status: 403,
  },
  {
    title: "viewer: sync databases",
    method: "POST",
    path: "/api/databases/sync",
    as: "viewer",
    body: {},
    status: 403,
  },

  // --- Wrong types ----------------------------------------------------------------------------
  {
    title: 'port "27017" (a string)',
    method: "POST",
    path: "/api/servers",
    body: { name: "typed", host: "db.example.com", port: "27017" },
    status: 422,
    fields: ["port"],
  },
  {
    title: 'enabled "yes"',
    method: "PATCH",
    path: "/api/databases/{database}",
    body: { enabled: "yes" },
    status: 422,
    fields: ["enabled"],
  },
  { title: "limit=abc", method: "GET", path: "/api/backups?limit=abc", status: 422, fields: ["limit"] },
  {
    title: "retention_days 1.5",
    method: "PUT",
    path: "/api/settings",
    body: { retention_days: 1.5 },
    status: 422,
    fields: ["retention_days"],
  },
  {
    title: "tls 1",
    method: "PUT",
    path: "/api/servers/{server}",
    body: { tls: 1 },
    status: 422,
    fields: ["tls"],
  },
  {
    title: "keep_last as a string on a schedule",
    method: "PUT",
    path: "/api/schedules/{schedule}",
    body: { keep_last: "3" },
    status: 422,
    fields: ["keep_last"],
  },
  {
    title: 'drop "true" (a string) on a restore',
    method: "POST",
    path: "/api/restore",
    body: { backup_id: "{completed}", drop: "true" },
    status: 422,
    fields: ["drop"],
  },
  {
    title: "an unknown compression",
    method: "POST",
    path: "/api/backups",
    body: { server_id: "{server}", database: "shop", compression: "lzma" },
    status: 422,
    fields: ["compression"],
  },

  // --- Size -----------------------------------------------------------------------------------
  {
    title: "a name of 100k characters",
    method: "PATCH",
    path: "/api/backups/{completed}",
    body: { name: "n".repeat(100_000) },
    status: 422,
    fields: ["name"],
  },
  {
    title: "a server name of 100k characters",
    method: "POST",
    path: "/api/servers",
    body: { name: "s".repeat(100_000), host: "db.example.com" },
    status: 422,
    fields: ["name"],
  },
  {
    title: "a 300 KB body",
    method: "PUT",
    path: "/api/settings",
    body: { webhook_url: `https://example.com/${"x".repeat(300 * 1024)}` },
    status: 413,
  },
  {
    title: "a 300 KB body on an optional-body route",
    method: "POST",
    path: "/api/backups",
    body: { notes: "x".repeat(300 * 1024) },
    status: 413,
  },

  // --- Unknown fields -------------------------------------------------------------------------
  {
    title: "an unknown top-level field",
    method: "POST",
    path: "/api/servers",
    body: { name: "extra", host: "db.example.com", is_admin: true },
    status: 422,
    fields: ["is_admin"],
  },
  {
    title: "an unknown field nested in concurrency",
    method: "PUT",
    path: "/api/settings",
    body: { concurrency: { per_server: 2, burst: 99 } },
    status: 422,
    fields: ["concurrency.burst"],
  },
  {
    title: "status smuggled into an annotation",
    method: "PATCH",
    path: "/api/backups/{queued}",
    body: { name: "done", status: "completed" },
    status: 422,
    fields: ["status"],
  },
  {
    title: "last_run smuggled into a schedule update",
    method: "PUT",
    path: "/api/schedules/{schedule}",
    body: { last_run: { at: "2020-01-01T00:00:00Z", backups_created: 0, error: null } },
    status: 422,
    fields: ["last_run"],
  },
  {
    title: "an unknown query parameter",
    method: "GET",
    path: "/api/servers?include_passwords=true",
    status: 422,
    fields: ["include_passwords"],
  },

  // --- Operators where a string belongs -------------------------------------------------------
  {
    title: '{"$gt": ""} as a server name',
    method: "POST",
    path: "/api/servers",
    body: { name: { $gt: "" }, host: "db.example.com" },
    status: 422,
    fields: ["name"],
  },
  {
    title: '{"$gt": ""} as a database',
    method: "POST",
    path: "/api/backups",
    body: { server_id: "{server}", database: { $gt: "" } },
    status: 422,
    fields: ["database"],
  },
  {
    title: '{"$gt": ""} as a backup_id',
    method: "POST",
    path: "/api/restore",
    body: { backup_id: { $gt: "" } },
    status: 422,
    fields: ["backup_id"],
  },
  {
    title: '{"$gt": ""} as a host',
    method: "PUT",
    path: "/api/servers/{server}",
    body: { host: { $gt: "" } },
    status: 422,
    fields: ["host"],
  },
  {
    title: '{"$ne": null} as a server_id',
    method: "POST",
    path: "/api/databases/sync",
    body: { server_id: { $ne: null } },
    status: 422,
    fields: ["server_id"],
  },
  {
    title: "a $where key",
    method: "POST",
    path: "/api/backups",
    body: { $where: "sleep(10000)" },
    status: 422,
    fields: ["$where"],
  },
  {
    title: "a $where key in URI options",
    method: "POST",
    path: "/api/servers",
    body: { name: "opts", host: "db.example.com", options: { $where: "1" } },
    status: 422,
    fields: ["options.$where"],
  },
  {
    title: "bracketed operator in the query string",
    method: "GET",
    path: "/api/backups?server_id[$ne]=x",
    status: 422,
    fields: ["server_id[$ne]"],
  },

  // --- Path traversal -------------------------------------------------------------------------
  {
    title: 'database "../../etc"',
    method: "POST",
    path: "/api/backups",
    body: { server_id: "{server}", database: "../../etc" },
    status: 422,
    fields: ["database"],
  },
  { title: "GET /api/backups/..%2F..%2Fetc", method: "GET", path: "/api/backups/..%2F..%2Fetc", status: 404 },
  {
    title: "DELETE /api/backups/..%2F..%2Fetc",
    method: "DELETE",
    path: "/api/backups/..%2F..%2Fetc",
    status: 404,
  },
  {
    title: "download /api/backups/..%2F..%2Fetc%2Fpasswd",
    method: "GET",
    path: "/api/backups/..%2F..%2Fetc%2Fpasswd/download",
    status: 404,
  },
  {
    title: "target_database with a slash",
    method: "POST",
    path: "/api/restore",
    body: { backup_id: "{completed}", target_database: "shop/../admin" },
    status: 422,
    fields: ["target_database"],
  },
  {
    title: "target_database with a dot",
    method: "POST",
    path: "/api/restore",
    body: { backup_id: "{completed}", target_database: "shop.users", drop: true },
    status: 422,
    fields: ["target_database"],
  },
  {
    title: "a schedule's database with a backslash",
    method: "PUT",
    path: "/api/schedules/{schedule}",
    body: { database: "..\\..\\windows" },
    status: 422,
    fields: ["database"],
  },
  {
    title: "a system collection to restore",
    method: "POST",
    path: "/api/restore",
    body: { backup_id: "{completed}", target_database: "shop_copy", collections: ["orders", "system.users"] },
    status: 422,
    fields: ["collections.1"],
  },
  {
    title: "a host that smuggles a URI",
    method: "POST",
    path: "/api/servers",
    body: { name: "smuggle", host: "evil.example.com/?authSource=x" },
    status: 422,
    fields: ["host"],
  },

  // --- Control characters ---------------------------------------------------------------------
  {
    title: "NUL in a backup name",
    method: "PATCH",
    path: "/api/backups/{completed}",
    body: { name: "weekly\u0000.archive" },
    status: 422,
    fields: ["name"],
  },
  {
    title: "an escape sequence in notes",
    method: "PATCH",
    path: "/api/backups/{completed}",
    body: { notes: "fine\u001b[2J\u001b[31mPWNED" },
    status: 422,
    fields: ["notes"],
  },
  {
    title: "NUL in notes of a trigger",
    method: "POST",
    path: "/api/backups",
    body: { server_id: "{server}", database: "shop", notes: "a\u0000b" },
    status: 422,
    fields: ["notes"],
  },
  {
    title: "a newline in a server name",
    method: "POST",
    path: "/api/servers",
    body: { name: "prod\nINFO forged log line", host: "db.example.com" },
    status: 422,
    fields: ["name"],
  },
  {
    title: "a control character in a schedule name",
    method: "PUT",
    path: "/api/schedules/{schedule}",
    body: { name: "night\u0007ly" },
    status: 422,
    fields: ["name"],
  },

  // --- Bodies that are not an object ----------------------------------------------------------
  {
    title: "no body where one is required",
    method: "PATCH",
    path: "/api/backups/{completed}",
    status: 422,
    fields: ["name"],
  },
  {
    title: "an empty JSON object as settings",
    method: "PUT",
    path: "/api/settings",
    body: {},
    status: 422,
    fields: ["retention_days"],
  },
  {
    title: "an empty body with content-type JSON",
    method: "PUT",
    path: "/api/settings",
    body: "",
    headers: JSON_TYPE,
    status: 400,
  },
  { title: "a null body", method: "POST", path: "/api/servers", body: null, status: 422, fields: ["body"] },
  {
    title: "a JSON array",
    method: "POST",
    path: "/api/restore",
    body: [{ backup_id: "{completed}" }],
    status: 422,
    fields: ["body"],
  },
  {
    title: "a bare JSON string",
    method: "PUT",
    path: "/api/settings",
    body: '"retention_days"',
    headers: JSON_TYPE,
    status: 422,
    fields: ["body"],
  },
  {
    title: "a bare JSON number on an optional-body route",
    method: "POST",
    path: "/api/backups",
    body: "42",
    headers: JSON_TYPE,
    status: 422,
    fields: ["body"],
  },
  {
    title: "truncated JSON",
    method: "POST",
    path: "/api/servers",
    body: '{"name": "half", "host": ',
    headers: JSON_TYPE,
    status: 400,
  },
  {
    title: "single-quoted pseudo-JSON",
    method: "PATCH",
    path: "/api/backups/{completed}",
    body: "{'name': 'x'}",
    headers: JSON_TYPE,
    status: 400,
  },
  {
    title: "non-JSON on an optional-body route",
    method: "POST",
    path: "/api/backups",
    body: "server_id=x",
    headers: JSON_TYPE,
    status: 400,
  },

  {
    title: "a __proto__ key",
    method: "PUT",
    path: "/api/settings",
    body: '{"__proto__": {"retention_days": 1}}',
    headers: JSON_TYPE,
    status: 422,
    fields: ["__proto__", "retention_days"],
  },
  {
    title: "a duplicate key whose last value is an operator",
    method: "PATCH",
    path: "/api/backups/{completed}",
    body: '{"name": "fine", "name": {"$gt": ""}}',
    headers: JSON_TYPE,
    status: 422,
    fields: ["name"],
  },
  {
    title: "arrays nested 50k deep",
    method: "POST",
    path: "/api/restore",
    body: `${"[".repeat(50_000)}${"]".repeat(50_000)}`,
    headers: JSON_TYPE,
    status: 422,
    fields: ["body"],
  },

  // --- Content types --------------------------------------------------------------------------
  {
    title: "text/plain",
    method: "PUT",
    path: "/api/settings",
    body: '{"retention_days": 3}',
    headers: { "content-type": "text/plain" },
    status: 415,
  },
  {
    title: "form-urlencoded",
    method: "POST",
    path: "/api/servers",
    body: "name=form&host=db.example.com",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    status: 415,
  },
  {
    title: "form-urlencoded on an optional-body route",
    method: "POST",
    path: "/api/backups",
    body: "server_id=x",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    status: 415,
  },
  {
    title: "a body without a content-type",
    method: "PATCH",
    path: "/api/backups/{completed}",
    body: '{"name": "x"}',
    noContentType: true,
    status: 415,
  },
  {
    title: "a body without a content-type on an optional-body route",
    method: "POST",
    path: "/api/backups",
    body: '{"server_id": "{server}", "database": "shop"}',
    noContentType: true,
    status: 415,
  },

  // --- Schedules: cron and zone ---------------------------------------------------------------
  {
    title: 'cron "61 * * * *"',
    method: "POST",
    path: "/api/schedules",
    body: cronBody("61 * * * *"),
    status: 422,
    fields: ["cron_expression"],
  },
  {
    title: 'cron "* * * *"',
    method: "PUT",
    path: "/api/schedules/{schedule}",
    body: { cron_expression: "* * * *" },
    status: 422,
    fields: ["cron_expression"],
  },
  {
    title: 'cron "@daily"',
    method: "POST",
    path: "/api/schedules",
    body: cronBody("@daily"),
    status: 422,
    fields: ["cron_expression"],
  },
  {
    title: "a cron that never runs (Feb 30)",
    method: "POST",
    path: "/api/schedules",
    body: cronBody("0 0 30 2 *"),
    status: 422,
    fields: ["cron_expression"],
  },
  {
    title: 'timezone "Mars/Olympus"',
    method: "POST",
    path: "/api/schedules",
    body: { ...cronBody("0 3 * * *"), timezone: "Mars/Olympus" },
    status: 422,
    fields: ["timezone"],
  },
  {
    title: 'timezone "../etc"',
    method: "PUT",
    path: "/api/schedules/{schedule}",
    body: { timezone: "../etc" },
    status: 422,
    fields: ["timezone"],
  },
  {
    title: "a schedule on an unknown server",
    method: "POST",
    path: "/api/schedules",
    body: { ...cronBody("0 3 * * *"), server_id: "{unknown}" },
    status: 404,
  },
  {
    title: "a schedule's database without a server (server_id null)",
    method: "POST",
    path: "/api/schedules",
    body: { ...cronBody("0 3 * * *"), server_id: null, database: "shop" },
    status: 422,
    fields: ["database"],
  },
  {
    title: "a database added to an unscoped schedule",
    method: "PUT",
    path: "/api/schedules/{unscoped}",
    body: { database: "shop" },
    status: 422,
    fields: ["database"],
  },
  {
    title: "a schedule's database without a server (server_id absent)",
    method: "POST",
    path: "/api/schedules",
    body: { ...cronBody("0 3 * * *"), database: "shop" },
    status: 422,
    fields: ["database"],
  },

  // --- Settings and servers: URLs -------------------------------------------------------------
  {
    title: 'webhook_url "ftp://x"',
    method: "PUT",
    path: "/api/settings",
    body: { webhook_url: "ftp://x" },
    status: 422,
    fields: ["webhook_url"],
  },
  {
    title: 'webhook_url "javascript:alert(1)"',
    method: "PUT",
    path: "/api/settings",
    body: { webhook_url: "javascript:alert(1)" },
    status: 422,
    fields: ["webhook_url"],
  },
  {
    title: 'connection_string "http://x"',
    method: "POST",
    path: "/api/servers",
    body: { name: "web", connection_string: "http://x" },
    status: 422,
    fields: ["connection_string"],
  },
  {
    title: "both host and connection_string",
    method: "POST",
    path: "/api/servers",
    body: { name: "both", host: "db.example.com", connection_string: "mongodb://db.example.com" },
    status: 422,
    fields: ["connection_string"],
  },
  {
    title: "both port and connection_string on update",
    method: "PUT",
    path: "/api/servers/{server}",
    body: { port: 27018, connection_string: "mongodb://db.example.com" },
    status: 422,
    fields: ["connection_string"],
  },
  {
    title: "neither host nor connection_string to probe",
    method: "POST",
    path: "/api/servers/probe-databases",
    body: { name: "probe" },
    status: 422,
    fields: ["host"],
  },
  {
    title: "a password that is a number",
    method: "POST",
    path: "/api/servers",
    body: { name: "pw", host: "db.example.com", password: 123456 },
    status: 422,
    fields: ["password"],
  },
  {
    title: "a password too long (and never echoed)",
    method: "PUT",
    path: "/api/servers/{server}",
    body: { password: longPassword },
    status: 422,
    fields: ["password"],
  },
  {
    title: "credentials hidden in URI options",
    method: "PUT",
    path: "/api/servers/{server}",
    body: { options: { Password: "hunter2" } },
    status: 422,
    fields: ["options"],
  },

  // --- Backups and restores against the state -------------------------------------------------
  {
    title: "restore of a queued backup",
    method: "POST",
    path: "/api/restore",
    body: { backup_id: "{queued}", target_database: "shop_copy" },
    status: 409,
  },
  {
    title: "restore onto the source database without drop",
    method: "POST",
    path: "/api/restore",
    body: { backup_id: "{completed}" },
    status: 409,
  },
  {
    title: "restore of an unknown backup",
    method: "POST",
    path: "/api/restore",
    body: { backup_id: "{unknown}", target_database: "shop_copy" },
    status: 404,
  },
  {
    title: "restore onto an unknown server",
    method: "POST",
    path: "/api/restore",
    body: { backup_id: "{completed}", target_server_id: "{unknown}" },
    status: 404,
  },
  {
    title: "restore of collections the backup does not hold",
    method: "POST",
    path: "/api/restore",
    body: { backup_id: "{completed}", target_database: "shop_copy", collections: ["orders", "payments"] },
    status: 422,
    fields: ["collections"],
  },
  {
    title: "restore of an empty list of collections",
    method: "POST",
    path: "/api/restore",
    body: { backup_id: "{completed}", target_database: "shop_copy", collections: [] },
    status: 422,
    fields: ["collections"],
  },
  {
    title: "a trigger naming a database without server_id",
    method: "POST",
    path: "/api/backups",
    body: { database: "shop" },
    status: 422,
    fields: ["database"],
  },
  {
    title: "a trigger for a database never synced",
    method: "POST",
    path: "/api/backups",
    body: { server_id: "{server}", database: "not_synced" },
    status: 404,
  },
  {
    title: "a trigger for an unknown server",
    method: "POST",
    path: "/api/backups",
    body: { server_id: "{unknown}" },
    status: 404,
  },
  {
    title: "delete a queued backup",
    method: "DELETE",
    path: "/api/backups/{queued}",
    status: 409,
  },
  {
    title: "cancel a completed backup",
    method: "POST",
    path: "/api/backups/{completed}/cancel",
    status: 409,
  },
  { title: "download a failed backup", method: "GET", path: "/api/backups/{failed}/download", status: 409 },

  // --- Lists: limits and cursors --------------------------------------------------------------
  { title: "limit=-1", method: "GET", path: "/api/backups?limit=-1", status: 422, fields: ["limit"] },
  { title: "limit=0", method: "GET", path: "/api/schedules?limit=0", status: 422, fields: ["limit"] },
  { title: "limit=101", method: "GET", path: "/api/audit?limit=101", status: 422, fields: ["limit"] },
  { title: "limit=2.5", method: "GET", path: "/api/restore?limit=2.5", status: 422, fields: ["limit"] },
  {
    title: "limit given twice",
    method: "GET",
    path: "/api/servers?limit=1&limit=2",
    status: 422,
    fields: ["limit"],
  },
  {
    title: "a forged cursor (random base64url)",
    method: "GET",
    path: "/api/backups?cursor=QUFBQUFBQUFBQUFB",
    status: 422,
    fields: ["cursor"],
  },
  {
    title: "a forged cursor (another list's shape)",
    method: "GET",
    path: `/api/backups?cursor=${forgedCursor({ e: "server", id: "0190c0de-0000-7000-8000-000000000000" })}`,
    status: 422,
    fields: ["cursor"],
  },
  {
    title: 'a cursor of {"$gt":""}',
    method: "GET",
    path: `/api/servers?cursor=${encodeURIComponent('{"$gt":""}')}`,
    status: 422,
    fields: ["cursor"],
  },
  {
    title: "an unknown status filter",
    method: "GET",
    path: "/api/backups?status=deleted",
    status: 422,
    fields: ["status"],
  },
  {
    title: "a database filter with a traversal",
    method: "GET",
    path: `/api/backups?server_id={server}&database=${encodeURIComponent("../admin")}`,
    status: 422,
    fields: ["database"],
  },
  {
    title: "delete_backups=yes",
    method: "DELETE",
    path: "/api/servers/{server}?delete_backups=yes",
    status: 422,
    fields: ["delete_backups"],
  },
  {
    title: "a database filter without server_id",
    method: "GET",
    path: "/api/backups?database=shop",
    status: 422,
    fields: ["database"],
  },
  {
    title: "a control character in an audit filter",
    method: "GET",
    path: "/api/audit?actor=alice%00",
    status: 422,
    fields: ["actor"],
  },
  {
    title: "enabled=1 as a filter",
    method: "GET",
    path: "/api/databases?enabled=1",
    status: 422,
    fields: ["enabled"],
  },

  // --- Unknown ids and routes -----------------------------------------------------------------
  { title: "an unknown server", method: "GET", path: "/api/servers/{unknown}", status: 404 },
  {
    title: "update an unknown schedule",
    method: "PUT",
    path: "/api/schedules/{unknown}",
    body: { enabled: false },
    status: 404,
  },
  { title: "delete an unknown database", method: "DELETE", path: "/api/databases/{unknown}", status: 404 },
  { title: "cancel an unknown backup", method: "POST", path: "/api/backups/{unknown}/cancel", status: 404 },
  {
    title: "download an unknown backup",
    method: "GET",
    path: "/api/backups/{unknown}/download",
    status: 404,
  },
  {
    title: "toggle an unknown schedule",
    method: "POST",
    path: "/api/schedules/{unknown}/toggle",
    status: 404,
  },
  { title: "test an unknown server", method: "POST", path: "/api/servers/{unknown}/test", status: 404 },
  {
    title: "an id of 65 characters",
    method: "DELETE",
    path: `/api/schedules/${"a".repeat(65)}`,
    status: 422,
    fields: ["id"],
  },
  { title: "an unknown route", method: "GET", path: "/api/secrets", status: 404 },
  {
    title: "a method the route lacks (405, not 404)",
    method: "PATCH",
    path: "/api/servers/{server}",
    body: { name: "x" },
    status: 405,
  },
];

/** Seeded ids the table refers to as `{name}`. */
type Ids = Record<
  "server" | "database" | "schedule" | "unscoped" | "completed" | "queued" | "failed" | "unknown",
  string
>;

function fill(value: unknown, ids: Ids): unknown {
  if (typeof value === "string")
    return value.replace(/\{(\w+)\}/g, (m, k: string) => (k in ids ? ids[k as keyof Ids] : m));
  if (Array.isArray(value)) return value.map((v) => fill(v, ids));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, ids)]));
  }
  return value;
}

type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/** What `api.snapshot()` returns, read in parallel (it runs after each of ~250 cases; moto is slow). */
async function snapshot(api: ApiWorld) {
  const s = api.world.store;
  const [servers, databases, backups, schedules, restores, audit, settings, blobs] = await Promise.all([
    listAll((f, p) => s.servers.list(f, p), {}),
    listAll((f, p) => s.databases.list(f, p), {}),
    listAll((f, p) => s.backups.list(f, p), {}),
    listAll((f, p) => s.schedules.list(f, p), {}),
    listAll((f, p) => s.restores.list(f, p), {}),
    listAll((f, p) => s.audit.list(f, p), {}),
    s.settings.get(),
    api.world.leftovers(""),
  ]);
  return { servers, databases, backups, schedules, restores, audit, settings: settings ?? null, blobs };
}

describe.each(["local", "aws"] as const)("hostile requests (%s store)", (kind) => {
  let api: ApiWorld;
  let ids: Ids;
  let before: Snapshot;

  beforeAll(async () => {
    api = await apiWorld(kind);
    knownPasswords.add(longPassword);
    const server = await addTestServer(api);
    const database = await api.deps.store.databases.create(
      makeDatabase({ server_id: server.id, name: "shop" }),
    );

    const schedule = await api.call("POST", "/api/schedules", {
      body: {
        name: "nightly shop",
        cron_expression: "0 3 * * *",
        timezone: "Europe/Paris",
        server_id: server.id,
        database: "shop",
        retention_days: 14,
        keep_last: 5,
      },
    });
    expect(schedule.status, schedule.text).toBe(201);
    const unscoped = await api.call("POST", "/api/schedules", {
      body: { name: "weekly everything", cron_expression: "30 4 * * 0", timezone: "UTC", enabled: false },
    });
    expect(unscoped.status, unscoped.text).toBe(201);
    const settings = await api.call("PUT", "/api/settings", {
      body: {
        retention_days: 21,
        concurrency: { per_server: 2 },
        webhook_url: "https://hooks.example.com/mbm",
      },
    });
    expect(settings.status, settings.text).toBe(200);
    const triggered = await api.call("POST", "/api/backups", {
      body: { server_id: server.id, database: "shop" },
    });
    expect(triggered.status, triggered.text).toBe(202);
    const queued: Backup = triggered.json.items[0];
    expect(queued.status).toBe("queued");

    const finished = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const completed = makeBackup({
      server_id: server.id,
      database: "shop",
      status: "completed",
      name: "before the migration",
      started_at: finished(11),
      finished_at: finished(10),
      duration_ms: 60_000,
      size_bytes: 11,
      sha256: "a".repeat(64),
      tool_version: "100.10.0",
      collections: { orders: 3, customers: 2 },
      expires_at: new Date(Date.now() + 21 * 86_400_000).toISOString(),
    });
    completed.blob_key = backupBlobKey(completed);
    await api.world.blobs.upload(completed.blob_key, Readable.from([Buffer.from("not a dump\n")]));
    await api.deps.store.backups.create(completed);
    const failed = await api.deps.store.backups.create(
      makeBackup({
        server_id: server.id,
        database: "shop",
        status: "failed",
        started_at: finished(5),
        finished_at: finished(4),
        duration_ms: 60_000,
        error: "authentication: bad auth",
      }),
    );

    ids = {
      server: server.id,
      database: database.id,
      schedule: schedule.json.id,
      unscoped: unscoped.json.id,
      completed: completed.id,
      queued: queued.id,
      failed: failed.id,
      unknown: newId(),
    };
    before = await snapshot(api);
    expect(before, "the parallel snapshot reads what the harness's does").toEqual(await api.snapshot());
    // The seed is what the cases attack: make sure it is all there.
    expect(before.audit.length).toBe(5);
    expect(before.blobs.objects).toHaveLength(1);
  });

  afterAll(async () => {
    await api?.close();
  });

  async function send(c: Case): Promise<Reply> {
    const path = fill(c.path, ids) as string;
    const body = fill(c.body, ids);
    if (!c.noContentType) {
      return await api.call(c.method, path, {
        ...(c.body !== undefined ? { body } : {}),
        ...(c.headers ? { headers: c.headers } : {}),
        as: c.as ?? "operator",
      });
    }
    // Bytes rather than a string: fetch would add `text/plain` to a string body.
    const res = await api.app.request(path, {
      method: c.method,
      headers: { authorization: `Bearer ${api.tokens.operator}` },
      body: new TextEncoder().encode(String(body)),
    });
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const text = await res.text();
    for (const password of knownPasswords) expect(text.includes(password)).toBe(false);
    return { status: res.status, headers: res.headers, text, json: JSON.parse(text) };
  }

  it("has at least 45 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(45);
    expect(300 * 1024, "the 413 cases send more than the limit").toBeGreaterThan(maxBodyBytes);
    expect(new Set(cases.map((c) => c.title)).size).toBe(cases.length);
  });

  it.each(cases)("$method $path: $title → $status", async (c) => {
    const reply = await send(c);
    // Snapshot first, so that a case that wrongly changed something fails alone, not the next ones.
    const after = await snapshot(api);
    const previous = before;
    before = after;
    expect(reply.status, reply.text).toBe(c.status);
    expect(reply.headers.get("content-type")).toMatch(/^application\/json/);
    expect(Object.keys(reply.json ?? {}), reply.text).toEqual(["error"]);
    expect(Object.keys(reply.json.error).sort(), reply.text).toEqual(["code", "details", "message"]);
    expect(reply.json.error.code, reply.text).toBe(CODE[c.status]);
    expect(reply.json.error.message).toEqual(expect.any(String));
    expect(reply.json.error.message.length).toBeGreaterThan(0);
    if (c.status === 401) expect(reply.headers.get("www-authenticate")).toMatch(/^Bearer /);

    if (c.status === 422) {
      const details: Array<{ field: string; message: string }> = reply.json.error.details;
      expect(reply.json.error.code).toBe("invalid");
      expect(Array.isArray(details), reply.text).toBe(true);
      expect([...new Set(details.map((d) => d.field))], reply.text).toEqual(c.fields);
      // The message names the first bad field first (after "query parameter " for a query).
      const message: string = reply.json.error.message;
      expect(message.replace(/^(query|path) parameter /, ""), reply.text).toMatch(
        new RegExp(`^${details[0]!.field.replace(/[$[\]().]/g, "\\$&")}: `),
      );
    } else {
      expect(c.fields, "fields are for 422 cases only").toBeUndefined();
    }

    // Refused requests change nothing, not even the audit log (see `audited` in use-cases/deps.ts).
    expect(after).toEqual(previous);
  });
});
