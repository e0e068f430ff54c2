// /api/servers: connection entries. Passwords go in and never come out (`has_password` says one is held).
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { Server } from "#core/entities.ts";
import { CreateServerInput, ProbeInput, UpdateServerInput } from "#core/inputs.ts";
import { listServers } from "#core/use-cases/lists.ts";
import {
  createServer,
  deleteServer,
  getServer,
  listServerDatabases,
  probeDatabases,
  testServer,
  updateServer,
} from "#core/use-cases/servers.ts";
import { ErrorBody } from "../errors.ts";
import { DeleteServerQuery, PageQuery } from "../queries.ts";
import { perCallerRateLimit } from "../rate-limit.ts";
import {
  type ApiDeps,
  errors,
  IdParam,
  jsonBody,
  pageOf,
  pageRequest,
  reply,
  router,
  unreachable,
} from "./common.ts";

/** Probes connect wherever the body says: 10 per caller per minute (README, Security). */
const PROBE_RATE_LIMIT = { limit: 10, windowMs: 60_000 };

const Discovered = z.object({
  items: z.array(z.object({ name: z.string(), size_on_disk: z.number().nullable() })),
});
const TestReply = z.object({
  ok: z.boolean(),
  kind: z.enum(["authentication", "unreachable", "tls", "timeout", "refused", "other"]).nullable(),
  message: z.string().nullable(),
  server: Server,
});

const tag = ["servers"];

export function serverRoutes(deps: ApiDeps) {
  const app = router();
  app.openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: tag,
      summary: "List servers",
      request: { query: PageQuery },
      responses: { 200: reply(pageOf(Server), "Servers, newest first"), ...errors },
    }),
    async (c) => c.json(await listServers(deps, pageRequest(c.req.valid("query"))), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: tag,
      summary: "Add a server (host/port or a connection_string; its password moves to the secret store)",
      request: { body: jsonBody(CreateServerInput) },
      responses: { 201: reply(Server, "The server, without its password"), ...errors },
    }),
    async (c) => c.json(await createServer(deps, c.get("actor"), c.req.valid("json")), 201),
  );
  // Before validation, so that malformed probes count too.
  app.use("/probe-databases", perCallerRateLimit(PROBE_RATE_LIMIT));
  app.openapi(
    createRoute({
      method: "post",
      path: "/probe-databases",
      tags: tag,
      summary: "List the databases reachable with ad-hoc connection details (nothing is stored)",
      request: { body: jsonBody(ProbeInput) },
      responses: {
        200: reply(Discovered, "Databases found"),
        ...unreachable,
        ...errors,
        429: reply(
          ErrorBody,
          "More than 10 probes in a minute by this caller: `Retry-After` says when to retry",
        ),
      },
    }),
    async (c) => c.json({ items: await probeDatabases(deps, c.req.valid("json")) }, 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: tag,
      summary: "Get a server",
      request: { params: IdParam },
      responses: { 200: reply(Server, "The server"), ...errors },
    }),
    async (c) => c.json(await getServer(deps, c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "put",
      path: "/{id}",
      tags: tag,
      summary: "Update a server: fields present change; `password: null` removes the password",
      request: { params: IdParam, body: jsonBody(UpdateServerInput) },
      responses: { 200: reply(Server, "The updated server"), ...errors },
    }),
    async (c) =>
      c.json(await updateServer(deps, c.get("actor"), c.req.valid("param").id, c.req.valid("json")), 200),
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags: tag,
      summary:
        "Delete a server with its managed databases, secret and schedules; its backups are kept unless delete_backups=true",
      request: { params: IdParam, query: DeleteServerQuery },
      responses: {
        200: reply(z.object({ deleted: z.string(), deleted_backups: z.number() }), "Deleted"),
        ...errors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { delete_backups } = c.req.valid("query");
      const result = await deleteServer(deps, c.get("actor"), id, { deleteBackups: delete_backups });
      return c.json({ deleted: id, ...result }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/{id}/test",
      tags: tag,
      summary: "Test the connection; the verdict is kept as the server's last_test",
      request: { params: IdParam },
      responses: { 200: reply(TestReply, "The verdict (ok, or which kind of failure)"), ...errors },
    }),
    async (c) => {
      const { server, result } = await testServer(deps, c.get("actor"), c.req.valid("param").id);
      return c.json(
        result.ok
          ? { ok: true, kind: null, message: null, server }
          : { ok: false, kind: result.kind, message: result.message, server },
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/{id}/databases",
      tags: tag,
      summary: "List the databases on a server right now (read live; sync stores them)",
      request: { params: IdParam },
      responses: { 200: reply(Discovered, "Databases found"), ...unreachable, ...errors },
    }),
    async (c) => c.json({ items: await listServerDatabases(deps, c.req.valid("param").id) }, 200),
  );
  return app;
}
