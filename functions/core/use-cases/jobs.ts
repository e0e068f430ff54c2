// Handing a queued job to the runner. If the runner cannot start it, the job is recorded failed at
// once with the reason: a job must never sit queued for a runner that refused it.
import { nowIso } from "../ids.ts";
import type { JobRef, MetadataStore } from "../ports.ts";
import type { CoreDeps } from "./deps.ts";

/** Records a queued or running job as failed. ConflictError if it already ended. */
export async function failJob(store: MetadataStore, job: JobRef, reason: string): Promise<void> {
  const patch = { finished_at: nowIso(), error: reason.slice(0, 2000) };
  if (job.kind === "backup") await store.backups.transition(job.id, "failed", patch);
  else await store.restores.transition(job.id, "failed", patch);
}

export async function startJob(deps: Pick<CoreDeps, "store" | "runner">, job: JobRef): Promise<void> {
  if (!deps.runner) return; // no runner in this deployment (yet): the job waits, queued
  let runnerRef: string;
  try {
    ({ runnerRef } = await deps.runner.start(job));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await failJob(deps.store, job, `the job could not be started: ${message}`);
    return;
  }
  // Marks it handed over (the dispatcher counts it, and does not hand it over again). The task
  // records the same reference when it claims the job; a job already finished keeps its record.
  const jobs = job.kind === "backup" ? deps.store.backups : deps.store.restores;
  await jobs.update(job.id, { runner_ref: runnerRef }).catch(() => undefined);
}
