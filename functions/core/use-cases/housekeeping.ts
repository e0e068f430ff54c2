// What runs every few minutes besides the schedules themselves (a 5-minute EventBridge schedule on
// AWS, a 1-minute timer in local mode): reap silent jobs, find stale schedules, and dispatch, which
// also catches a dispatch lost with a crashed function. Each part runs even if another fails.
import { previousRuns } from "../cron.ts";
import type { Schedule } from "../entities.ts";
import { errorMessage } from "../errors.ts";
import { scheduleStaleEvent } from "../events.ts";
import type { JobRef } from "../ports.ts";
import { announce } from "./alerts.ts";
import { type CoreDeps, listAll } from "./deps.ts";
import { dispatch } from "./dispatch.ts";
import { reapSilentJobs } from "./jobs.ts";

export interface StaleCheck {
  schedule_id: string;
  stale: boolean;
  /** Set when the schedule turned stale on this check (and was announced). */
  announced: boolean;
  /** Cleared when a stale schedule had a success again. */
  recovered: boolean;
}

/** How far back the newest success is looked for when reporting `last_success_at`. */
const SUCCESS_LOOKBACK = 500;

/**
 * A schedule is stale when none of its backups created at or after the earlier of its two most
 * recent firings has completed: two firings in a row brought no success. Comparing against the
 * firings themselves, rather than twice the smallest interval, keeps weekday-only or monthly
 * schedules from looking stale over a weekend. A schedule is judged only once it has been enabled
 * and unchanged across both firings (updated_at before the earlier one), and it is announced once
 * per stale spell: `stale_since` is set when it turns stale and cleared by its next success.
 */
export async function checkStaleSchedule(
  deps: Pick<CoreDeps, "store" | "alerts">,
  schedule: Schedule,
  now = new Date(),
): Promise<StaleCheck> {
  const result: StaleCheck = { schedule_id: schedule.id, stale: false, announced: false, recovered: false };
  if (!schedule.enabled) return result;
  const [, earlier] = previousRuns(schedule.cron_expression, schedule.timezone, 2, now);
  const since = Math.max(Date.parse(schedule.updated_at), Date.parse(schedule.created_at));
  if (!earlier || since > Date.parse(earlier)) return result;

  let lastSuccess: string | null = null;
  let seen = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.store.backups.list({ schedule_id: schedule.id }, { limit: 100, cursor });
    lastSuccess = page.items.find((b) => b.status === "completed")?.created_at ?? null;
    seen += page.items.length;
    cursor = page.next_cursor ?? undefined;
  } while (!lastSuccess && cursor && seen < SUCCESS_LOOKBACK);
  result.stale = !lastSuccess || lastSuccess < earlier;

  if (result.stale && !schedule.stale_since) {
    await deps.store.schedules.update(schedule.id, { stale_since: now.toISOString() });
    await announce(deps, scheduleStaleEvent(schedule, earlier, lastSuccess, now));
    result.announced = true;
  } else if (!result.stale && schedule.stale_since) {
    await deps.store.schedules.update(schedule.id, { stale_since: null });
    result.recovered = true;
  }
  return result;
}

export interface HousekeepingResult {
  reaped: JobRef[];
  stale: string[];
  started: string[];
  errors: string[];
}

export async function housekeeping(deps: CoreDeps, now = new Date()): Promise<HousekeepingResult> {
  const result: HousekeepingResult = { reaped: [], stale: [], started: [], errors: [] };
  const attempt = async (what: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      result.errors.push(errorMessage(`${what}: ${errorMessage(error)}`));
    }
  };
  await attempt("reaper", async () => {
    result.reaped = await reapSilentJobs(deps, now);
  });
  await attempt("stale schedules", async () => {
    const schedules = await listAll((f, p) => deps.store.schedules.list(f, p), { enabled: true });
    for (const schedule of schedules) {
      await attempt(`schedule ${schedule.id}`, async () => {
        if ((await checkStaleSchedule(deps, schedule, now)).stale) result.stale.push(schedule.id);
      });
    }
  });
  await attempt("dispatch", async () => {
    result.started = (await dispatch(deps)).started;
  });
  return result;
}
