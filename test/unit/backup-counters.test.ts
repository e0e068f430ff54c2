// The backup counters' arithmetic (pure): deltas applied over any sequence of record changes equal
// a recount of the final records, and the dashboard days built from counters equal the days
// recounted from the records (dailyHistory), so the counters change where figures come from, not
// what they say.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyDelta,
  type CounterFields,
  type CounterKey,
  counterDelta,
  countersOf,
} from "#core/backup-counters.ts";
import type { Backup, JobStatus } from "#core/entities.ts";
import { dailyHistory, dailyHistoryDates, historyFromCounters } from "#core/use-cases/system.ts";
import { makeBackup } from "#test/support/fixtures.ts";

const now = new Date("2026-11-22T15:00:00Z");
const statuses: JobStatus[] = ["queued", "running", "completed", "failed", "cancelled"];
const backupArb = fc
  .record({
    status: fc.constantFrom(...statuses),
    size: fc.option(fc.integer({ min: 0, max: 1e9 }), { nil: null }),
    minutesAgo: fc.option(fc.integer({ min: 0, max: 60 * 24 * 45 }), { nil: null }),
  })
  // As the job machinery writes them: an ended job has finished_at, a queued or running one not.
  .map(({ status, size, minutesAgo }) =>
    makeBackup({
      status,
      size_bytes: size,
      finished_at:
        status === "queued" || status === "running"
          ? null
          : new Date(now.getTime() - (minutesAgo ?? 0) * 60_000).toISOString(),
    }),
  );

const normalized = (m: Map<CounterKey, CounterFields>) =>
  Object.fromEntries([...m].filter(([, f]) => Object.values(f).some((n) => n !== 0)).sort());

describe("backup counters", () => {
  it("deltas of any sequence of creates, replacements and deletions sum to a recount", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(20), fc.option(backupArb, { nil: undefined })), { maxLength: 60 }),
        (steps) => {
          const records = new Map<number, Backup>();
          const kept = new Map<CounterKey, CounterFields>();
          for (const [slot, next] of steps) {
            applyDelta(kept, counterDelta(records.get(slot), next));
            if (next) records.set(slot, next);
            else records.delete(slot);
          }
          expect(normalized(kept)).toEqual(normalized(countersOf(records.values())));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("give the dashboard the same 30 days as a recount of the records", () => {
    fc.assert(
      fc.property(fc.array(backupArb, { maxLength: 80 }), (backups) => {
        const fromCounters = historyFromCounters(countersOf(backups), dailyHistoryDates(now));
        expect(fromCounters).toEqual(dailyHistory(backups, now));
      }),
      { numRuns: 300 },
    );
  });

  it("count a backup by status in the totals, and by its finishing day and hour once it ended", () => {
    const done = makeBackup({ status: "completed", size_bytes: 7, finished_at: "2026-11-20T10:59:59.000Z" });
    const counters = countersOf([done, makeBackup({ status: "running", finished_at: null })]);
    expect(Object.fromEntries(counters)).toEqual({
      total: { completed: 1, running: 1, bytes_stored: 7 },
      "day:2026-11-20": { completed: 1, bytes: 7 },
      "hour:2026-11-20T10": { completed: 1 },
    });
    expect(Object.fromEntries(counterDelta(done, undefined))).toEqual({
      total: { completed: -1, bytes_stored: -7 },
      "day:2026-11-20": { completed: -1, bytes: -7 },
      "hour:2026-11-20T10": { completed: -1 },
    });
  });
});
