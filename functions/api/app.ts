// The HTTP API as one Hono app built from its dependencies: Lambda (handler.ts) and local mode
// (server.ts) build the same app with different adapters, and tests call `app.request(...)`.
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { ungroupedMessage } from "./auth.ts";
import { ErrorBody, errorHandler, errorResponse, validationHook } from "./errors.ts";
import { backupRoutes } from "./routes/backups.ts";
import type { ApiDeps, ApiEnv } from "./routes/common.ts";
import { databaseRoutes } from "./routes/databases.ts";
import { drillRoutes } from "./routes/drills.ts";
import { restoreRoutes } from "./routes/restores.ts";
import { retentionRoutes } from "./routes/retention.ts";
import { scheduleRoutes } from "./routes/schedules.ts";
import { serverRoutes } from "./routes/servers.ts";
import { systemRoutes } from "./routes/system.ts";

export type { ApiDeps } from "./routes/common.ts";

/** No request the API understands comes near this; a bigger body is refused before it is read. */
export const maxBodyBytes = 256 * 1024;

const readMethods = new Set(["GET", "HEAD"]);

export function createApp(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  app.onError(errorHandler(deps.log));
  app.notFound((c) => {
    // A known path asked with a method it does not take: 405 with the methods it does (RFC 9110).
    const allowed = allowedMethods(app.routes, c.req.path);
    if (allowed.length > 0) {
      c.header("Allow", allowed.join(", "));
      return errorResponse(
        c,
        405,
        `${c.req.method} is not allowed on ${c.req.path}; use ${allowed.join(", ")}`,
        {
          allow: allowed,
        },
      );
    }
    return errorResponse(c, 404, `no route for ${c.req.method} ${c.req.path}`);
  });

  // Authentication on every /api route (the OpenAPI document included); viewers only read.
  app.use(
    "/api/*",
    createMiddleware<ApiEnv>(async (c, next) => {
      const actor = deps.authenticate(c);
      if (!actor) {
        c.header("WWW-Authenticate", 'Bearer realm="mongo-backup-manager"');
        return errorResponse(c, 401, "sign in first: send Authorization: Bearer <token>");
      }
      if (actor.role === null) return errorResponse(c, 403, ungroupedMessage(actor.id));
      if (!readMethods.has(c.req.method) && actor.role !== "operator") {
        return errorResponse(
          c,
          403,
          `${actor.id} may read but not change anything (operators group required)`,
        );
      }
      c.set("actor", { id: actor.id, role: actor.role });
      await next();
    }),
  );
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) => errorResponse(c, 413, `the body is larger than ${maxBodyBytes} bytes`),
    }),
  );

  app.route("/api/servers", serverRoutes(deps));
  app.route("/api/databases", databaseRoutes(deps));
  app.route("/api/backups", backupRoutes(deps));
  app.route("/api/schedules", scheduleRoutes(deps));
  app.route("/api/restore", restoreRoutes(deps));
  app.route("/api/drills", drillRoutes(deps));
  app.route("/api/retention", retentionRoutes(deps));
  app.route("/api", systemRoutes(deps));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "A Cognito access token on AWS; the local token in local mode",
  });
  // No operation can list a method the path lacks, so the 405 reply is described once, here.
  app.openAPIRegistry.registerComponent("responses", "MethodNotAllowed", {
    description:
      "A method the path does not take (any path of this document): the `Allow` header lists those it does",
    headers: {
      Allow: {
        description: "The methods this path takes, e.g. `GET, HEAD, POST`",
        schema: { type: "string" },
      },
    },
    content: { "application/json": { schema: errorBodySchema as never } },
  });
  let document: unknown;
  app.get("/api/openapi.json", (c) => {
    // OpenAPI 3.1: its schemas are JSON Schema 2020-12, which can state the validators' rules
    // (propertyNames, dependentRequired, if/then, null as a type) where 3.0's dialect cannot.
    document ??= app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "MongoDB backup manager API",
        version: "1",
        description:
          "Servers, discovered databases, backups, schedules and restores. Lists take `limit` (1-100) and `cursor` " +
          "(the previous page's `next_cursor`) and answer `{ items, next_cursor }`, newest first. Errors answer " +
          "`{ error: { code, message, details } }`. A method a path does not take answers 405 with an `Allow` header " +
          "(components.responses.MethodNotAllowed); an unknown path 404. An unknown query parameter is a 422 on " +
          "operations that take query parameters.",
      },
      security: [{ bearer: [] }],
    });
    return c.json(document);
  });
  return app;
}

export type App = ReturnType<typeof createApp>;

const { $schema: _, ...errorBodySchema } = z.toJSONSchema(ErrorBody, { target: "draft-2020-12" });

/** The methods the app's routes take on this path (HEAD wherever GET is: Hono answers it from GET). */
function allowedMethods(routes: ReadonlyArray<{ method: string; path: string }>, path: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    if (route.method === "ALL" || !route.path.startsWith("/api/")) continue;
    // Route paths are letters, digits, `-`, `.`, `/` and `:param`s.
    const pattern = new RegExp(`^${route.path.replaceAll(".", "\\.").replace(/:\w+/g, "[^/]+")}$`);
    if (pattern.test(path)) methods.add(route.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}
