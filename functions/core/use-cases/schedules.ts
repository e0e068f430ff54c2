// Schedules: validated (5-field cron, IANA timezone, an existing scope), stored, and mirrored to
// the scheduler port, which fires them (issue 4). Replies carry the next five run times.

import { validateCron, validateTimeZone } from "../cron.ts";
import type { Schedule } from "../entities.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import { newId, nowIso } from "../ids.ts";
import type { CreateScheduleInput, UpdateScheduleInput } from "../inputs.ts";
import { backupSourceRefusal } from "../system-databases.ts";
import { type ScheduleView, withNextRuns } from "../views.ts";
import { fanOutScope } from "./databases.ts";
import { type Actor, audited, type CoreDeps, definedOnly } from "./deps.ts";
import { checkDrillTarget } from "./drill-targets.ts";
import { getServer } from "./servers.ts";
import { currentSettings } from "./settings.ts";

export async function getSchedule(deps: Pick<CoreDeps, "store">, id: string): Promise<Schedule> {
  const schedule = await deps.store.schedules.get(id);
  if (!schedule) throw new NotFoundError("schedule", id);
  return schedule;
}

/** Checks what the zod schema cannot: the cron, the zone, and that the scope exists. */
async function checkSchedule(deps: CoreDeps, s: Schedule): Promise<void> {
  validateCron(s.cron_expression);
  validateTimeZone(s.timezone);
  if (s.database && !s.server_id) throw new ValidationError("database", "needs server_id too");
  if (s.server_id) await getServer(deps, s.server_id);
  if (s.server_id && s.database) await fanOutScope(deps, s);
  await checkDrillTarget(deps, s.drill_target, "drill_target");
}

/** Writes the schedule's timer; if the scheduler refuses, the stored change is undone. */
async function mirror(deps: CoreDeps, schedule: Schedule, undo: () => Promise<unknown>): Promise<void> {
  try {
    await deps.scheduler?.upsert(schedule);
  } catch (error) {
    await undo();
    throw error;
  }
}

export async function createSchedule(
  deps: CoreDeps,
  actor: Actor,
  input: CreateScheduleInput,
): Promise<ScheduleView> {
  const settings = await currentSettings(deps);
  const now = nowIso();
  const schedule: Schedule = {
    id: newId(),
    name: input.name,
    cron_expression: input.cron_expression.trim().replace(/\s+/g, " "),
    timezone: input.timezone ?? "UTC",
    server_id: input.server_id ?? null,
    database: input.database ?? null,
    retention_days: input.retention_days ?? settings.retention_days,
    keep_last: input.keep_last ?? settings.keep_last,
    verify_every: input.verify_every ?? 1,
    drill_target: input.drill_target ?? null,
    enabled: input.enabled ?? true,
    last_run: null,
    stale_since: null,
    created_at: now,
    updated_at: now,
  };
  await checkSchedule(deps, schedule);
  return await audited(
    deps,
    actor,
    { action: "schedule.create", target_type: "schedule", details: { name: schedule.name } },
    async () => {
      const created = await deps.store.schedules.create(schedule);
      await mirror(deps, created, () => deps.store.schedules.delete(created.id));
      return withNextRuns(created);
    },
    (s) => s.id,
  );
}

export async function updateSchedule(
  deps: CoreDeps,
  actor: Actor,
  id: string,
  input: UpdateScheduleInput,
): Promise<ScheduleView> {
  const current = await getSchedule(deps, id);
  const patch: Partial<Schedule> = { ...definedOnly(input), updated_at: nowIso() };
  if (patch.cron_expression) patch.cron_expression = patch.cron_expression.trim().replace(/\s+/g, " ");
  if (input.server_id === null) patch.database = null; // no server, no single database
  const next = { ...current, ...patch };
  await checkSchedule(deps, next);
  return await audited(
    deps,
    actor,
    {
      action: "schedule.update",
      target_type: "schedule",
      target_id: id,
      details: { fields: Object.keys(input) },
    },
    async () => {
      const updated = await deps.store.schedules.update(id, patch);
      await mirror(deps, updated, () => deps.store.schedules.update(id, current));
      return withNextRuns(updated);
    },
  );
}

export async function toggleSchedule(deps: CoreDeps, actor: Actor, id: string): Promise<ScheduleView> {
  const current = await getSchedule(deps, id);
  // A schedule stored before local/config were refused is not switched back on.
  const refusal = !current.enabled && current.database ? backupSourceRefusal(current.database) : undefined;
  if (refusal) throw new ValidationError("database", refusal);
  return await audited(
    deps,
    actor,
    {
      action: current.enabled ? "schedule.disable" : "schedule.enable",
      target_type: "schedule",
      target_id: id,
    },
    async () => {
      const updated = await deps.store.schedules.update(id, {
        enabled: !current.enabled,
        updated_at: nowIso(),
      });
      await mirror(deps, updated, () => deps.store.schedules.update(id, current));
      return withNextRuns(updated);
    },
  );
}

export async function deleteSchedule(deps: CoreDeps, actor: Actor, id: string): Promise<void> {
  await getSchedule(deps, id);
  await audited(
    deps,
    actor,
    { action: "schedule.delete", target_type: "schedule", target_id: id },
    async () => {
      // Timer first: a schedule must never fire for a record that is gone.
      await deps.scheduler?.remove(id);
      await deps.store.schedules.delete(id);
    },
  );
}
