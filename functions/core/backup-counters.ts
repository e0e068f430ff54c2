// The dashboard's backup figures kept as counters, so that GET /api/stats reads a few items whatever
// the history's length (issue 17): counts by status, stored bytes, and per UTC day and hour the
// completed and failed backups that finished then (and the bytes of the completed). Every figure is
// a pure function of the set of backup records that exist now, so a store applies, with each write
// of a backup, the difference `counterDelta(before, after)` in the same conditional write or
// transaction; and `countersOf(all backups)` is what a rebuild writes. Pure: no I/O, no clock.
import type { Backup, JobStatus } from "./entities.ts";

/** One counter document: the totals, one UTC day (`YYYY-MM-DD`), or one UTC hour (`YYYY-MM-DDTHH`). */
export type CounterKey = "total" | `day:${string}` | `hour:${string}`;

/** Numeric fields of a counter document; absent means 0. */
export type CounterFields = Partial<Record<CounterField, number>>;
export type CounterField = JobStatus | "bytes_stored" | "completed" | "failed" | "bytes";

/** What to add to which counter document (negative to subtract); zero entries are left out. */
export type CounterDelta = Map<CounterKey, CounterFields>;

export const dayKey = (iso: string): CounterKey => `day:${iso.slice(0, 10)}`;
export const hourKey = (iso: string): CounterKey => `hour:${iso.slice(0, 13)}`;

function add(delta: CounterDelta, key: CounterKey, field: CounterField, n: number): void {
  if (n === 0) return;
  const fields = delta.get(key) ?? {};
  const sum = (fields[field] ?? 0) + n;
  if (sum === 0) delete fields[field];
  else fields[field] = sum;
  if (Object.keys(fields).length === 0) delta.delete(key);
  else delta.set(key, fields);
}

/** The counters one backup record contributes (sign +1), or takes away (sign -1). */
function contribute(delta: CounterDelta, backup: Backup, sign: 1 | -1): void {
  add(delta, "total", backup.status, sign);
  const size = backup.status === "completed" ? (backup.size_bytes ?? 0) : 0;
  add(delta, "total", "bytes_stored", sign * size);
  if (!backup.finished_at || (backup.status !== "completed" && backup.status !== "failed")) return;
  // A finished_at that is not a time counts nowhere by day (the totals still have it).
  if (Number.isNaN(Date.parse(backup.finished_at))) return;
  const finished = new Date(backup.finished_at).toISOString();
  for (const key of [dayKey(finished), hourKey(finished)]) add(delta, key, backup.status, sign);
  if (backup.status === "completed") add(delta, dayKey(finished), "bytes", sign * size);
}

/** What changes in the counters when a backup record goes from `before` to `after` (undefined: absent). */
export function counterDelta(before: Backup | undefined, after: Backup | undefined): CounterDelta {
  const delta: CounterDelta = new Map();
  if (before) contribute(delta, before, -1);
  if (after) contribute(delta, after, 1);
  return delta;
}

/** The counters of a whole set of backups: what a rebuild writes, and what a recount compares with. */
export function countersOf(backups: Iterable<Backup>): CounterDelta {
  const delta: CounterDelta = new Map();
  for (const backup of backups) contribute(delta, backup, 1);
  return delta;
}

/** Adds `delta` into `into` (a store that keeps counters in memory or in a document). */
export function applyDelta(into: Map<CounterKey, CounterFields>, delta: CounterDelta): void {
  for (const [key, fields] of delta) {
    for (const [field, n] of Object.entries(fields) as [CounterField, number][]) add(into, key, field, n);
  }
}
