// /api/restore: restore history and new restores.
import { createRoute } from "@hono/zod-openapi";
import { Restore } from "#core/entities.ts";
import { TriggerRestoreInput } from "#core/inputs.ts";
import { listRestores } from "#core/use-cases/lists.ts";
import { getRestore, triggerRestore } from "#core/use-cases/restores.ts";
import { RestoreListQuery } from "../queries.ts";
import { type ApiDeps, errors, IdParam, jsonBody, pageOf, pageRequest, reply, router } from "./common.ts";

const tag = ["restores"];

export function restoreRoutes(deps: ApiDeps) {
  const app = router();
  app.openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: tag,
      summary: "List restores, newest first",
      request: { query: RestoreListQuery },
      responses: { 200: reply(pageOf(Restore), "Restores"), ...errors },
    }),
    async (c) => {
      const { limit, cursor, ...filter } = c.req.valid("query");
      return c.json(await listRestores(deps, filter, pageRequest({ limit, cursor })), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: tag,
      summary:
        "Restore a completed backup (backup_id, or server_id + database for its newest completed backup, with verified: true the newest that passed a drill; 404 when none) to its server or another, under its name or another; drop only when asked. The restore's backup_id names the backup chosen",
      request: { body: jsonBody(TriggerRestoreInput) },
      responses: { 202: reply(Restore, "The queued restore"), ...errors },
    }),
    async (c) => c.json(await triggerRestore(deps, c.get("actor"), c.req.valid("json")), 202),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: tag,
      summary: "Get a restore",
      request: { params: IdParam },
      responses: { 200: reply(Restore, "The restore"), ...errors },
    }),
    async (c) => c.json(await getRestore(deps, c.req.valid("param").id), 200),
  );
  return app;
}
