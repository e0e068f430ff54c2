// /api/backups: fan-out trigger, list and filters, annotate, cancel, delete, download.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { Backup, Drill } from "#core/entities.ts";
import {
  AnnotateBackupInput,
  ImportBackupInput,
  TriggerBackupInput,
  VerifyBackupInput,
} from "#core/inputs.ts";
import {
  annotateBackup,
  backupDownloadLink,
  cancelBackup,
  deleteBackup,
  getBackup,
  triggerBackups,
} from "#core/use-cases/backups.ts";
import { requestDrill } from "#core/use-cases/drills.ts";
import { importBackup } from "#core/use-cases/imports.ts";
import { listBackups } from "#core/use-cases/lists.ts";
import { BackupListQuery } from "../queries.ts";
import {
  type ApiDeps,
  Deleted,
  errors,
  IdParam,
  jsonBody,
  pageOf,
  pageRequest,
  reply,
  router,
} from "./common.ts";

const DownloadReply = z.object({
  url: z.string(),
  expires_at: z.string(),
  file_name: z.string(),
  size_bytes: z.number().nullable(),
});

const tag = ["backups"];

export function backupRoutes(deps: ApiDeps) {
  const app = router();
  app.openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: tag,
      summary: "List backups, newest first (database filter needs server_id)",
      request: { query: BackupListQuery },
      responses: { 200: reply(pageOf(Backup), "Backups"), ...errors },
    }),
    async (c) => {
      const { limit, cursor, ...filter } = c.req.valid("query");
      return c.json(await listBackups(deps, filter, pageRequest({ limit, cursor })), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: tag,
      summary:
        "Trigger backups: {} every enabled database everywhere; server_id that server's; server_id + database that one",
      request: { body: jsonBody(TriggerBackupInput, false) },
      responses: { 202: reply(z.object({ items: z.array(Backup) }), "The queued backups"), ...errors },
    }),
    async (c) => c.json(await triggerBackups(deps, c.get("actor"), c.req.valid("json")), 202),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/import",
      tags: tag,
      summary:
        "Import a dump put under imports/ (mongodump --archive, gzip or zstd or plain, or a tar of a mongodump --out directory) as a backup of server_id's database; 409 when a backup already holds that source",
      request: { body: jsonBody(ImportBackupInput) },
      responses: { 202: reply(Backup, "The queued import (a backup with trigger import)"), ...errors },
    }),
    async (c) => c.json(await importBackup(deps, c.get("actor"), c.req.valid("json")), 202),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: tag,
      summary: "Get a backup",
      request: { params: IdParam },
      responses: { 200: reply(Backup, "The backup"), ...errors },
    }),
    async (c) => c.json(await getBackup(deps, c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags: tag,
      summary: "Annotate a backup (name, notes)",
      request: { params: IdParam, body: jsonBody(AnnotateBackupInput) },
      responses: { 200: reply(Backup, "The backup"), ...errors },
    }),
    async (c) =>
      c.json(await annotateBackup(deps, c.get("actor"), c.req.valid("param").id, c.req.valid("json")), 200),
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags: tag,
      summary:
        "Delete a backup: archive first, then record (409 while queued, running, or read by a restore or a restore drill)",
      request: { params: IdParam },
      responses: { 200: reply(Deleted, "Deleted"), ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      await deleteBackup(deps, c.get("actor"), id);
      return c.json({ deleted: id }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/{id}/cancel",
      tags: tag,
      summary: "Cancel a queued or running backup (a running task is stopped; nothing is kept)",
      request: { params: IdParam },
      responses: { 200: reply(Backup, "The cancelled backup"), ...errors },
    }),
    async (c) => c.json(await cancelBackup(deps, c.get("actor"), c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/{id}/verify",
      tags: tag,
      summary:
        "Run a restore drill of a completed backup: restore it into a throwaway target, prove it, clean up (409 unless completed, or while a drill of it runs)",
      request: { params: IdParam, body: jsonBody(VerifyBackupInput, false) },
      responses: { 202: reply(Drill, "The queued drill"), ...errors },
    }),
    async (c) =>
      c.json(
        await requestDrill(deps, c.get("actor"), c.req.valid("param").id, c.req.valid("json") ?? {}),
        202,
      ),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/{id}/download",
      tags: tag,
      summary:
        "A short-lived link to the archive (presigned S3 URL on AWS; a signed local link in local mode)",
      request: { params: IdParam },
      responses: { 200: reply(DownloadReply, "The link"), ...errors },
    }),
    async (c) => c.json(await backupDownloadLink(deps, deps.downloads, c.req.valid("param").id), 200),
  );
  return app;
}
