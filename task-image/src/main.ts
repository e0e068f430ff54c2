// The task's entry point, the same program on Fargate and in local mode:
//   node task-image/src/main.ts backup <backupId>
//   node task-image/src/main.ts restore <restoreId>
//   node task-image/src/main.ts import <backupId>     (a backup record filled from a dump under imports/)
//   node task-image/src/main.ts verify <drillId>      (a restore drill of one backup)
// Configuration comes from the environment (functions/config.ts); only ids travel in argv.
// Exit codes: 0 the job completed, 1 it failed (and is recorded so), 2 it could not be claimed or
// the invocation was wrong (nothing recorded).
import { parseTaskCommand } from "#core/job-refs.ts";
import { composeEngine } from "#functions/composition.ts";
import { parseEnv } from "#functions/config.ts";
import { createLogger } from "#functions/logger.ts";
import { runBackup } from "./backup.ts";
import { runDrill } from "./drill.ts";
import type { EngineDeps } from "./engine.ts";
import { runImport } from "./import.ts";
import { ownRunnerRef } from "./own-runner-ref.ts";
import { runRestore } from "./restore.ts";

const log = createLogger("task");

async function main(argv: string[]): Promise<number> {
  const job = parseTaskCommand(argv);
  if (!job) {
    log.error({ argv }, "usage: main.ts backup|restore|import|verify <id>");
    return 2;
  }
  const config = parseEnv();
  const deps: EngineDeps = {
    ...composeEngine(config, log),
    tools: { mongodump: config.MBM_MONGODUMP, mongorestore: config.MBM_MONGORESTORE },
    log,
    serverSelectionTimeoutSeconds: config.MBM_SERVER_SELECTION_TIMEOUT_S,
    progressIntervalMs: config.MBM_PROGRESS_INTERVAL_MS,
    mongoAllowlist: config.MBM_MONGODB_ALLOWLIST,
    runnerRef: await ownRunnerRef(config, log),
    drillServer: {
      binary: config.MBM_DRILL_SERVER,
      args: config.MBM_DRILL_SERVER_ARGS,
      startTimeoutMs: config.MBM_DRILL_SERVER_START_TIMEOUT_S * 1000,
    },
  };

  // ECS sends SIGTERM before stopping a task (and local mode on cancel): abort the stream, which
  // stops the tool, aborts the upload and records the job as failed.
  const controller = new AbortController();
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.once(sig, () => controller.abort(new Error(`task stopped by ${sig} before the job finished`)));
  }

  const run = { backup: runBackup, restore: runRestore, import: runImport, verify: runDrill }[job.kind];
  const result = await run(deps, job.id, controller.signal);
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
