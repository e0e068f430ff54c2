// What runs every few minutes besides the schedules themselves (a 5-minute EventBridge schedule on
// AWS, a 1-minute timer in local mode): reap silent jobs, find stale schedules and databases whose
// restore drills are too old, and dispatch, which also catches a dispatch lost with a crashed
// function. Each part runs even if another fails.
import { previousRuns } from "../cron.ts";
import type { ManagedDatabase, Schedule, Settings } from "../entities.ts";
import { errorMessage } from "../errors.ts";
import { drillStaleEvent, scheduleStaleEvent } from "../events.ts";
import type { JobRef } from "../ports.ts";
import { announce } from "./alerts.ts";
import { type CoreDeps, listAll } from "./deps.ts";
import { dispatch } from "./dispatch.ts";
import { reapSilentJobs } from "./jobs.ts";
import { currentSettings } from "./settings.ts";

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

const DAY_MS = 86_400_000;
/**
 * Backups of one database read, newest first, looking for a recent pass. A database beyond it with
 * its only recent pass on an older backup is reported stale: a false alarm, never a silent miss.
 */
const PROOF_LOOKBACK = 500;
/** The first page is small: a recent pass is nearly always on one of the newest few backups. */
const FIRST_PAGE = 20;
/**
 * A database that never passed a drill is judged once its oldest completed backup held is this old:
 * time for the drill that follows a backup to run, so a new database does not alert before its first
 * drill could. Not `max_age_days`: with a shorter retention, a never-drilled database would never
 * hold a backup that old, and never be reported.
 */
const FIRST_PROOF_GRACE_MS = DAY_MS;

export interface DrillStaleCheck {
  database_id: string;
  stale: boolean;
  /** Set when the database turned stale on this check (and was announced). */
  announced: boolean;
  /** Cleared when a stale database had a pass again (or no completed backup any more). */
  recovered: boolean;
}

interface ProofSearch {
  hasCompleted: boolean;
  /** Whether a drill passed at or after the window's start. */
  recent: boolean;
  /** The newest pass seen (by its time). */
  lastPassed: { at: string; backup_id: string } | null;
  oldestCompletedAt: number;
}

/**
 * Reads a database's backups (the server_id + database index, newest first) until a pass inside the
 * window shows up. Cost per database and pass: one query of FIRST_PAGE items when a recent drill
 * passed on one of its newest backups (the usual case: drills follow backups); up to PROOF_LOOKBACK
 * items for one without (stale, or never drilled). Nothing else is read, and no table is scanned.
 */
async function searchProof(
  deps: Pick<CoreDeps, "store">,
  database: ManagedDatabase,
  windowStart: number,
): Promise<ProofSearch> {
  const found: ProofSearch = {
    hasCompleted: false,
    recent: false,
    lastPassed: null,
    oldestCompletedAt: Number.POSITIVE_INFINITY,
  };
  let seen = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.store.backups.list(
      { server_id: database.server_id, database: database.name },
      { limit: seen === 0 ? FIRST_PAGE : 100, cursor },
    );
    for (const backup of page.items) {
      if (backup.status !== "completed") continue;
      found.hasCompleted = true;
      const finished = Date.parse(backup.finished_at ?? backup.created_at);
      if (finished < found.oldestCompletedAt) found.oldestCompletedAt = finished;
      const proof = backup.verification;
      if (proof?.status !== "passed") continue;
      if (!found.lastPassed || Date.parse(proof.at) > Date.parse(found.lastPassed.at)) {
        found.lastPassed = { at: proof.at, backup_id: backup.id };
      }
      if (Date.parse(proof.at) >= windowStart) {
        found.recent = true;
        return found;
      }
    }
    seen += page.items.length;
    cursor = page.next_cursor ?? undefined;
  } while (cursor && seen < PROOF_LOOKBACK);
  return found;
}

/**
 * A managed database is drill-stale when it has completed backups and no restore drill of one of
 * them passed within `drills.max_age_days` (a backup's latest drill counts, as recorded in its
 * `verification`). Announced once per spell: `drill_stale_since` is set on the database record when
 * it turns stale, and cleared when a pass inside the window shows up again.
 */
export async function checkDrillStale(
  deps: Pick<CoreDeps, "store" | "alerts">,
  database: ManagedDatabase,
  settings: Pick<Settings, "drills">,
  now = new Date(),
): Promise<DrillStaleCheck> {
  const result: DrillStaleCheck = {
    database_id: database.id,
    stale: false,
    announced: false,
    recovered: false,
  };
  const maxAgeDays = settings.drills.max_age_days;
  const found = await searchProof(deps, database, now.getTime() - maxAgeDays * DAY_MS);
  result.stale =
    found.hasCompleted &&
    !found.recent &&
    (found.lastPassed !== null || found.oldestCompletedAt <= now.getTime() - FIRST_PROOF_GRACE_MS);

  if (result.stale && !database.drill_stale_since) {
    await deps.store.databases.update(database.id, { drill_stale_since: now.toISOString() });
    await announce(deps, drillStaleEvent(database, maxAgeDays, found.lastPassed, now));
    result.announced = true;
  } else if (!result.stale && database.drill_stale_since) {
    await deps.store.databases.update(database.id, { drill_stale_since: null });
    result.recovered = true;
  }
  return result;
}

export interface HousekeepingResult {
  reaped: JobRef[];
  stale: string[];
  /** Ids of the managed databases whose newest passing drill is too old. */
  drill_stale: string[];
  started: string[];
  errors: string[];
}

export async function housekeeping(deps: CoreDeps, now = new Date()): Promise<HousekeepingResult> {
  const result: HousekeepingResult = { reaped: [], stale: [], drill_stale: [], started: [], errors: [] };
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
  await attempt("drill staleness", async () => {
    const [settings, databases] = await Promise.all([
      currentSettings(deps),
      listAll((f, p) => deps.store.databases.list(f, p), { enabled: true }),
    ]);
    for (const database of databases) {
      await attempt(`database ${database.id}`, async () => {
        if ((await checkDrillStale(deps, database, settings, now)).stale)
          result.drill_stale.push(database.id);
      });
    }
  });
  await attempt("dispatch", async () => {
    result.started = (await dispatch(deps)).started;
  });
  return result;
}
