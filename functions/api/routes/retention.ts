// /api/retention: what the daily retention run would delete now, and why (it deletes nothing).
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { Id, IsoTime, JobStatus } from "#core/entities.ts";
import { PREVIEW_MAX_ITEMS, previewRetention } from "#core/use-cases/retention.ts";
import { type ApiDeps, errors, reply, router } from "./common.ts";

const PreviewItem = z.object({
  backup_id: Id,
  server_id: Id,
  database: z.string(),
  status: JobStatus,
  created_at: IsoTime,
  expires_at: IsoTime.nullable(),
  size_bytes: z.number().int().nonnegative().nullable(),
  reason: z.string(),
});

const PreviewReply = z.object({
  now: IsoTime,
  delete: z.array(PreviewItem).max(PREVIEW_MAX_ITEMS),
  delete_count: z.number().int().nonnegative(),
  delete_bytes: z.number().int().nonnegative(),
  keep_count: z.number().int().nonnegative(),
  kept_expired: z.array(PreviewItem).max(PREVIEW_MAX_ITEMS).meta({
    description:
      "Expired backups the run keeps nonetheless, each with why (keep_last, the newest verified, a restore or drill reading it)",
  }),
  kept_expired_count: z.number().int().nonnegative(),
  truncated: z
    .boolean()
    .meta({ description: "Whether `delete` or `kept_expired` was cut short (the counts cover all)" }),
});

export function retentionRoutes(deps: ApiDeps) {
  const app = router();
  app.openapi(
    createRoute({
      method: "get",
      path: "/preview",
      tags: ["retention"],
      summary: `What a retention run now would delete, with each reason (the first ${PREVIEW_MAX_ITEMS}; counts cover all)`,
      responses: { 200: reply(PreviewReply, "The backups a run would delete"), ...errors },
    }),
    async (c) => c.json(await previewRetention(deps), 200),
  );
  return app;
}
