// The retention run and its preview. core/retention.ts decides (pure); this lists what it needs,
// then either shows the plan (preview) or carries it out (run), one backup at a time: each is checked
// again right before it goes, its archive is deleted before its record, and a backup that cannot go
// now is skipped and left for the next day's run. `now` is an input throughout, so tests simulate time.
import type { Backup, Schedule } from "../entities.ts";
import { errorMessage } from "../errors.ts";
import { newId, nowIso } from "../ids.ts";
import { planRetention, type RetentionDecision, type RetentionInput } from "../retention.ts";
import { activeStatuses, isTerminal } from "../state-machine.ts";
import { SYSTEM_ACTOR } from "./alerts.ts";
import { activeDrillOf, activeRestoreOf } from "./backups.ts";
import { type CoreDeps, listAll } from "./deps.ts";
import { currentSettings } from "./settings.ts";

/** The preview lists at most this many backups it would delete, and as many expired ones it keeps (the counts cover all). */
export const PREVIEW_MAX_ITEMS = 1000;

/** Everything the plan needs, read from the store: all backups, active restores and drills, keep_last. */
async function retentionInput(deps: Pick<CoreDeps, "store">, now: Date): Promise<RetentionInput> {
  const [backups, activeRestoreBackupIds, activeDrillBackupIds, settings, schedules] = await Promise.all([
    listAll((f, p) => deps.store.backups.list(f, p), {}),
    activeRestoreReads(deps),
    activeDrillReads(deps),
    currentSettings(deps),
    listAll((f, p) => deps.store.schedules.list(f, p), {}),
  ]);
  return {
    backups,
    activeRestoreBackupIds,
    activeDrillBackupIds,
    keepLast: keepLastOf(settings.keep_last, schedules),
    now,
  };
}

/**
 * keep_last of a server/database pair: the largest of the settings' and of every schedule whose scope
 * covers the pair, enabled or not. The most protective wins because keep_last counts all completed
 * backups of a pair, whoever made them: a schedule that promises "my newest 7 are always kept" would
 * see that promise broken by a smaller default or by another schedule's smaller value, and a deleted
 * backup cannot come back while one kept too many costs only storage. Disabled schedules count too:
 * pausing a schedule stops new backups, which makes its newest ones exactly those worth keeping.
 */
function keepLastOf(settingsKeepLast: number, schedules: readonly Schedule[]): RetentionInput["keepLast"] {
  return (serverId, database) => {
    let n = settingsKeepLast;
    for (const schedule of schedules) {
      if (covers(schedule, serverId, database)) n = Math.max(n, schedule.keep_last);
    }
    return n;
  };
}

/** A schedule's scope as fan-out reads it: no server = every server; server and no database = all of its. */
function covers(schedule: Schedule, serverId: string, database: string): boolean {
  if (!schedule.server_id) return true;
  if (schedule.server_id !== serverId) return false;
  return !schedule.database || schedule.database === database;
}

async function activeRestoreReads(deps: Pick<CoreDeps, "store">): Promise<Set<string>> {
  const lists = await Promise.all(
    activeStatuses.map((status) => listAll((f, p) => deps.store.restores.list(f, p), { status })),
  );
  return new Set(lists.flat().map((r) => r.backup_id));
}

async function activeDrillReads(deps: Pick<CoreDeps, "store">): Promise<Set<string>> {
  const lists = await Promise.all(
    activeStatuses.map((status) => listAll((f, p) => deps.store.drills.list(f, p), { status })),
  );
  return new Set(lists.flat().map((d) => d.backup_id));
}

export interface RetentionPreviewItem {
  backup_id: string;
  server_id: string;
  database: string;
  status: Backup["status"];
  created_at: string;
  expires_at: string | null;
  size_bytes: number | null;
  reason: string;
}

export interface RetentionPreview {
  now: string;
  /** What a run at `now` would delete, in the order it would, at most PREVIEW_MAX_ITEMS of them. */
  delete: RetentionPreviewItem[];
  /** All of them, listed or not. */
  delete_count: number;
  delete_bytes: number;
  keep_count: number;
  /**
   * Expired backups the run keeps nonetheless, and why (keep_last, the newest verified, a restore or a
   * drill reading it), at most PREVIEW_MAX_ITEMS of them: what an operator would otherwise wonder about.
   */
  kept_expired: RetentionPreviewItem[];
  kept_expired_count: number;
  /** Whether `delete` or `kept_expired` was cut short (the counts cover all). */
  truncated: boolean;
}

/** What `runRetention(deps, now)` would delete and why, without deleting anything. */
export async function previewRetention(
  deps: Pick<CoreDeps, "store">,
  now = new Date(),
  maxItems = PREVIEW_MAX_ITEMS,
): Promise<RetentionPreview> {
  const plan = planRetention(await retentionInput(deps, now));
  const item = ({ backup, reason }: RetentionDecision): RetentionPreviewItem => ({
    backup_id: backup.id,
    server_id: backup.server_id,
    database: backup.database,
    status: backup.status,
    created_at: backup.created_at,
    expires_at: backup.expires_at,
    size_bytes: backup.size_bytes,
    reason,
  });
  const keptExpired = plan.keep.filter(
    ({ backup }) =>
      isTerminal(backup.status) &&
      backup.expires_at !== null &&
      Date.parse(backup.expires_at) <= now.getTime(),
  );
  return {
    now: now.toISOString(),
    delete: plan.delete.slice(0, maxItems).map(item),
    delete_count: plan.delete.length,
    delete_bytes: plan.delete.reduce((sum, { backup }) => sum + (backup.size_bytes ?? 0), 0),
    keep_count: plan.keep.length,
    kept_expired: keptExpired.slice(0, maxItems).map(item),
    kept_expired_count: keptExpired.length,
    truncated: plan.delete.length > maxItems || keptExpired.length > maxItems,
  };
}

export interface RetentionRun {
  now: string;
  /** Ids of the backups deleted (archive and record), in the order they went. */
  deleted: string[];
  deleted_bytes: number;
  /** Planned but not deleted this time, with why; the next run plans them afresh. */
  skipped: Array<{ backup_id: string; reason: string }>;
  /** Deleted, but their audit entry could not be written. */
  audit_failures: Array<{ backup_id: string; error: string }>;
  /**
   * What went wrong rather than what was rightly refused (an archive or record that could not be
   * deleted, a failed read, a missing audit entry): an operator must look at these.
   */
  errors: string[];
  keep_count: number;
}

/**
 * Deletes what the plan at `now` says may go. A failure on one backup is recorded in `skipped` and the
 * run goes on; it never throws for one backup, only when the plan itself cannot be made.
 */
export async function runRetention(
  deps: Pick<CoreDeps, "store" | "blobs">,
  now = new Date(),
): Promise<RetentionRun> {
  const plan = planRetention(await retentionInput(deps, now));
  const run: RetentionRun = {
    now: now.toISOString(),
    deleted: [],
    deleted_bytes: 0,
    skipped: [],
    audit_failures: [],
    errors: [],
    keep_count: plan.keep.length,
  };
  for (const { backup, reason } of plan.delete) {
    const refusal = await expire(deps, backup).catch((error: unknown) => ({
      reason: messageOf(error),
      failed: true,
    }));
    if (refusal !== undefined) {
      run.skipped.push({ backup_id: backup.id, reason: refusal.reason });
      if (refusal.failed) run.errors.push(`backup ${backup.id}: ${refusal.reason}`);
      continue;
    }
    run.deleted.push(backup.id);
    run.deleted_bytes += backup.size_bytes ?? 0;
    // Written directly: `audited()` is for operators' changes, and this one is the system's.
    await deps.store.audit
      .create({
        id: newId(),
        at: nowIso(),
        actor: SYSTEM_ACTOR,
        action: "backup.expire",
        target_type: "backup",
        target_id: backup.id,
        outcome: "success",
        details: { reason, server_id: backup.server_id, database: backup.database },
      })
      .catch((error: unknown) => {
        run.audit_failures.push({ backup_id: backup.id, error: messageOf(error) });
        run.errors.push(`backup ${backup.id} expired without its audit entry: ${messageOf(error)}`);
      });
  }
  return run;
}

/**
 * Deletes one planned backup, archive first, unless it changed since the plan was made. Returns why
 * it did not (undefined when it did), and whether that was a failure rather than a rightful refusal.
 * Only the record is left when the archive cannot be deleted: a record without its archive would
 * promise a restore it cannot keep.
 */
async function expire(
  deps: Pick<CoreDeps, "store" | "blobs">,
  planned: Backup,
): Promise<{ reason: string; failed: boolean } | undefined> {
  const refuse = (reason: string) => ({ reason, failed: false });
  const current = await deps.store.backups.get(planned.id);
  if (!current) return refuse("the record is already gone");
  if (current.status !== planned.status) return refuse(`now ${current.status}, planned as ${planned.status}`);
  if (current.expires_at !== planned.expires_at) return refuse(`its expiry changed to ${current.expires_at}`);
  // A drill that ended since the plan may have made it the newest verified of its pair.
  if (current.verification?.drill_id !== planned.verification?.drill_id) {
    return refuse(`a restore drill (${current.verification?.drill_id}) ended on it since the plan`);
  }
  const restore = await activeRestoreOf(deps, planned.id);
  if (restore) return refuse(`restore ${restore.id} (${restore.status}) reads it now`);
  const drill = await activeDrillOf(deps, planned.id);
  if (drill) return refuse(`restore drill ${drill.id} (${drill.status}) reads it now`);
  if (current.blob_key) {
    try {
      await deps.blobs.delete(current.blob_key);
    } catch (error) {
      return {
        reason: `the archive could not be deleted, so the record stays: ${messageOf(error)}`,
        failed: true,
      };
    }
  }
  try {
    await deps.store.backups.delete(planned.id);
  } catch (error) {
    return {
      reason: `the archive is deleted but the record could not be: ${messageOf(error)}`,
      failed: true,
    };
  }
  return undefined;
}

function messageOf(error: unknown): string {
  return errorMessage(error);
}
