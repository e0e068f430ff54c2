// The backup/restore state machine: queued -> running -> completed | failed, and cancelled from
// queued or running. Stores apply a transition as one conditional write on the current status, so
// of two writers racing from the same state exactly one wins.
import type { JobStatus } from "./entities.ts";
import { ConflictError } from "./errors.ts";

const allowedFrom: Record<JobStatus, readonly JobStatus[]> = {
  queued: [],
  running: ["queued"],
  completed: ["running"],
  failed: ["queued", "running"],
  cancelled: ["queued", "running"],
};

/** The statuses a job may be in for a move to `to` to be legal. */
export function statusesAllowedBefore(to: JobStatus): readonly JobStatus[] {
  return allowedFrom[to];
}

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return allowedFrom[to].includes(from);
}

export function isTerminal(status: JobStatus): boolean {
  return status === "completed" || status === "failed" || status === "cancelled";
}

/** The statuses of a job that is waiting for or held by a task: the complement of the terminal ones. */
export const activeStatuses = ["queued", "running"] as const satisfies readonly JobStatus[];

export function isActive(status: JobStatus): status is (typeof activeStatuses)[number] {
  return !isTerminal(status);
}

export function assertTransition(entity: string, id: string, from: JobStatus, to: JobStatus): void {
  if (!canTransition(from, to)) {
    throw new ConflictError(`${entity} ${id} is ${from}; it cannot become ${to}`);
  }
}
