// /api/databases: the databases discovered on each server, enabled or not for fan-out.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { ManagedDatabase } from "#core/entities.ts";
import { SyncDatabasesInput, UpdateDatabaseInput } from "#core/inputs.ts";
import { deleteDatabase, getDatabase, setDatabaseEnabled, syncDatabases } from "#core/use-cases/databases.ts";
import { listDatabases } from "#core/use-cases/lists.ts";
import { DatabaseListQuery } from "../queries.ts";
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

const SyncReply = z.object({
  results: z.array(
    z.object({
      server_id: z.string(),
      ok: z.boolean(),
      error: z.string().nullable(),
      added: z.array(z.string()),
      vanished: z.array(z.string()),
      returned: z.array(z.string()),
    }),
  ),
});

const tag = ["databases"];

export function databaseRoutes(deps: ApiDeps) {
  const app = router();
  app.openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: tag,
      summary: "List managed databases",
      request: { query: DatabaseListQuery },
      responses: { 200: reply(pageOf(ManagedDatabase), "Databases, newest first"), ...errors },
    }),
    async (c) => {
      const { server_id, enabled, ...page } = c.req.valid("query");
      return c.json(await listDatabases(deps, { server_id, enabled }, pageRequest(page)), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/sync",
      tags: tag,
      summary:
        "Discover databases (listDatabases) on one server or all: new ones are added enabled, vanished ones marked",
      request: { body: jsonBody(SyncDatabasesInput, false) },
      responses: { 200: reply(SyncReply, "What each server's sync found"), ...errors },
    }),
    async (c) => c.json(await syncDatabases(deps, c.get("actor"), c.req.valid("json")), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: tag,
      summary: "Get a managed database",
      request: { params: IdParam },
      responses: { 200: reply(ManagedDatabase, "The database"), ...errors },
    }),
    async (c) => c.json(await getDatabase(deps, c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags: tag,
      summary: "Enable or disable a database for fan-out backups",
      request: { params: IdParam, body: jsonBody(UpdateDatabaseInput) },
      responses: { 200: reply(ManagedDatabase, "The database"), ...errors },
    }),
    async (c) =>
      c.json(
        await setDatabaseEnabled(deps, c.get("actor"), c.req.valid("param").id, c.req.valid("json").enabled),
        200,
      ),
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags: tag,
      summary:
        "Stop managing a database (its backups stay; disable it instead to keep a sync from re-adding it)",
      request: { params: IdParam },
      responses: { 200: reply(Deleted, "Deleted"), ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      await deleteDatabase(deps, c.get("actor"), id);
      return c.json({ deleted: id }, 200);
    },
  );
  return app;
}
