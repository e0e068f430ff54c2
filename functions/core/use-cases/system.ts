// Health and dashboard statistics.
import { type CounterFields, type CounterKey, dayKey, hourKey } from "../backup-counters.ts";
import { type Backup, JobStatus, type ManagedDatabase } from "../entities.ts";
import { errorMessage } from "../errors.ts";
import {
  type DatabaseProof,
  type DayFigures,
  type DrillFigures,
  type HealthCheck,
  type HealthProbe,
  type Stats,
  type SuccessRate,
  withNextRuns,
} from "../views.ts";
import { alertChannelChecks } from "./alerts.ts";
import type { CoreDeps } from "./deps.ts";
import { listAll } from "./deps.ts";

export async function health(
  deps: Pick<CoreDeps, "store" | "scheduler" | "runner" | "alerts">,
  probes: Record<string, HealthProbe>,
): Promise<{ ok: boolean; checks: Record<string, HealthCheck> }> {
  const checks: Record<string, HealthCheck> = {};
  const run = async (name: string, probe: HealthProbe) => {
    try {
      checks[name] = await probe();
    } catch (error) {
      checks[name] = {
        ok: false,
        detail: errorMessage(error, 300),
      };
    }
  };
  await Promise.all([
    run("metadata_store", async () => {
      await deps.store.settings.get();
      return { ok: true, detail: "reachable" };
    }),
    ...Object.entries(probes).map(([name, probe]) => run(name, probe)),
    // A failed alert delivery is never silent: health fails until the channel delivers again.
    (async () => {
      try {
        Object.assign(checks, await alertChannelChecks(deps));
      } catch (error) {
        checks.alerts = {
          ok: false,
          detail: errorMessage(error, 300),
        };
      }
    })(),
  ]);
  checks.scheduler ??= deps.scheduler
    ? { ok: true, detail: "schedules are mirrored to the scheduler" }
    : { ok: true, detail: "no scheduler configured: schedules are stored but do not fire" };
  checks.runner ??= deps.runner
    ? { ok: true, detail: "jobs are started as they are queued" }
    : { ok: true, detail: "no job runner configured: jobs stay queued" };
  return { ok: Object.values(checks).every((c) => c.ok), checks };
}

const DAY = 86_400_000;

/** Days of history the dashboard charts: a month shows a weekly pattern and a trend. */
const HISTORY_DAYS = 30;

/** The last `days` UTC dates (`YYYY-MM-DD`), oldest first. */
export function dailyHistoryDates(now: Date, days = HISTORY_DAYS): string[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: days }, (_, i) =>
    new Date(today - (days - 1 - i) * DAY).toISOString().slice(0, 10),
  );
}

/**
 * Per-day outcomes and stored bytes for the last `days` UTC days, oldest first, recounted from the
 * records (pure): what the counters must agree with (test/unit/daily-history.test.ts).
 */
export function dailyHistory(backups: Backup[], now: Date, days = HISTORY_DAYS): DayFigures[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const first = today - (days - 1) * DAY;
  const result: DayFigures[] = Array.from({ length: days }, (_, i) => ({
    date: new Date(first + i * DAY).toISOString().slice(0, 10),
    completed: 0,
    failed: 0,
    bytes_written: 0,
    bytes_stored: 0,
  }));
  let storedBefore = 0;
  for (const b of backups) {
    if (!b.finished_at || (b.status !== "completed" && b.status !== "failed")) continue;
    const index = Math.floor((Date.parse(b.finished_at) - first) / DAY);
    const size = b.status === "completed" ? (b.size_bytes ?? 0) : 0;
    if (index < 0) {
      storedBefore += size;
      continue;
    }
    const day = result[index];
    if (!day) continue;
    if (b.status === "completed") {
      day.completed += 1;
      day.bytes_written += size;
    } else day.failed += 1;
  }
  let stored = storedBefore;
  for (const day of result) {
    stored += day.bytes_written;
    day.bytes_stored = stored;
  }
  return result;
}

/** The dashboard's days (`dates`, oldest first, ending today) from the counters: what dailyHistory recounts. */
export function historyFromCounters(
  counters: ReadonlyMap<CounterKey, CounterFields>,
  dates: readonly string[],
): DayFigures[] {
  const days = dates.map((date) => {
    const day = counters.get(dayKey(date)) ?? {};
    return {
      date,
      completed: day.completed ?? 0,
      failed: day.failed ?? 0,
      bytes_written: day.bytes ?? 0,
      bytes_stored: 0,
    };
  });
  // Stored at the end of a day: what is stored now, less what later days wrote.
  let stored = counters.get("total")?.bytes_stored ?? 0;
  for (let i = days.length - 1; i >= 0; i--) {
    const day = days[i] as DayFigures;
    day.bytes_stored = stored;
    stored -= day.bytes_written;
  }
  return days;
}

/** Per-hour figures of the last 7 days: the success rates' windows, to the hour. */
const RATE_HOURS = 7 * 24;

/**
 * Restore-drill figures over the enabled databases (pure): each one's newest completed backup
 * (`newest`, by pair) says whether it is proven now; its record's `last_verified` (written at each
 * passing drill) says when it last was, and how long that restore took.
 */
export function drillFigures(
  databases: readonly ManagedDatabase[],
  newest: ReadonlyMap<string, Backup>,
): DrillFigures {
  const managed = databases.filter((d) => d.enabled);
  const rows: DatabaseProof[] = [];
  let proven = 0;
  let oldestProof: string | null = null;
  for (const database of managed) {
    const backup = newest.get(pairOf(database));
    const latest = backup?.verification ?? null;
    if (latest?.status === "passed") {
      proven += 1;
      if (oldestProof === null || Date.parse(latest.at) < Date.parse(oldestProof)) oldestProof = latest.at;
    }
    // The database's summary is written after the backup's proof; a pass on the newest backup
    // counts even if that second write was lost.
    const lastPass =
      latest?.status === "passed" &&
      (!database.last_verified || Date.parse(latest.at) >= Date.parse(database.last_verified.at))
        ? { at: latest.at, duration_ms: latest.duration_ms }
        : database.last_verified;
    rows.push({
      server_id: database.server_id,
      database: database.name,
      status: !backup ? "no_backup" : (latest?.status ?? "not_yet"),
      last_verified_at: lastPass?.at ?? null,
      recovery_ms: lastPass?.duration_ms ?? null,
    });
  }
  rows.sort((a, b) => a.database.localeCompare(b.database) || a.server_id.localeCompare(b.server_id));
  return {
    proven_databases: proven,
    managed_databases: managed.length,
    share: managed.length > 0 ? proven / managed.length : null,
    oldest_proof_at: oldestProof,
    databases: rows,
  };
}

const pairOf = (d: { server_id: string; name: string }) => JSON.stringify([d.server_id, d.name]);

/**
 * The newest completed backup of each enabled database: one indexed query each (the pair's
 * partition, newest first), so the cost follows the number of databases, not of backups.
 */
async function newestCompletedOf(
  deps: Pick<CoreDeps, "store">,
  databases: readonly ManagedDatabase[],
): Promise<Map<string, Backup>> {
  const newest = new Map<string, Backup>();
  await Promise.all(
    databases
      .filter((d) => d.enabled)
      .map(async (d) => {
        const { items } = await deps.store.backups.list(
          { server_id: d.server_id, database: d.name, status: "completed" },
          { limit: 1 },
        );
        if (items[0]) newest.set(pairOf(d), items[0]);
      }),
  );
  return newest;
}

/**
 * Dashboard figures. The backup figures come from the store's counters (core/backup-counters.ts),
 * kept with every backup write: 1 + 30 days + 168 hours of documents, whatever the history's length.
 * The success rates are of whole UTC hours (the current one included), the charts of UTC days.
 */
export async function stats(deps: Pick<CoreDeps, "store">, now = new Date()): Promise<Stats> {
  const hourStart = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
  const hours = Array.from({ length: RATE_HOURS }, (_, i) =>
    hourKey(new Date(hourStart - i * 3_600_000).toISOString()),
  );
  const history = dailyHistoryDates(now);
  const counters = await deps.store.counters.read(["total", ...history.map((d) => dayKey(d)), ...hours]);
  const total = counters.get("total") ?? {};
  const byStatus = Object.fromEntries(JobStatus.options.map((s) => [s, total[s] ?? 0])) as Record<
    JobStatus,
    number
  >;
  const rate = (n: number): SuccessRate => {
    let completed = 0;
    let failed = 0;
    for (const key of hours.slice(0, n)) {
      completed += counters.get(key)?.completed ?? 0;
      failed += counters.get(key)?.failed ?? 0;
    }
    return { completed, failed, rate: completed + failed > 0 ? completed / (completed + failed) : null };
  };
  const bytesStored = total.bytes_stored ?? 0;
  const days = historyFromCounters(counters, history);
  const [servers, databases, schedules] = await Promise.all([
    listAll((f, p) => deps.store.servers.list(f, p), {}),
    listAll((f, p) => deps.store.databases.list(f, p), {}),
    listAll((f, p) => deps.store.schedules.list(f, p), { enabled: true }),
  ]);
  const nextRuns = schedules
    .flatMap((s) =>
      withNextRuns(s, now)
        .next_runs.slice(0, 1)
        .map((at) => ({ schedule_id: s.id, name: s.name, at })),
    )
    .sort((a, b) => a.at.localeCompare(b.at))
    .slice(0, 5);
  return {
    servers: servers.length,
    databases: { total: databases.length, enabled: databases.filter((d) => d.enabled).length },
    backups: { by_status: byStatus, total: Object.values(byStatus).reduce((a, b) => a + b, 0) },
    bytes_stored: bytesStored,
    success_rate: { last_24h: rate(24), last_7d: rate(RATE_HOURS) },
    schedules: { enabled: schedules.length },
    next_runs: nextRuns,
    history: days,
    drills: drillFigures(databases, await newestCompletedOf(deps, databases)),
  };
}
