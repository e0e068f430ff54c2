// The dashboard's 30-day history (pure): outcomes per UTC day, and stored bytes that include the
// completed backups older than the window (their archives still exist).
import { describe, expect, it } from "vitest";
import { dailyHistory } from "#core/use-cases/system.ts";
import { makeBackup } from "#test/support/fixtures.ts";

const now = new Date("2026-11-22T15:00:00Z");
const at = (iso: string) => ({ finished_at: iso, started_at: iso, created_at: iso });

describe("dailyHistory", () => {
  it("counts each outcome on its UTC day and stored bytes from before the window on", () => {
    const days = dailyHistory(
      [
        makeBackup({ status: "completed", size_bytes: 1000, ...at("2026-09-01T10:00:00Z") }), // 82 days ago
        makeBackup({ status: "failed", size_bytes: null, ...at("2026-09-02T10:00:00Z") }), // too old to count
        makeBackup({ status: "completed", size_bytes: 200, ...at("2026-10-24T23:59:59Z") }), // first day
        makeBackup({ status: "failed", size_bytes: null, ...at("2026-11-22T00:00:00Z") }), // today
        makeBackup({ status: "completed", size_bytes: 50, ...at("2026-11-22T14:00:00Z") }), // today
        makeBackup({ status: "running", size_bytes: null, finished_at: null }), // not ended: ignored
      ],
      now,
    );
    expect(days).toHaveLength(30);
    expect(days[0]).toEqual({
      date: "2026-10-24",
      completed: 1,
      failed: 0,
      bytes_written: 200,
      bytes_stored: 1200,
    });
    expect(days[1]).toMatchObject({ date: "2026-10-25", completed: 0, bytes_stored: 1200 });
    expect(days.at(-1)).toEqual({
      date: "2026-11-22",
      completed: 1,
      failed: 1,
      bytes_written: 50,
      bytes_stored: 1250,
    });
    expect(days.reduce((n, d) => n + d.failed, 0)).toBe(1);
  });
});
