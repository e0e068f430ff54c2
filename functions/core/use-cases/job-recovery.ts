// Jobs whose task ended without a word, and jobs left behind by a runner that stopped: what the
// task-state function does on AWS, local mode does here when a task process exits and when it starts.
import type { JobStatus } from "../entities.ts";
import { errorMessage } from "../errors.ts";
import type { JobRef, PageRequest } from "../ports.ts";
import { type CoreDeps, listAll } from "./deps.ts";
import { dispatch } from "./dispatch.ts";
import { failAndAnnounce, jobsOf, recordKinds, startJob, taskEnded } from "./jobs.ts";

/** How a task process ended, as its runner saw it. */
export interface TaskExit {
  code: number | null;
  signal: string | null;
  /** The ref the runner gave this task: the job may name another (a twin start) and is then left alone. */
  runnerRef: string;
}

/**
 * A task process ended: if it died without recording its job's end, the job is failed and announced;
 * then the next queued backup may start. Only the task the record names can fail it: two dispatches
 * racing may start a second task for one job, which finds it claimed and exits 2, and must not fail
 * the job its twin is running.
 */
export async function taskExited(deps: CoreDeps, job: JobRef, exit: TaskExit): Promise<void> {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  await taskEnded(deps, job, `the task ${how} before recording the job's end`, exit.runnerRef);
  await dispatch(deps);
}

export interface RecoveryResult {
  /** Jobs left running by a task that no longer exists, now recorded failed. */
  failed: JobRef[];
  /** Queued jobs whose task died before claiming them, handed over again. */
  restarted: JobRef[];
  errors: string[];
}

/**
 * On a runner's start: a job left `running` by a task that no longer runs (the server was killed, or
 * a task was) is recorded failed. A queued job handed to a task that died before claiming it is
 * handed over again. A task still alive (local tasks outlive a killed server: they run in their own
 * process group) is left to finish and record itself. Then queued restores start, and the dispatcher
 * starts queued backups within its limits. `alive` says whether a recorded runner_ref still runs.
 */
export async function recoverJobs(
  deps: CoreDeps,
  alive: (runnerRef: string | null) => boolean,
): Promise<RecoveryResult> {
  const result: RecoveryResult = { failed: [], restarted: [], errors: [] };
  type Job = { id: string; runner_ref: string | null; trigger?: string };
  for (const recordKind of recordKinds) {
    const jobs = jobsOf(deps.store, recordKind);
    const list = (f: { status: JobStatus }, p: PageRequest) => jobs.list(f, p);
    // A backup record is run by the import program when it is an import.
    const kindOf = (job: Job) =>
      recordKind === "backup" && job.trigger === "import" ? "import" : recordKind;
    for (const job of await listAll<Job, { status: JobStatus }>(list, { status: "running" })) {
      if (alive(job.runner_ref)) continue;
      const kind = kindOf(job);
      try {
        // If it finished meanwhile, that outcome stands (false).
        const failed = await failAndAnnounce(
          deps,
          { kind, id: job.id },
          "local mode stopped before the job finished",
        );
        if (failed) result.failed.push({ kind, id: job.id });
      } catch (error) {
        result.errors.push(`could not record ${kind} ${job.id} failed: ${errorMessage(error, 300)}`);
      }
    }
    const queued = await listAll<Job, { status: JobStatus }>(list, { status: "queued" });
    for (const job of queued.reverse()) {
      if (alive(job.runner_ref)) continue;
      const kind = kindOf(job);
      if (job.runner_ref) {
        await jobs.update(job.id, { runner_ref: null });
        result.restarted.push({ kind, id: job.id });
      }
      // Restores are not rationed: someone is waiting for each one.
      if (kind === "restore") await startJob(deps, { kind, id: job.id });
    }
  }
  await dispatch(deps);
  return result;
}
