// JobRunner on ECS: each job is one Fargate task of the task image, started with RunTask and the
// command `backup|import|restore|verify <id>`. Only the job's kind and id travel (argv, tags, startedBy): the
// task's configuration is the task definition's environment, secrets are read by the task itself.
import {
  ConflictException,
  DescribeTasksCommand,
  type ECSClient,
  RunTaskCommand,
  type RunTaskCommandOutput,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { isTaskArn, taskCommand } from "#core/job-refs.ts";
import type { JobRef, JobRunner } from "#core/ports.ts";

export interface EcsJobRunnerOptions {
  client: ECSClient;
  /** Name or ARN. */
  cluster: string;
  /** Family, family:revision or ARN. */
  taskDefinition: string;
  /** The task definition's container that runs task-image/src/main.ts. */
  containerName: string;
  subnets: string[];
  securityGroups: string[];
  /** True in public subnets without a NAT gateway (the task must reach ECR, S3, MongoDB...). */
  assignPublicIp: boolean;
  /** Default: launch type FARGATE. A provider must be associated with the cluster. */
  capacityProvider?: "FARGATE" | "FARGATE_SPOT";
  /** Added to the task's own tags (job_kind, job_id). */
  tags?: Record<string, string>;
}

/** Ids go into argv, tags (value ≤ 256) and the client token (≤ 64 ASCII 33-126 with the kind). */
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,55}$/;
/** StopTask's `reason` limit. */
const REASON_MAX = 255;

const describe = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

export class EcsJobRunner implements JobRunner {
  readonly #o: EcsJobRunnerOptions;

  constructor(options: EcsJobRunnerOptions) {
    if (options.subnets.length === 0) throw new Error("ECS job runner: at least one subnet is needed");
    this.#o = options;
  }

  async start(job: JobRef): Promise<{ runnerRef: string }> {
    if (!JOB_ID.test(job.id))
      throw new Error(`ECS job runner: invalid ${job.kind} id ${JSON.stringify(job.id)}`);
    const o = this.#o;
    const what = `the ${job.kind} task of job ${job.id} (cluster ${o.cluster}, task definition ${o.taskDefinition})`;
    let res: RunTaskCommandOutput;
    try {
      res = await o.client.send(
        new RunTaskCommand({
          cluster: o.cluster,
          taskDefinition: o.taskDefinition,
          count: 1,
          ...(o.capacityProvider
            ? { capacityProviderStrategy: [{ capacityProvider: o.capacityProvider, weight: 1 }] }
            : { launchType: "FARGATE" }),
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: o.subnets,
              securityGroups: o.securityGroups,
              assignPublicIp: o.assignPublicIp ? "ENABLED" : "DISABLED",
            },
          },
          overrides: { containerOverrides: [{ name: o.containerName, command: taskCommand(job) }] },
          startedBy: `mbm-${job.kind}`,
          tags: Object.entries({ ...o.tags, job_kind: job.kind, job_id: job.id }).map(([key, value]) => ({
            key,
            value,
          })),
          // The stack's tags on the task definition (cost allocation) reach the task too.
          propagateTags: "TASK_DEFINITION",
          enableExecuteCommand: false,
          // Idempotent per cluster for 24 hours: a retried start (SDK retry after a timeout, or the
          // dispatcher's) returns the first call's task instead of running a second one.
          clientToken: `${job.kind}-${job.id}`,
        }),
      );
    } catch (error) {
      // The same token with other parameters (the options changed between two attempts): the job
      // already has its task.
      const existing = error instanceof ConflictException ? error.resourceIds?.[0] : undefined;
      if (existing) return { runnerRef: existing };
      throw new Error(`ECS RunTask of ${what} failed: ${describe(error)}`, { cause: error });
    }
    // Placement failures (RESOURCE:MEMORY, MISSING...) come in the answer, not as an error.
    const failure = res.failures?.[0];
    if (failure) {
      const detail = failure.detail ? ` (${failure.detail})` : "";
      throw new Error(`ECS could not start ${what}: ${failure.reason ?? "no reason given"}${detail}`);
    }
    const taskArn = res.tasks?.[0]?.taskArn;
    if (!taskArn) throw new Error(`ECS could not start ${what}: RunTask returned no task`);
    return { runnerRef: taskArn };
  }

  /** SIGTERM to the task's containers, then SIGKILL after the task definition's stopTimeout. */
  async stop(runnerRef: string, reason: string): Promise<void> {
    // Not a task ARN (e.g. a `local:` ref): no ECS task to stop.
    if (!isTaskArn(runnerRef)) return;
    try {
      await this.#o.client.send(
        new StopTaskCommand({
          cluster: this.#o.cluster,
          task: runnerRef,
          reason: Array.from(reason).slice(0, REASON_MAX).join(""),
        }),
      );
    } catch (error) {
      // ECS answers an error for a task it no longer knows (stopped tasks are kept about an hour):
      // if the task is gone or stopped there is nothing to do.
      if (await this.#stoppedOrUnknown(runnerRef)) return;
      throw new Error(`ECS StopTask of ${runnerRef} failed: ${describe(error)}`, { cause: error });
    }
  }

  async #stoppedOrUnknown(taskArn: string): Promise<boolean> {
    try {
      const res = await this.#o.client.send(
        new DescribeTasksCommand({ cluster: this.#o.cluster, tasks: [taskArn] }),
      );
      const task = res.tasks?.find((t) => t.taskArn === taskArn);
      return !task || task.lastStatus === "STOPPED";
    } catch {
      return false;
    }
  }
}

/**
 * The ARN of the ECS task this process runs in, for the task to record as its `runner_ref` (a
 * Fargate container cannot get it otherwise: RunTask returns it only after the command is fixed).
 * Read from the task metadata endpoint v4 (Fargate platform 1.4+, no credentials needed).
 * `base` is ECS_CONTAINER_METADATA_URI_V4 (config.ts); rejects if the endpoint fails.
 */
export async function taskArnFromMetadata(
  base: string,
  fetchFn: typeof fetch = fetch,
  timeoutMs = 5000,
): Promise<string> {
  const res = await fetchFn(`${base.replace(/\/+$/, "")}/task`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`ECS task metadata endpoint answered HTTP ${res.status}`);
  const body = (await res.json()) as { TaskARN?: unknown };
  if (typeof body?.TaskARN !== "string" || !isTaskArn(body.TaskARN)) {
    throw new Error("ECS task metadata has no valid TaskARN");
  }
  return body.TaskARN;
}
