// /api/health, /api/stats, /api/settings, /api/audit.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { AuditEntry, Settings } from "#core/entities.ts";
import { UpdateSettingsInput } from "#core/inputs.ts";
import { testWebhook } from "#core/use-cases/alerts.ts";
import { listAudit } from "#core/use-cases/lists.ts";
import { settingsFor, updateSettings } from "#core/use-cases/settings.ts";
import { health, stats } from "#core/use-cases/system.ts";
import { Stats } from "#core/views.ts";
import { AuditListQuery } from "../queries.ts";
import { type ApiDeps, errors, jsonBody, pageOf, pageRequest, reply, router } from "./common.ts";

const Check = z.object({ ok: z.boolean(), detail: z.string() });
const HealthReply = z.object({ ok: z.boolean(), checks: z.record(z.string(), Check) });
const WebhookTestReply = z.object({
  delivered: z.boolean(),
  attempts: z.number().int(),
  error: z.string().nullable(),
});
const MeReply = z.object({ id: z.string(), role: z.enum(["operator", "viewer"]) });

export function systemRoutes(deps: ApiDeps) {
  const app = router();
  app.openapi(
    createRoute({
      method: "get",
      path: "/health",
      tags: ["system"],
      summary: "Health: metadata store reachable, tools found, scheduler and runner state",
      responses: { 200: reply(HealthReply, "Healthy"), 503: reply(HealthReply, "A check failed"), ...errors },
    }),
    async (c) => {
      const result = await health(deps, deps.healthProbes ?? {});
      return result.ok ? c.json(result, 200) : c.json(result, 503);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/me",
      tags: ["system"],
      summary: "Who is signed in and whether they may change things (operator) or only read (viewer)",
      responses: { 200: reply(MeReply, "The caller"), ...errors },
    }),
    (c) => c.json(c.get("actor"), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/stats",
      tags: ["system"],
      summary:
        "Dashboard figures: counts by status, bytes stored, success rates, next runs, restore drills (proven share, recovery times)",
      responses: { 200: reply(Stats, "Statistics"), ...errors },
    }),
    async (c) => c.json(await stats(deps), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/settings",
      tags: ["system"],
      summary:
        "Defaults: retention_days, keep_last, concurrency, heartbeat_timeout_minutes, webhook_url (viewers see only its origin)",
      responses: { 200: reply(Settings, "Settings"), ...errors },
    }),
    async (c) => c.json(await settingsFor(deps, c.get("actor")), 200),
  );
  app.openapi(
    createRoute({
      method: "put",
      path: "/settings",
      tags: ["system"],
      summary: "Update settings (fields present change)",
      request: { body: jsonBody(UpdateSettingsInput) },
      responses: { 200: reply(Settings, "Settings"), ...errors },
    }),
    async (c) => c.json(await updateSettings(deps, c.get("actor"), c.req.valid("json")), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/settings/webhook/test",
      tags: ["system"],
      summary: "Send a test notification to the webhook_url (retried like real ones); 409 when none is set",
      responses: { 200: reply(WebhookTestReply, "What happened to the delivery"), ...errors },
    }),
    async (c) => c.json(await testWebhook(deps, c.get("actor")), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/audit",
      tags: ["system"],
      summary: "The audit log: every change made through the API, newest first",
      request: { query: AuditListQuery },
      responses: { 200: reply(pageOf(AuditEntry), "Audit entries"), ...errors },
    }),
    async (c) => {
      const { limit, cursor, ...filter } = c.req.valid("query");
      return c.json(await listAudit(deps, filter, pageRequest({ limit, cursor })), 200);
    },
  );
  return app;
}
