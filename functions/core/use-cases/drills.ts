// Restore drills: a job that restores one completed backup into a throwaway target (a server the
// task starts itself, or a registered sandbox server's scratch database), proves what it restored
// (document counts, indexes, validate), cleans up, and records the proof on the backup. This module
// asks for drills (by request, after a scheduled backup); drill-outcome.ts records their end.
import type { Backup, Drill, DrillTarget, Schedule, Settings } from "../entities.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { newId, nowIso } from "../ids.ts";
import type { DrillFilter, Page, PageRequest } from "../ports.ts";
import { activeDrillOf } from "./backups.ts";
import { type Actor, audited, type CoreDeps, requireOperator } from "./deps.ts";
import { dispatch } from "./dispatch.ts";
import { checkDrillTarget, drillTargetLabel, scratchDatabaseName } from "./drill-targets.ts";
import { currentSettings } from "./settings.ts";

export async function getDrill(deps: Pick<CoreDeps, "store">, id: string): Promise<Drill> {
  const drill = await deps.store.drills.get(id);
  if (!drill) throw new NotFoundError("drill", id);
  return drill;
}

export async function listDrills(
  deps: Pick<CoreDeps, "store">,
  filter: DrillFilter,
  page: PageRequest,
): Promise<Page<Drill>> {
  return await deps.store.drills.list(filter, page);
}

/** Queues a drill of a completed backup (no API check: the caller decided); the dispatcher starts it. */
export async function queueDrill(
  deps: Pick<CoreDeps, "store">,
  backup: Backup,
  target: DrillTarget,
  trigger: Drill["trigger"],
  createdBy: string,
): Promise<Drill> {
  return await deps.store.drills.create({
    id: newId(),
    backup_id: backup.id,
    server_id: backup.server_id,
    database: backup.database,
    target,
    scratch_database: target.kind === "sandbox" ? scratchDatabaseName(backup.id) : null,
    trigger,
    status: "queued",
    created_by: createdBy,
    created_at: nowIso(),
    started_at: null,
    finished_at: null,
    duration_ms: null,
    progress: null,
    result: null,
    error: null,
    runner_ref: null,
  });
}

/** POST /api/backups/{id}/verify: 202 with the queued drill; 409 unless completed, or while one runs. */
export async function requestDrill(
  deps: CoreDeps,
  actor: Actor,
  backupId: string,
  input: { target?: DrillTarget | undefined },
): Promise<Drill> {
  requireOperator(actor);
  const backup = await deps.store.backups.get(backupId);
  if (!backup) throw new NotFoundError("backup", backupId);
  const settings = await currentSettings(deps);
  const target = input.target ?? settings.drills.target;
  if (input.target) await checkDrillTarget(deps, input.target, "target");
  const drill = await audited(
    deps,
    actor,
    {
      action: "backup.verify",
      target_type: "drill",
      details: { backup_id: backup.id, target: drillTargetLabel(target) },
    },
    async () => {
      if (backup.status !== "completed") {
        throw new ConflictError(
          `backup ${backup.id} is ${backup.status}: only a completed backup can be drilled`,
        );
      }
      const running = await activeDrillOf(deps, backup.id);
      if (running)
        throw new ConflictError(
          `a drill of backup ${backup.id} is already ${running.status} (drill ${running.id})`,
        );
      if (!input.target) await checkDrillTarget(deps, target, "settings.drills.target");
      return await queueDrill(deps, backup, target, "manual", actor.id);
    },
    (d) => d.id,
  );
  await dispatch(deps);
  return (await deps.store.drills.get(drill.id)) ?? drill;
}

/**
 * Whether a schedule's completed backup gets a drill: `verify_every` 1 drills each, N every Nth
 * (counted per database on its record, `scheduled_since_drill`), 0 none.
 */
export async function drillAfterScheduledBackup(
  deps: Pick<CoreDeps, "store">,
  backup: Backup,
  schedule: Pick<Schedule, "verify_every" | "drill_target">,
  settings: Pick<Settings, "drills">,
): Promise<Drill | undefined> {
  if (backup.status !== "completed" || schedule.verify_every === 0) return undefined;
  const { items } = await deps.store.databases.list(
    { server_id: backup.server_id, name: backup.database },
    { limit: 1 },
  );
  const database = items[0];
  let due = schedule.verify_every === 1;
  if (database && !due) {
    const since = (database.scheduled_since_drill ?? 0) + 1;
    due = since >= schedule.verify_every;
    await deps.store.databases.update(database.id, { scheduled_since_drill: due ? 0 : since });
  }
  if (!due) return undefined;
  if (await activeDrillOf(deps, backup.id)) return undefined;
  return await queueDrill(
    deps,
    backup,
    schedule.drill_target ?? settings.drills.target,
    "schedule",
    "scheduler",
  );
}

/** Cancels a queued or running drill; a running one's task is asked to stop (it cleans up its target). */
export async function cancelDrill(deps: CoreDeps, actor: Actor, id: string): Promise<Drill> {
  await getDrill(deps, id);
  return await audited(
    deps,
    actor,
    { action: "drill.cancel", target_type: "drill", target_id: id },
    async () => {
      // The conditional transition decides: of a cancel and the task finishing, one wins. A cancelled
      // drill proves nothing, so the backup's verification is left as it was.
      const cancelled = await deps.store.drills.transition(id, "cancelled", {
        finished_at: nowIso(),
        error: `cancelled by ${actor.id}`,
      });
      if (cancelled.runner_ref && deps.runner) {
        await deps.runner.stop(cancelled.runner_ref, `cancelled by ${actor.id}`);
      }
      return cancelled;
    },
  );
}
