// The retention decision: which backups a retention run deletes and why each of the others stays.
// Pure (no I/O, no clock: `now` is an input), so the daily handler only lists, plans and deletes.
//
// The seed's pruning script could delete every backup of a database. Here a backup is deleted only
// when all of these hold, and every backup comes back in exactly one list with a reason:
// - its status is terminal (completed, failed, cancelled): a queued or running job is never touched;
// - no restore and no restore drill in progress reads it;
// - it has an `expires_at` and that time is at or before `now`;
// - it is not one of the newest `keep_last` completed backups of its server/database pair (newest by
//   finished_at, then created_at, then id). Failed and cancelled backups never count toward keep_last
//   and are never protected by it: they go when they expire.
import type { Backup } from "./entities.ts";
import { isTerminal } from "./state-machine.ts";

const DAY_MS = 86_400_000;

export interface RetentionInput {
  backups: readonly Backup[];
  /** Ids of the backups that a queued or running restore reads. */
  activeRestoreBackupIds: ReadonlySet<string>;
  /** Ids of the backups that a queued or running restore drill reads. */
  activeDrillBackupIds: ReadonlySet<string>;
  /**
   * How many completed backups of a server/database pair are always kept. Below 1 counts as 1 (a pair
   * never loses its newest completed backup); a value that is not a number keeps all of them.
   */
  keepLast: (serverId: string, database: string) => number;
  now: Date;
}

export interface RetentionDecision {
  backup: Backup;
  reason: string;
}

/** Every input backup is in exactly one of the two lists, in input order. */
export interface RetentionPlan {
  delete: RetentionDecision[];
  keep: RetentionDecision[];
}

/** The `expires_at` of a backup created at `createdAt` that is kept `retentionDays` days of 24 hours. */
export function expiresAt(createdAt: Date, retentionDays: number): string {
  if (Number.isNaN(createdAt.getTime())) throw new RangeError("createdAt is not a valid date");
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new RangeError(`retentionDays must be a whole number of at least 1, got ${retentionDays}`);
  }
  return new Date(createdAt.getTime() + retentionDays * DAY_MS).toISOString();
}

export function planRetention(input: RetentionInput): RetentionPlan {
  const now = input.now.getTime();
  if (Number.isNaN(now)) throw new RangeError("now is not a valid date");

  const protectedIds = newestCompletedPerPair(input.backups, input.keepLast);
  const plan: RetentionPlan = { delete: [], keep: [] };
  for (const backup of input.backups) {
    const keepReason = reasonToKeep(backup, input, protectedIds, now);
    if (keepReason === undefined) {
      plan.delete.push({ backup, reason: reasonToDelete(backup, protectedIds) });
    } else {
      plan.keep.push({ backup, reason: keepReason });
    }
  }
  return plan;
}

interface Protection {
  /** Ids of the completed backups that keep_last protects, with the keep_last of their pair. */
  byId: Map<string, number>;
  /** keep_last of each pair that has backups, keyed by `pairKey`. */
  keepLastByPair: Map<string, number>;
  /** Id of each pair's newest completed backup that passed a drill. */
  newestVerified: Set<string>;
}

/** Whether a backup is proven restorable: completed, and its latest drill passed. */
export function passedDrill(backup: Backup): boolean {
  return backup.status === "completed" && backup.verification?.status === "passed";
}

function newestCompletedPerPair(
  backups: readonly Backup[],
  keepLast: RetentionInput["keepLast"],
): Protection {
  const completedByPair = new Map<string, Backup[]>();
  const keepLastByPair = new Map<string, number>();
  for (const backup of backups) {
    const key = pairKey(backup);
    if (!keepLastByPair.has(key))
      keepLastByPair.set(key, normalizeKeepLast(keepLast(backup.server_id, backup.database)));
    if (backup.status !== "completed") continue;
    const list = completedByPair.get(key);
    if (list) list.push(backup);
    else completedByPair.set(key, [backup]);
  }
  const byId = new Map<string, number>();
  const newestVerified = new Set<string>();
  for (const [key, completed] of completedByPair) {
    const n = keepLastByPair.get(key)!;
    completed.sort(newestBackupFirst);
    for (const backup of completed.slice(0, n)) byId.set(backup.id, n);
    const verified = completed.find(passedDrill);
    if (verified) newestVerified.add(verified.id);
  }
  return { byId, keepLastByPair, newestVerified };
}

function reasonToKeep(
  backup: Backup,
  input: Pick<RetentionInput, "activeRestoreBackupIds" | "activeDrillBackupIds">,
  protectedIds: Protection,
  now: number,
): string | undefined {
  if (!isTerminal(backup.status)) return `kept: still ${backup.status}`;
  if (input.activeRestoreBackupIds.has(backup.id)) return "kept: a restore in progress reads it";
  if (input.activeDrillBackupIds.has(backup.id)) return "kept: a restore drill in progress reads it";
  const n = protectedIds.byId.get(backup.id);
  if (n !== undefined) return `kept: one of the newest ${describeN(n)} completed of ${describePair(backup)}`;
  if (protectedIds.newestVerified.has(backup.id)) {
    return `kept: newest verified of ${describePair(backup)} (restore drill passed ${backup.verification?.at})`;
  }
  if (backup.expires_at === null) return "kept: no expiry set";
  const expires = Date.parse(backup.expires_at);
  if (Number.isNaN(expires))
    return `kept: expires_at ${JSON.stringify(backup.expires_at)} is not a valid time`;
  if (expires > now) return `kept: not expired until ${backup.expires_at}`;
  return undefined;
}

function reasonToDelete(backup: Backup, protectedIds: Protection): string {
  const expired = `expired ${backup.expires_at}`;
  if (backup.status !== "completed") {
    return `${expired}, ${backup.status} (failed and cancelled backups do not count toward keep_last)`;
  }
  const n = protectedIds.keepLastByPair.get(pairKey(backup))!;
  return `${expired}, beyond the newest ${describeN(n)} completed of ${describePair(backup)}`;
}

/**
 * Newest first: finished_at (created_at when missing), then created_at, then id, all descending. The
 * one order in which "newest" backups are counted (retention, and the dashboard's drill figures).
 */
export function newestBackupFirst(a: Backup, b: Backup): number {
  return (
    compareDesc(timeOf(a.finished_at ?? a.created_at), timeOf(b.finished_at ?? b.created_at)) ||
    compareDesc(timeOf(a.created_at), timeOf(b.created_at)) ||
    (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
  );
}

function compareDesc(a: number, b: number): number {
  return a === b ? 0 : a < b ? 1 : -1;
}

/** Milliseconds since the epoch; an unreadable time sorts as the oldest. */
function timeOf(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

function normalizeKeepLast(n: number): number {
  if (Number.isNaN(n)) return Number.POSITIVE_INFINITY;
  return Math.max(1, Math.floor(n));
}

function pairKey(backup: Backup): string {
  return JSON.stringify([backup.server_id, backup.database]);
}

function describePair(backup: Backup): string {
  return `${backup.database} on server ${backup.server_id}`;
}

function describeN(n: number): string {
  return Number.isFinite(n) ? String(n) : "all";
}
