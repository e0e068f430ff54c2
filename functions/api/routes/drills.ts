// /api/drills: restore drills (one is asked for with POST /api/backups/{id}/verify), their list,
// one drill, and cancel.
import { createRoute } from "@hono/zod-openapi";
import { Drill } from "#core/entities.ts";
import { cancelDrill, getDrill, listDrills } from "#core/use-cases/drills.ts";
import { DrillListQuery } from "../queries.ts";
import { type ApiDeps, errors, IdParam, pageOf, pageRequest, reply, router } from "./common.ts";

const tag = ["drills"];

export function drillRoutes(deps: ApiDeps) {
  const app = router();
  app.openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: tag,
      summary: "List restore drills, newest first (by backup, by status)",
      request: { query: DrillListQuery },
      responses: { 200: reply(pageOf(Drill), "Drills"), ...errors },
    }),
    async (c) => {
      const { limit, cursor, ...filter } = c.req.valid("query");
      return c.json(await listDrills(deps, filter, pageRequest({ limit, cursor })), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: tag,
      summary: "Get a restore drill, with its proof once it ended",
      request: { params: IdParam },
      responses: { 200: reply(Drill, "The drill"), ...errors },
    }),
    async (c) => c.json(await getDrill(deps, c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/{id}/cancel",
      tags: tag,
      summary: "Cancel a queued or running drill (its task stops and removes its throwaway target)",
      request: { params: IdParam },
      responses: { 200: reply(Drill, "The cancelled drill"), ...errors },
    }),
    async (c) => c.json(await cancelDrill(deps, c.get("actor"), c.req.valid("param").id), 200),
  );
  return app;
}
