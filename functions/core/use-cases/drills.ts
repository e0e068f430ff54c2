// Restore drills: a job that restores one completed backup into a throwaway target (a server the
// task starts itself, or a registered sandbox server's scratch database), proves what it restored
// (document counts, indexes, validate), cleans up, and records the proof on the backup. This module
// asks for drills (by request, after a scheduled backup); drill-outcome.ts records their end.
import type { Backup, Drill, DrillTarget, Schedule, Settings } from "../entities.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { newId, nowIso } from "../ids.ts";
import type { DrillFilter, Page, PageRequest } from "../ports.ts";
import { activeStatuses } from "../state-machine.ts";
import { type Actor, audited, type CoreDeps, requireOperator } from "./deps.ts";
import { dispatch } from "./dispatch.ts";
import { drillTargetLabel, scratchDatabaseName } from "./drill-outcome.ts";
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

/** The drill of `backupId` that is queued or running, if any. */
async function activeDrillOf(deps: Pick<CoreDeps, "store">, backupId: string): Promise<Drill | undefined> {
  for (const status of activeStatuses) {
    const { items } = await deps.store.drills.list({ backup_id: backupId, status }, { limit: 1 });
    if (items[0]) return items[0];
  }
  return undefined;
}

/**
 * A sandbox target must be a server marked `sandbox: true`: a drill creates and drops a database
 * there, so no server is one by default, the backup's own source included.
 */
async function checkTarget(deps: Pick<CoreDeps, "store">, target: DrillTarget, field: string): Promise<void> {
  if (target.kind !== "sandbox") return;
  const server = await deps.store.servers.get(target.server_id);
  if (!server) throw new ValidationError(`${field}.server_id`, `server ${target.server_id} does not exist`);
  if (!server.sandbox) {
    throw new ValidationError(
      `${field}.server_id`,
      `server ${server.name} is not marked as a sandbox (a drill creates and drops a scratch database there)`,
    );
  }
}

/** Checks a target named by a schedule or the settings before it is saved. */
export async function checkDrillTarget(
  deps: Pick<CoreDeps, "store">,
  target: DrillTarget | null | undefined,
  field: string,
): Promise<void> {
  if (target) await checkTarget(deps, target, field);
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
  if (input.target) await checkTarget(deps, input.target, "target");
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
      if (!input.target) await checkTarget(deps, target, "settings.drills.target");
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
