// A job's life outside the task: handing it to a runner, and ending it when its task cannot (the
// task could not start, died, or went silent). Whoever moves a job to its end announces it.
import type { Backup, Drill, JobStatus, Restore } from "../entities.ts";
import { ConflictError, errorMessage } from "../errors.ts";
import { backupEvent, restoreEvent } from "../events.ts";
import { nowIso } from "../ids.ts";
import type { JobRef, JobStore, MetadataStore } from "../ports.ts";
import { isTerminal } from "../state-machine.ts";
import { announce } from "./alerts.ts";
import { type CoreDeps, listAll } from "./deps.ts";
import { failedProof, recordDrillOutcome } from "./drill-outcome.ts";
import { noteBackupEnded } from "./last-backup.ts";
import { currentSettings } from "./settings.ts";

type Job = Backup | Restore | Drill;

/** The record kinds a task may run; an import fills a backup record. */
export const recordKinds = ["backup", "restore", "verify"] as const;

/**
 * The store of a job kind's records, seen through what every job has (status, runner_ref,
 * progress), so the lifecycle below treats the kinds alike.
 */
export function jobsOf(store: MetadataStore, kind: JobRef["kind"]): JobStore<Job, { status?: JobStatus }> {
  const jobs = kind === "restore" ? store.restores : kind === "verify" ? store.drills : store.backups;
  return jobs as unknown as JobStore<Job, { status?: JobStatus }>;
}

/** Records a queued or running job as failed. ConflictError if it already ended. */
async function failJob(store: MetadataStore, job: JobRef, reason: string): Promise<Job> {
  const patch = { finished_at: nowIso(), error: errorMessage(reason, 2000) };
  if (job.kind === "verify") {
    const drill = await store.drills.get(job.id);
    const result = drill ? failedProof(drill, patch.error) : null;
    return await store.drills.transition(job.id, "failed", { ...patch, result });
  }
  return job.kind === "restore"
    ? await store.restores.transition(job.id, "failed", patch)
    : await store.backups.transition(job.id, "failed", patch);
}

/** Fails the job and announces it; false (and nothing done) when it had already ended. */
export async function failAndAnnounce(
  deps: Pick<CoreDeps, "store" | "alerts">,
  job: JobRef,
  reason: string,
): Promise<boolean> {
  let failed: Job;
  try {
    failed = await failJob(deps.store, job, reason);
  } catch (error) {
    if (error instanceof ConflictError) return false; // it ended meanwhile: that outcome stands
    throw error;
  }
  if (job.kind === "verify") {
    await recordDrillOutcome(deps, failed as Drill);
    return true;
  }
  if (job.kind === "backup" || job.kind === "import") {
    // Best effort: the backup's record already says failed; the summary follows it.
    await noteBackupEnded(deps.store, failed as Backup).catch(() => undefined);
  }
  await announce(
    deps,
    job.kind === "restore" ? restoreEvent(failed as Restore) : backupEvent(failed as Backup),
  );
  return true;
}

/** The task kind that runs a backup record: an imported one is filled by the import program. */
export function backupJob(backup: Pick<Backup, "id" | "trigger">): JobRef {
  return { kind: backup.trigger === "import" ? "import" : "backup", id: backup.id };
}

export async function startJob(
  deps: Pick<CoreDeps, "store" | "runner" | "alerts">,
  job: JobRef,
): Promise<void> {
  if (!deps.runner) return; // no runner in this deployment: the job waits, queued
  let runnerRef: string;
  try {
    ({ runnerRef } = await deps.runner.start(job));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await failAndAnnounce(deps, job, `the job could not be started: ${message}`);
    return;
  }
  // Marks it handed over (the dispatcher counts it, and does not hand it over again), with a first
  // heartbeat: a task that never comes up is then reaped like one that went silent. The task
  // records the same reference when it claims the job. Only while still queued: a job its task
  // already claimed keeps what the task wrote.
  const jobs = jobsOf(deps.store, job.kind);
  const current = await jobs.get(job.id).catch(() => undefined);
  if (current?.status !== "queued") return;
  await jobs
    .update(job.id, { runner_ref: runnerRef, progress: { bytes: 0, at: nowIso() } })
    .catch(() => undefined);
}

/**
 * A job's task has ended (ECS says the task STOPPED; a local task process exited). If the record
 * still says queued or running, the task died without recording an outcome: it is failed with
 * `reason` and announced. A task that is not the one the record names (`runnerRef` differs: the
 * job was handed to another task since) changes nothing. Returns whether the job was failed here.
 */
export async function taskEnded(
  deps: Pick<CoreDeps, "store" | "alerts">,
  job: JobRef,
  reason: string,
  runnerRef?: string,
): Promise<boolean> {
  const record = await jobsOf(deps.store, job.kind).get(job.id);
  if (!record || isTerminal(record.status)) return false;
  if (runnerRef && record.runner_ref && record.runner_ref !== runnerRef) return false;
  return await failAndAnnounce(deps, job, reason);
}

/** When the job last showed life: its latest heartbeat, else when it started, else was created. */
function lastSign(job: Job): number {
  return Date.parse(job.progress?.at ?? job.started_at ?? job.created_at);
}

/**
 * The reaper: running jobs, and queued ones already handed to a task, whose record had no heartbeat
 * for longer than the settings' heartbeat_timeout_minutes are failed and announced, and their task
 * is asked to stop (it may be hung rather than gone). A live task writes its progress every few
 * seconds, so the timeout only has to cover a task's start (a Fargate image pull) and a slow store.
 */
export async function reapSilentJobs(
  deps: Pick<CoreDeps, "store" | "alerts" | "runner">,
  now = new Date(),
): Promise<JobRef[]> {
  const { heartbeat_timeout_minutes: minutes } = await currentSettings(deps);
  const limit = now.getTime() - minutes * 60_000;
  const reaped: JobRef[] = [];
  for (const recordKind of recordKinds) {
    const jobs = jobsOf(deps.store, recordKind);
    const list = (f: { status: "queued" | "running" }, p: { limit: number; cursor?: string | undefined }) =>
      jobs.list(f, p);
    const [running, queued] = await Promise.all([
      listAll(list, { status: "running" }),
      listAll(list, { status: "queued" }),
    ]);
    for (const job of [...running, ...queued.filter((j) => j.runner_ref)]) {
      if (lastSign(job) >= limit) continue;
      const kind = recordKind === "backup" ? backupJob(job as Backup).kind : recordKind;
      const last = new Date(lastSign(job)).toISOString();
      const reason = `no heartbeat for more than ${minutes} minutes (last sign of life at ${last}): the task is presumed lost`;
      if (!(await failAndAnnounce(deps, { kind, id: job.id }, reason))) continue;
      reaped.push({ kind, id: job.id });
      if (job.runner_ref && deps.runner) {
        await deps.runner.stop(job.runner_ref, "no heartbeat: presumed lost").catch(() => undefined);
      }
    }
  }
  return reaped;
}
