// Who runs this job, as the record should name it (core/job-refs.ts has the formats).
import { taskArnFromMetadata } from "#adapters/aws/ecs-job-runner.ts";
import { localRunnerRef } from "#core/job-refs.ts";
import type { EngineEnv } from "#functions/config.ts";
import type { Logger } from "#functions/logger.ts";

/**
 * MBM_RUNNER_REF when the launcher set it; on Fargate the task's ARN from the ECS metadata endpoint
 * (it exists only after RunTask returned, so it cannot be passed in); else this process, `local:<pid>`.
 * If the metadata endpoint fails, undefined: the record keeps the ARN RunTask gave the dispatcher,
 * which a cancel, the reaper and the task-state handler need; a made-up `local:` ref would hide the
 * task from them.
 */
export async function ownRunnerRef(
  config: Pick<EngineEnv, "MBM_RUNNER_REF" | "ECS_CONTAINER_METADATA_URI_V4">,
  log: Logger,
  options: { pid?: number; fetch?: typeof fetch } = {},
): Promise<string | undefined> {
  if (config.MBM_RUNNER_REF) return config.MBM_RUNNER_REF;
  const metadata = config.ECS_CONTAINER_METADATA_URI_V4;
  if (!metadata) return localRunnerRef(options.pid ?? process.pid);
  try {
    return await taskArnFromMetadata(metadata, options.fetch ?? fetch);
  } catch (err) {
    log.warn({ err }, "ECS task metadata unavailable: the job keeps the task ARN the dispatcher recorded");
    return undefined;
  }
}
