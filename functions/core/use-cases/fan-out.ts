// A schedule firing: one queued backup per database in its scope, then the dispatcher. Idempotent:
// each backup's id is derived from (schedule, database, scheduled time), so the same firing delivered
// twice (EventBridge retries, a ticker restarting) finds its backups already there and adds none.
import type { Backup } from "../entities.ts";
import { ConflictError, errorMessage } from "../errors.ts";
import { deterministicId, nowIso } from "../ids.ts";
import { draftBackup } from "./backups.ts";
import { fanOutScope } from "./databases.ts";
import type { CoreDeps } from "./deps.ts";
import { dispatch } from "./dispatch.ts";

export interface FanOutResult {
  schedule_id: string;
  scheduled_at: string;
  created: Backup[];
  /** Already created by an earlier delivery of the same firing. */
  existing: string[];
  skipped: string | null;
}

export async function fanOutSchedule(
  deps: CoreDeps,
  scheduleId: string,
  scheduledAt: Date,
): Promise<FanOutResult> {
  const result: FanOutResult = {
    schedule_id: scheduleId,
    scheduled_at: scheduledAt.toISOString(),
    created: [],
    existing: [],
    skipped: null,
  };
  const schedule = await deps.store.schedules.get(scheduleId);
  if (!schedule) {
    // Its timer fired after the schedule was deleted (in between, or left behind by a failed
    // delete): nothing to back up, and a retry cannot help. The orphan timer goes, so it stops.
    await deps.scheduler?.remove(scheduleId);
    return { ...result, skipped: "unknown schedule" };
  }
  if (!schedule.enabled) return { ...result, skipped: "the schedule is disabled" };
  // Minute precision: deliveries of one firing may carry times a few seconds apart.
  const minute = new Date(Math.floor(scheduledAt.getTime() / 60_000) * 60_000);
  let error: string | null = null;
  try {
    for (const database of await fanOutScope(deps, schedule)) {
      const draft = draftBackup(
        {
          database,
          trigger: "schedule",
          schedule_id: schedule.id,
          created_by: `schedule:${schedule.name}`.slice(0, 256),
          retention_days: schedule.retention_days,
        },
        minute,
      );
      const id = deterministicId(minute, `${schedule.id}/${database.id}`);
      try {
        result.created.push(await deps.store.backups.create({ ...draft, id }));
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
        result.existing.push(id);
      }
    }
  } catch (e) {
    error = errorMessage(e);
    throw e;
  } finally {
    await deps.store.schedules
      .update(schedule.id, {
        last_run: { at: nowIso(), backups_created: result.created.length, error },
      })
      .catch(() => undefined); // the summary is informative; the backups are what matter
  }
  await dispatch(deps);
  return result;
}
