// Health and dashboard statistics.
import { type Backup, JobStatus, type ManagedDatabase } from "../entities.ts";
import { errorMessage } from "../errors.ts";
import { newestBackupFirst } from "../retention.ts";
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

function successRate(backups: Backup[], since: number): SuccessRate {
  const finished = backups.filter((b) => b.finished_at && Date.parse(b.finished_at) >= since);
  const completed = finished.filter((b) => b.status === "completed").length;
  const failed = finished.filter((b) => b.status === "failed").length;
  return { completed, failed, rate: completed + failed > 0 ? completed / (completed + failed) : null };
}

/** Days of history the dashboard charts: a month shows a weekly pattern and a trend. */
const HISTORY_DAYS = 30;

/** Per-day outcomes and stored bytes for the last `days` UTC days, oldest first (pure). */
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

/**
 * Restore-drill figures over the enabled databases, from their completed backups (pure). "Newest
 * completed" is retention's order, so the backup the dashboard calls proven is the one it keeps.
 */
export function drillFigures(
  databases: readonly ManagedDatabase[],
  completed: readonly Backup[],
): DrillFigures {
  const byPair = new Map<string, Backup[]>();
  for (const backup of completed) {
    if (backup.status !== "completed") continue;
    const key = JSON.stringify([backup.server_id, backup.database]);
    const list = byPair.get(key);
    if (list) list.push(backup);
    else byPair.set(key, [backup]);
  }
  const managed = databases.filter((d) => d.enabled);
  const rows: DatabaseProof[] = [];
  let proven = 0;
  let oldestProof: string | null = null;
  for (const database of managed) {
    const backups = (byPair.get(JSON.stringify([database.server_id, database.name])) ?? []).sort(
      newestBackupFirst,
    );
    const newest = backups[0];
    let lastPass: Backup["verification"] = null;
    for (const b of backups) {
      const v = b.verification;
      if (v?.status === "passed" && (!lastPass || Date.parse(v.at) > Date.parse(lastPass.at))) lastPass = v;
    }
    const latest = newest?.verification ?? null;
    if (latest?.status === "passed") {
      proven += 1;
      if (oldestProof === null || Date.parse(latest.at) < Date.parse(oldestProof)) oldestProof = latest.at;
    }
    rows.push({
      server_id: database.server_id,
      database: database.name,
      status: !newest ? "no_backup" : (latest?.status ?? "not_yet"),
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

/**
 * Dashboard figures. Counting by status pages through each status's index: the cost grows with
 * the number of backups, which is fine for a dashboard (not for a list page); the rates and the
 * charts read only the last 30 days, newest first, plus the completed list already read.
 */
export async function stats(deps: Pick<CoreDeps, "store">, now = new Date()): Promise<Stats> {
  const byStatus = {} as Record<JobStatus, number>;
  let completedAll: Backup[] = [];
  let bytesStored = 0;
  await Promise.all(
    JobStatus.options.map(async (status) => {
      const items = await listAll((f, p) => deps.store.backups.list(f, p), { status });
      byStatus[status] = items.length;
      if (status === "completed") {
        completedAll = items;
        bytesStored = items.reduce((sum, b) => sum + (b.size_bytes ?? 0), 0);
      }
    }),
  );
  const weekAgo = now.getTime() - 7 * DAY;
  const historyStart = now.getTime() - HISTORY_DAYS * DAY;
  const recent: Backup[] = [];
  let cursor: string | undefined;
  // Newest first: stop at the first page that reaches past the history window.
  do {
    const page = await deps.store.backups.list({}, { limit: 100, cursor });
    recent.push(...page.items);
    cursor = page.next_cursor ?? undefined;
    const oldest = page.items.at(-1);
    if (oldest && Date.parse(oldest.created_at) < historyStart) break;
  } while (cursor);
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
    success_rate: {
      last_24h: successRate(recent, now.getTime() - DAY),
      last_7d: successRate(recent, weekAgo),
    },
    schedules: { enabled: schedules.length },
    next_runs: nextRuns,
    // Completed backups older than the window count towards stored bytes; failures only in it.
    history: dailyHistory([...completedAll, ...recent.filter((b) => b.status === "failed")], now),
    // From the completed backups already read: the drill figures cost no further query.
    drills: drillFigures(databases, completedAll),
  };
}
