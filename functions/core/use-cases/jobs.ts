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
  if (!deps.runner) return; // nothing runs jobs here yet: it waits, queued, for a dispatcher
  try {
    await deps.runner.start(job);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await failJob(deps.store, job, `the job could not be started: ${message}`);
  }
}
