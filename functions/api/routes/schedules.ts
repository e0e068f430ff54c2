// /api/schedules: cron schedules with their next five runs.
import { createRoute } from "@hono/zod-openapi";
import { CreateScheduleInput, UpdateScheduleInput } from "#core/inputs.ts";
import { listSchedules } from "#core/use-cases/lists.ts";
import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  toggleSchedule,
  updateSchedule,
} from "#core/use-cases/schedules.ts";
import { ScheduleView, withNextRuns } from "#core/views.ts";
import { ScheduleListQuery } from "../queries.ts";
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

const tag = ["schedules"];

export function scheduleRoutes(deps: ApiDeps) {
  const app = router();
  app.openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: tag,
      summary: "List schedules",
      request: { query: ScheduleListQuery },
      responses: {
        200: reply(pageOf(ScheduleView), "Schedules, newest first, with their next runs"),
        ...errors,
      },
    }),
    async (c) => {
      const { enabled, ...page } = c.req.valid("query");
      return c.json(await listSchedules(deps, { enabled }, pageRequest(page)), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: tag,
      summary: "Create a schedule (5-field cron, IANA timezone; scope as for POST /api/backups)",
      request: { body: jsonBody(CreateScheduleInput) },
      responses: { 201: reply(ScheduleView, "The schedule and its next 5 runs"), ...errors },
    }),
    async (c) => c.json(await createSchedule(deps, c.get("actor"), c.req.valid("json")), 201),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: tag,
      summary: "Get a schedule",
      request: { params: IdParam },
      responses: { 200: reply(ScheduleView, "The schedule and its next 5 runs"), ...errors },
    }),
    async (c) => c.json(withNextRuns(await getSchedule(deps, c.req.valid("param").id)), 200),
  );
  app.openapi(
    createRoute({
      method: "put",
      path: "/{id}",
      tags: tag,
      summary: "Update a schedule (fields present change)",
      request: { params: IdParam, body: jsonBody(UpdateScheduleInput) },
      responses: { 200: reply(ScheduleView, "The schedule and its next 5 runs"), ...errors },
    }),
    async (c) =>
      c.json(await updateSchedule(deps, c.get("actor"), c.req.valid("param").id, c.req.valid("json")), 200),
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags: tag,
      summary: "Delete a schedule (its backups stay)",
      request: { params: IdParam },
      responses: { 200: reply(Deleted, "Deleted"), ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      await deleteSchedule(deps, c.get("actor"), id);
      return c.json({ deleted: id }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/{id}/toggle",
      tags: tag,
      summary: "Enable a disabled schedule or disable an enabled one",
      request: { params: IdParam },
      responses: { 200: reply(ScheduleView, "The schedule"), ...errors },
    }),
    async (c) => c.json(await toggleSchedule(deps, c.get("actor"), c.req.valid("param").id), 200),
  );
  return app;
}
