// Lambda: ECS "Task State Change" events for the cluster's tasks (an EventBridge rule sends those of
// our task definition). A task that STOPPED while its job's record still says queued or running died
// without recording an outcome (out of memory, image pull failure, host stopped, killed): the job is
// failed with ECS's reason and exit code, and announced. Then the next queued backups may start.
import { z } from "zod";
import { parseTaskCommand } from "#core/job-refs.ts";
import type { JobRef } from "#core/ports.ts";
import type { CoreDeps } from "#core/use-cases/deps.ts";
import { dispatch } from "#core/use-cases/dispatch.ts";
import { taskEnded } from "#core/use-cases/jobs.ts";
import { awsDepsOnce } from "#functions/composition.ts";
import { createLogger, type Logger } from "#functions/logger.ts";

/** The fields we read; ECS sends many more (passed through, ignored). */
const EcsTaskStateChange = z.object({
  "detail-type": z.literal("ECS Task State Change"),
  source: z.literal("aws.ecs"),
  detail: z.object({
    taskArn: z.string().min(1),
    lastStatus: z.string(),
    stoppedReason: z.string().optional(),
    stopCode: z.string().optional(),
    startedBy: z.string().optional(),
    containers: z
      .array(
        z.object({
          name: z.string(),
          exitCode: z.number().int().optional(),
          reason: z.string().optional(),
          lastStatus: z.string().optional(),
        }),
      )
      .default([]),
    overrides: z
      .object({
        containerOverrides: z
          .array(z.object({ name: z.string(), command: z.array(z.string()).optional() }))
          .default([]),
      })
      .optional(),
  }),
});
type EcsTaskStateChange = z.infer<typeof EcsTaskStateChange>;

/** The job a task ran: the runner starts each with the command `backup|restore <id>`. */
function jobOfTask(detail: EcsTaskStateChange["detail"]): { job: JobRef; container: string } | undefined {
  for (const o of detail.overrides?.containerOverrides ?? []) {
    const job = parseTaskCommand(o.command ?? []);
    if (job) return { job, container: o.name };
  }
  return undefined;
}

/** ECS's words for why the task stopped, with the job container's exit code. */
function stopReason(detail: EcsTaskStateChange["detail"], container: string): string {
  const parts = [`the task stopped: ${detail.stoppedReason ?? detail.stopCode ?? "ECS gave no reason"}`];
  const c = detail.containers.find((x) => x.name === container);
  if (c?.exitCode !== undefined) parts.push(`exit code ${c.exitCode}`);
  else parts.push("no exit code (the container never ran or was killed)");
  if (c?.reason) parts.push(c.reason);
  return parts.join("; ");
}

export function taskStateHandler(deps: () => CoreDeps, log: Logger) {
  return async (event: unknown): Promise<{ job: JobRef | null; failed: boolean }> => {
    const parsed = EcsTaskStateChange.safeParse(event);
    if (!parsed.success) {
      log.warn({ issues: parsed.error.issues.slice(0, 5) }, "not an ECS task state change: ignored");
      return { job: null, failed: false };
    }
    const { detail } = parsed.data;
    const found = jobOfTask(detail);
    if (detail.lastStatus !== "STOPPED" || !found) return { job: found?.job ?? null, failed: false };
    const d = deps();
    const reason = stopReason(detail, found.container);
    const failed = await taskEnded(d, found.job, reason, detail.taskArn);
    if (failed)
      log.warn({ job: found.job, task: detail.taskArn, reason }, "task stopped before its job ended");
    // A slot is free either way (the task ended): the next queued backups may start.
    await dispatch(d);
    return { job: found.job, failed };
  };
}

const log = createLogger("task-state");
export const handler = taskStateHandler(awsDepsOnce(log), log);
