// The task's entry point, the same program on Fargate and in local mode:
//   node task-image/src/main.ts backup <backupId>
//   node task-image/src/main.ts restore <restoreId>
// Configuration comes from the environment (functions/config.ts); only ids travel in argv.
// Exit codes: 0 the job completed, 1 it failed (and is recorded so), 2 it could not be claimed or
// the invocation was wrong (nothing recorded).
import { taskArnFromMetadata } from "#adapters/aws/ecs-job-runner.ts";
import { buildAdapters, parseEnv } from "#functions/config.ts";
import { createLogger, type Logger } from "#functions/logger.ts";
import { buildAlerts } from "#functions/wiring.ts";
import { runBackup } from "./backup.ts";
import type { EngineDeps } from "./engine.ts";
import { runRestore } from "./restore.ts";

const log = createLogger("task");

async function main(argv: string[]): Promise<number> {
  const [command, id, ...rest] = argv;
  if ((command !== "backup" && command !== "restore") || !id || rest.length > 0) {
    log.error({ argv }, "usage: main.ts backup|restore <id>");
    return 2;
  }
  const config = parseEnv();
  const deps: EngineDeps = {
    ...buildAdapters(config),
    tools: { mongodump: config.MBM_MONGODUMP, mongorestore: config.MBM_MONGORESTORE },
    log,
    serverSelectionTimeoutSeconds: config.MBM_SERVER_SELECTION_TIMEOUT_S,
    progressIntervalMs: config.MBM_PROGRESS_INTERVAL_MS,
    mongoAllowlist: config.MBM_MONGODB_ALLOWLIST,
    alerts: buildAlerts(config, log.child({ component: "events" })),
    runnerRef: process.env.MBM_RUNNER_REF ?? (await ownRunnerRef(log)),
  };

  // ECS sends SIGTERM before stopping a task (and local mode on cancel): abort the stream, which
  // stops the tool, aborts the upload and records the job as failed.
  const controller = new AbortController();
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.once(sig, () => controller.abort(new Error(`task stopped by ${sig} before the job finished`)));
  }

  const result =
    command === "backup"
      ? await runBackup(deps, id, controller.signal)
      : await runRestore(deps, id, controller.signal);
  return result.status === "completed" ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log.error({ err: error }, "job could not be run");
    process.exitCode = 2;
  },
);

/**
 * Who runs this job, as the record should name it. On Fargate the task's ARN comes from the ECS
 * metadata endpoint (it exists only after RunTask returned, so it cannot be passed in). If that
 * endpoint fails, undefined: the record keeps the ARN RunTask gave the dispatcher, which a cancel,
 * the reaper and the task-state handler need; a made-up `local:` ref would hide the task from them.
 */
async function ownRunnerRef(log: Logger): Promise<string | undefined> {
  if (!process.env.ECS_CONTAINER_METADATA_URI_V4) return `local:${process.pid}`;
  try {
    return await taskArnFromMetadata(process.env, fetch);
  } catch (err) {
    log.warn({ err }, "ECS task metadata unavailable: the job keeps the task ARN the dispatcher recorded");
    return undefined;
  }
}
