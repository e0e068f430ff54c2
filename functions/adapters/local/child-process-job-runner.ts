// Local mode's JobRunner: each job is the task entry point, `node task-image/src/main.ts backup|restore
// <id>` (the program Fargate runs), as a child process of the local server.
//
// Children are spawned with `detached: true`, so each leads its own process group (as do the tools it
// runs). A terminal Ctrl-C sends SIGINT to the foreground process group: without this, every task would
// get it at the same moment as the server and abort on its own, racing the server's exit, which could
// come before the tasks had recorded anything. Detached, only the server gets it; it then calls
// `shutdown()`, which SIGTERMs each task, waits until each has recorded its job failed and exited, and
// only then lets the server exit. Children are not unref()'d: the server stays up while a job runs.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { localRunnerRef, taskCommand } from "#core/job-refs.ts";
import type { JobRef, JobRunner } from "#core/ports.ts";
import { createLogger, type Logger } from "#functions/logger.ts";

export interface JobExit {
  code: number | null;
  signal: string | null;
  /** The ref `start` returned for this process: the job may name another task's. */
  runnerRef: string;
}

export interface ChildProcessJobRunnerOptions {
  /** The task's whole environment (MBM_ADAPTERS=local, MBM_DATA_DIR, tool paths...); PATH is added if absent. */
  env: Record<string, string>;
  /** Default: this repository's task-image/src/main.ts. */
  entryPoint?: string;
  /** Default: the running Node (process.execPath). */
  nodePath?: string;
  log?: Logger;
  /** Called once when a job's process has exited (and its output is read). */
  onExit?: (job: JobRef, result: JobExit) => void;
}

interface Child {
  job: JobRef;
  process: ChildProcess;
  closed: Promise<void>;
}

const stderrTailChars = 4096;

export class ChildProcessJobRunner implements JobRunner {
  readonly #options: ChildProcessJobRunnerOptions;
  readonly #log: Logger;
  readonly #children = new Map<string, Child>();
  #shuttingDown = false;

  constructor(options: ChildProcessJobRunnerOptions) {
    this.#options = options;
    this.#log = options.log ?? createLogger("job-runner");
  }

  async start(job: JobRef): Promise<{ runnerRef: string }> {
    if (this.#shuttingDown) throw new Error("the job runner is shutting down");
    const entryPoint =
      this.#options.entryPoint ?? resolve(import.meta.dirname, "../../../task-image/src/main.ts");
    // MBM_RUNNER_REF cannot name a pid before the spawn; without it main.ts records
    // `local:${process.pid}`, which is the child's pid (node is spawned directly, no shell): our ref.
    const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...this.#options.env };
    delete env.MBM_RUNNER_REF;
    const child = spawn(this.#options.nodePath ?? process.execPath, [entryPoint, ...taskCommand(job)], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    if (child.pid === undefined) {
      const [error] = (await once(child, "error")) as [Error];
      throw new Error(`could not start the ${job.kind} task: ${error.message}`, { cause: error });
    }
    const runnerRef = localRunnerRef(child.pid);
    const log = this.#log.child({ job, runner_ref: runnerRef });
    child.on("error", (err) => log.error({ err }, "task process error"));
    // The task's stdout is its own JSON log lines: forwarded under this job at the task's level
    // (pino's numbers), so its warnings and announced events show in the server's output.
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let task: unknown;
      try {
        task = JSON.parse(line);
      } catch {
        log.debug({ line }, "task output");
        return;
      }
      const level = (task as { level?: unknown }).level;
      const msg = (task as { msg?: unknown }).msg;
      const text = typeof msg === "string" ? `task: ${msg}` : "task log";
      if (typeof level === "number" && level >= 50) log.error({ task }, text);
      else if (typeof level === "number" && level >= 40) log.warn({ task }, text);
      else if (typeof level === "number" && level >= 30) log.info({ task }, text);
      else log.debug({ task }, text);
    });
    let stderrTail = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-stderrTailChars);
    });
    const closed = new Promise<void>((done) => {
      child.once("close", (code, signal) => {
        this.#children.delete(runnerRef);
        const fields = { code, signal, ...(stderrTail ? { stderr: stderrTail } : {}) };
        if (code === 0) log.info(fields, "task exited");
        else log.warn(fields, "task exited without completing its job");
        try {
          this.#options.onExit?.(job, { code, signal, runnerRef });
        } catch (err) {
          log.error({ err }, "onExit handler failed");
        }
        done();
      });
    });
    this.#children.set(runnerRef, { job, process: child, closed });
    log.info("task started");
    return { runnerRef };
  }

  /** SIGTERM to the task, which stops its tool, aborts the upload and records the job failed. */
  async stop(runnerRef: string, reason: string): Promise<void> {
    const child = this.#children.get(runnerRef);
    if (!child || !alive(child.process)) return;
    this.#log.info({ job: child.job, runner_ref: runnerRef, reason }, "stopping task");
    child.process.kill("SIGTERM");
  }

  running(): JobRef[] {
    return [...this.#children.values()].map((c) => c.job);
  }

  /** Stops every task and waits for them; after `timeoutMs` the rest are killed (SIGKILL, whole group). */
  async shutdown(timeoutMs = 15_000): Promise<void> {
    this.#shuttingDown = true;
    const children = [...this.#children.values()];
    for (const c of children) if (alive(c.process)) c.process.kill("SIGTERM");
    const all = Promise.all(children.map((c) => c.closed));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
    for (const c of children) {
      if (!alive(c.process)) continue;
      // A killed task cannot record anything: its job stays `running` for the server to reconcile.
      this.#log.error({ job: c.job, timeout_ms: timeoutMs }, "task did not stop in time: killing it");
      try {
        process.kill(-c.process.pid!, "SIGKILL"); // the task and the tool it runs
      } catch {
        c.process.kill("SIGKILL");
      }
    }
    await all;
  }
}

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
