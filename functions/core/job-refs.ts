// The two formats that travel between the dispatcher, the task and whoever watches tasks end: the
// task's command line (what job it runs) and the runner reference (who runs it). Each is built and
// parsed here only, so a change to either cannot leave a reader behind.
import type { JobRef } from "./ports.ts";

export const jobKinds = [
  "backup",
  "import",
  "restore",
  "verify",
] as const satisfies readonly JobRef["kind"][];

/** The task's arguments: `<kind> <id>` (main.ts, the ECS container override, a child process). */
export function taskCommand(job: JobRef): [JobRef["kind"], string] {
  return [job.kind, job.id];
}

/** The job named by a task's arguments, or undefined when they are not exactly `<kind> <id>`. */
export function parseTaskCommand(argv: readonly (string | undefined)[]): JobRef | undefined {
  const [kind, id, ...rest] = argv;
  if (!kind || !id || rest.length > 0) return undefined;
  const known = jobKinds.find((k) => k === kind);
  return known ? { kind: known, id } : undefined;
}

/** Who runs a job: a process of local mode, or an ECS task. */
export type RunnerRef = { where: "local"; pid: number } | { where: "ecs"; taskArn: string };

const LOCAL_REF = /^local:(\d+)$/;
const TASK_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task\/\S+$/;

/** `local:<pid>`: a task process of local mode. */
export function localRunnerRef(pid: number): string {
  return `local:${pid}`;
}

/** What a recorded `runner_ref` names; undefined for none or an unknown form. */
export function parseRunnerRef(ref: string | null | undefined): RunnerRef | undefined {
  if (!ref) return undefined;
  const local = LOCAL_REF.exec(ref);
  if (local) {
    const pid = Number(local[1]);
    return Number.isSafeInteger(pid) && pid > 0 ? { where: "local", pid } : undefined;
  }
  return TASK_ARN.test(ref) ? { where: "ecs", taskArn: ref } : undefined;
}

/** True when `ref` is an ECS task ARN. */
export function isTaskArn(ref: string): boolean {
  return parseRunnerRef(ref)?.where === "ecs";
}
