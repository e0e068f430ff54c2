import { Writable } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CronTicker } from "#adapters/local/cron-ticker.ts";
import { nextRuns } from "#core/cron.ts";
import type { Schedule } from "#core/entities.ts";
import { createLogger } from "#functions/logger.ts";
import { makeSchedule } from "#test/support/fixtures.ts";

const MINUTE = 60_000;
const WEEK = 7 * 24 * 60 * MINUTE;
const z = (...times: string[]) => times.map((t) => `${t}:00.000Z`);

interface LogLine {
  level: number;
  msg: string;
  schedule_id?: string;
  err?: { message: string };
  minutes?: number;
}

/** A ticker on a settable clock, whose `fire` records (schedule id, minute) and can be made to fail. */
function harness(at: string, options: { catchUpMinutes?: number } = {}) {
  let now = Date.parse(at);
  const fired: Array<[string, string]> = [];
  const failing = new Map<string, () => never>();
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  const ticker = new CronTicker({
    fire: async (id, minute) => {
      fired.push([id, minute.toISOString()]);
      failing.get(id)?.();
    },
    log: createLogger("test", { destination }),
    now: () => new Date(now),
    ...options,
  });
  return {
    ticker,
    fired,
    failing,
    /** Fired minutes of one schedule. */
    of: (schedule: Schedule) => fired.filter(([id]) => id === schedule.id).map(([, minute]) => minute),
    logs: () => lines.map((line) => JSON.parse(line) as LogLine),
    set(time: string | number) {
      now = typeof time === "number" ? time : Date.parse(time);
    },
    /** Sets the clock to `time` and ticks. */
    async tickAt(time: string | number) {
      this.set(time);
      await ticker.tick();
    },
  };
}

const everyMinute = (overrides: Partial<Schedule> = {}) =>
  makeSchedule({ cron_expression: "* * * * *", timezone: "UTC", ...overrides });

/** nextRuns' list of runs in (from, to], paged past its 1000-run limit. */
function runsBetween(expression: string, timezone: string, from: number, to: number): string[] {
  const runs: string[] = [];
  let cursor = from;
  for (;;) {
    const page = nextRuns(expression, timezone, 1000, new Date(cursor));
    for (const run of page) {
      if (Date.parse(run) > to) return runs;
      runs.push(run);
    }
    if (page.length < 1000) return runs;
    cursor = Date.parse(page.at(-1)!);
  }
}

// [expression, time zone, first minute of the simulated week]; comments say what the week holds.
const WEEKS: Array<[string, string, string]> = [
  // New York springs forward on 2026-03-08: 02:00-02:59 EST does not exist.
  ["*/15 * * * *", "America/New_York", "2026-03-05T00:00Z"],
  // Berlin falls back on 2026-10-25: 02:00-02:59 happens twice, and an interval job runs in both.
  ["*/15 * * * *", "Europe/Berlin", "2026-10-22T00:00Z"],
  // Berlin springs forward on 2026-03-29: 02:30 runs at 03:00 CEST.
  ["30 2 * * *", "Europe/Berlin", "2026-03-26T00:00Z"],
  // ...and falls back on 2026-10-25: 02:30 runs once, at 02:30 CEST.
  ["30 2 * * *", "Europe/Berlin", "2026-10-22T00:00Z"],
  ["*/30 1 * * *", "America/New_York", "2026-10-29T00:00Z"],
  ["30 1 * * *", "America/New_York", "2026-10-29T00:00Z"],
  ["0 9 * * 1-5", "America/New_York", "2026-03-05T00:00Z"],
  // Lord Howe's clock jumps from 02:00 to 02:30 on 2026-10-04.
  ["15 2 * * *", "Australia/Lord_Howe", "2026-10-01T00:00Z"],
  // April 1st in Kolkata starts at 2026-03-31T18:30Z.
  ["0 0 1 * *", "Asia/Kolkata", "2026-03-28T00:00Z"],
  ["0 12 * * 0", "UTC", "2026-03-05T00:00Z"],
  // New Year in Berlin starts at 2026-12-31T23:00Z.
  ["0 0 1 1 *", "Europe/Berlin", "2026-12-28T00:00Z"],
  // Day-of-month OR day-of-week: the 15th (a Sunday) and Monday the 16th.
  ["0 0 1,15 * 1", "UTC", "2026-03-12T00:00Z"],
];

describe("CronTicker", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("fires an every-minute schedule once per minute, however often it ticks", async () => {
    const h = harness("2026-03-02T10:00:00.050Z");
    const schedule = everyMinute();
    await h.ticker.upsert(schedule);
    await h.ticker.tick();
    await h.tickAt("2026-03-02T10:00:40Z");
    await h.tickAt("2026-03-02T10:00:59.999Z");
    expect(h.of(schedule)).toEqual(z("2026-03-02T10:00"));
    await h.tickAt("2026-03-02T10:01:00.050Z");
    await h.tickAt("2026-03-02T10:01:00.100Z");
    expect(h.fired).toEqual([
      [schedule.id, "2026-03-02T10:00:00.000Z"],
      [schedule.id, "2026-03-02T10:01:00.000Z"],
    ]);
  });

  it("fires the current minute at start, so a restart in the middle of a minute does not skip it", async () => {
    const first = harness("2026-03-02T10:00:30Z");
    const schedule = everyMinute();
    first.ticker.start([schedule]);
    expect(first.of(schedule)).toEqual(z("2026-03-02T10:00"));
    await first.ticker.stop();
    // A stop and start of the same ticker remembers what it fired.
    first.ticker.start([schedule]);
    await first.ticker.stop();
    expect(first.of(schedule)).toEqual(z("2026-03-02T10:00"));
  });

  it("fires the minute again from a new ticker started within it (intended: fan-out's ids dedupe)", async () => {
    const schedule = everyMinute();
    const before = harness("2026-03-02T10:00:05Z");
    before.ticker.start([schedule]);
    await before.ticker.stop();
    const restarted = harness("2026-03-02T10:00:40Z");
    restarted.ticker.start([schedule]);
    await restarted.ticker.stop();
    expect(before.of(schedule)).toEqual(z("2026-03-02T10:00"));
    expect(restarted.of(schedule)).toEqual(z("2026-03-02T10:00"));
  });

  it("does not fire a disabled schedule, fires it from the next tick once enabled, and stops on remove", async () => {
    const h = harness("2026-03-02T10:00:00.050Z");
    const schedule = everyMinute({ enabled: false });
    h.ticker.start([schedule]);
    await h.tickAt("2026-03-02T10:01:00.050Z");
    expect(h.fired).toEqual([]);
    h.set("2026-03-02T10:01:30Z");
    await h.ticker.upsert({ ...schedule, enabled: true });
    await h.ticker.tick();
    expect(h.fired).toEqual([]); // 10:01 was evaluated while it was disabled
    await h.tickAt("2026-03-02T10:02:00.050Z");
    expect(h.of(schedule)).toEqual(z("2026-03-02T10:02"));
    await h.ticker.remove(schedule.id);
    await h.ticker.remove(schedule.id);
    await h.tickAt("2026-03-02T10:03:00.050Z");
    expect(h.of(schedule)).toEqual(z("2026-03-02T10:02"));
    await h.ticker.stop();
  });

  it("follows an upsert that changes the expression", async () => {
    const h = harness("2026-03-02T10:00:00.050Z");
    const schedule = makeSchedule({ cron_expression: "0 * * * *", timezone: "UTC" });
    await h.ticker.upsert(schedule);
    await h.ticker.tick();
    await h.ticker.upsert({ ...schedule, cron_expression: "*/5 * * * *" });
    for (let m = 1; m <= 10; m++) await h.tickAt(Date.parse("2026-03-02T10:00:00.050Z") + m * MINUTE);
    expect(h.of(schedule)).toEqual(z("2026-03-02T10:00", "2026-03-02T10:05", "2026-03-02T10:10"));
  });

  it("logs and keeps out a schedule whose cron expression or time zone cannot be used", async () => {
    const h = harness("2026-03-02T10:00:00.050Z");
    const good = everyMinute();
    const badCron = everyMinute({ cron_expression: "61 * * * *" });
    const badZone = everyMinute({ timezone: "Mars/Olympus" });
    h.ticker.start([good, badCron, badZone]);
    // An invalid update of a loaded schedule unloads it.
    await h.ticker.upsert({ ...good, cron_expression: "* * * *" });
    await h.tickAt("2026-03-02T10:01:00.050Z");
    await h.ticker.stop();
    expect(h.fired).toEqual([[good.id, "2026-03-02T10:00:00.000Z"]]);
    const errors = h.logs().filter((l) => l.level === 50);
    expect(errors.map((l) => l.schedule_id)).toEqual([badCron.id, badZone.id, good.id]);
    expect(errors[0]!.err!.message).toContain("minute 61 is out of range");
    expect(errors[1]!.err!.message).toContain("is not an IANA time zone name");
  });

  it("fires 0 9 * * 1-5 in New York at 14:00Z before the DST change and 13:00Z after, not on weekends", async () => {
    const h = harness("2026-03-05T00:00:00.050Z"); // a Thursday
    const schedule = makeSchedule({ cron_expression: "0 9 * * 1-5", timezone: "America/New_York" });
    h.ticker.start([schedule]);
    const start = Date.parse("2026-03-05T00:00:00.050Z");
    for (let t = start + MINUTE; t < start + WEEK; t += MINUTE) await h.tickAt(t);
    await h.ticker.stop();
    expect(h.of(schedule)).toEqual(
      z("2026-03-05T14:00", "2026-03-06T14:00", "2026-03-09T13:00", "2026-03-10T13:00", "2026-03-11T13:00"),
    );
  });

  it.each(WEEKS)(
    "fires %s in %s over the week from %s exactly as nextRuns lists",
    async (expression, tz, from) => {
      const start = Date.parse(from);
      const h = harness(from);
      const schedule = makeSchedule({ cron_expression: expression, timezone: tz });
      await h.ticker.upsert(schedule);
      // Minute by minute, 50 ms into each, as the timer would.
      for (let t = start; t < start + WEEK; t += MINUTE) {
        h.set(t + 50);
        await h.ticker.tick();
      }
      const expected = runsBetween(expression, tz, start - MINUTE, start + WEEK - MINUTE);
      expect(expected.length).toBeGreaterThan(0);
      expect(h.of(schedule)).toEqual(expected);
    },
  );

  it("fires 30 2 * * * in Berlin once on each DST change day, where croner puts it", async () => {
    const h = harness("2026-03-28T00:00Z");
    const schedule = makeSchedule({ cron_expression: "30 2 * * *", timezone: "Europe/Berlin" });
    await h.ticker.upsert(schedule);
    const simulate = async (from: string, days: number) => {
      const start = Date.parse(from);
      for (let t = start; t < start + days * 24 * 60 * MINUTE; t += MINUTE) await h.tickAt(t + 50);
    };
    await simulate("2026-03-28T00:00Z", 3);
    await simulate("2026-10-24T00:00Z", 3);
    expect(h.of(schedule)).toEqual(
      z(
        "2026-03-28T01:30",
        "2026-03-29T01:00", // 02:30 does not exist: 03:00 CEST
        "2026-03-30T00:30",
        "2026-10-24T00:30",
        "2026-10-25T00:30", // 02:30 CEST; not again at 02:30 CET (01:30Z)
        "2026-10-26T01:30",
      ),
    );
  });

  it("catches up the minutes of a 5 minute stall", async () => {
    const h = harness("2026-03-02T10:00:00.050Z");
    const schedule = everyMinute();
    h.ticker.start([schedule]);
    await h.tickAt("2026-03-02T10:05:00.050Z");
    await h.ticker.stop();
    expect(h.of(schedule)).toEqual(
      z(
        "2026-03-02T10:00",
        "2026-03-02T10:01",
        "2026-03-02T10:02",
        "2026-03-02T10:03",
        "2026-03-02T10:04",
        "2026-03-02T10:05",
      ),
    );
  });

  it.each([
    [undefined, 10],
    [3, 3],
    [1, 1],
  ])(
    "catches up only the last catchUpMinutes (%s) minutes of a 3 hour 25 minute jump",
    async (catchUpMinutes, count) => {
      const h = harness("2026-03-02T10:00:00.050Z", catchUpMinutes ? { catchUpMinutes } : {});
      const schedule = everyMinute();
      const hourly = makeSchedule({ cron_expression: "0 * * * *", timezone: "UTC" });
      h.ticker.start([schedule, hourly]);
      await h.tickAt("2026-03-02T13:25:00.050Z");
      await h.ticker.stop();
      const minutes = Array.from({ length: count }, (_, i) =>
        new Date(Date.parse("2026-03-02T13:25Z") - (count - 1 - i) * MINUTE).toISOString(),
      );
      expect(h.of(schedule)).toEqual([...z("2026-03-02T10:00"), ...minutes]);
      // 11:00, 12:00 and 13:00 were outside the window.
      expect(h.of(hourly)).toEqual(z("2026-03-02T10:00"));
      const warning = h.logs().find((l) => l.level === 40);
      expect(warning?.minutes).toBe(205 - count);
    },
  );

  it("rejects a catchUpMinutes that is not an integer from 1", () => {
    const log = createLogger("test");
    for (const catchUpMinutes of [0, -1, 1.5, Number.NaN]) {
      expect(() => new CronTicker({ fire: async () => undefined, log, catchUpMinutes })).toThrow(RangeError);
    }
  });

  it("never fires a minute twice when the clock steps back", async () => {
    const h = harness("2026-03-02T10:00:00.050Z");
    const schedule = everyMinute();
    h.ticker.start([schedule]);
    await h.tickAt("2026-03-02T10:05:00.050Z");
    await h.tickAt("2026-03-02T10:03:00.050Z");
    await h.tickAt("2026-03-02T10:04:00.050Z");
    await h.tickAt("2026-03-02T10:05:00.050Z");
    await h.tickAt("2026-03-02T10:06:00.050Z");
    await h.ticker.stop();
    const minutes = h.of(schedule);
    expect(minutes).toHaveLength(7);
    expect(new Set(minutes).size).toBe(7);
    expect(minutes.at(-1)).toBe("2026-03-02T10:06:00.000Z");
  });

  it("logs a fire that rejects, and keeps firing the other schedules and later ticks", async () => {
    const h = harness("2026-03-02T10:00:00.050Z");
    const failing = everyMinute({ name: "failing" });
    const healthy = everyMinute({ name: "healthy" });
    h.failing.set(failing.id, () => {
      throw new Error("store unavailable");
    });
    h.ticker.start([failing, healthy]);
    await h.tickAt("2026-03-02T10:01:00.050Z");
    await h.ticker.stop();
    expect(h.of(failing)).toEqual(z("2026-03-02T10:00", "2026-03-02T10:01"));
    expect(h.of(healthy)).toEqual(z("2026-03-02T10:00", "2026-03-02T10:01"));
    const errors = h.logs().filter((l) => l.level === 50);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({
      msg: "schedule firing failed",
      schedule_id: failing.id,
      err: { message: "store unavailable" },
    });
  });

  it("logs a fire that throws before returning a promise", async () => {
    const lines: string[] = [];
    const fired: string[] = [];
    const throwing = everyMinute();
    const healthy = everyMinute();
    const ticker = new CronTicker({
      fire: (id) => {
        if (id === throwing.id) throw new Error("synchronous failure");
        fired.push(id);
        return Promise.resolve();
      },
      log: createLogger("test", {
        destination: new Writable({ write: (c, _e, cb) => cb(void lines.push(c.toString())) }),
      }),
      now: () => new Date("2026-03-02T10:00:00.050Z"),
    });
    await ticker.upsert(throwing);
    await ticker.upsert(healthy);
    await expect(ticker.tick()).resolves.toBeUndefined();
    expect(fired).toEqual([healthy.id]);
    expect(lines.join("")).toContain("synchronous failure");
  });

  it("waits in stop for the fires in flight", async () => {
    let release!: () => void;
    const finished: string[] = [];
    const ticker = new CronTicker({
      fire: async (id) => {
        await new Promise<void>((r) => (release = r));
        finished.push(id);
      },
      log: createLogger("test", { destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
      now: () => new Date("2026-03-02T10:00:30Z"),
    });
    const schedule = everyMinute();
    ticker.start([schedule]);
    const stopped = ticker.stop();
    let done = false;
    void stopped.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    release();
    await stopped;
    expect(finished).toEqual([schedule.id]);
  });

  it("with the real clock, fires the current minute at start, and stop clears its timer", async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    const clearTimeoutSpy = vi.spyOn(globalThis, "clearTimeout");
    const fired: Array<{ minute: Date; at: number }> = [];
    const ticker = new CronTicker({
      fire: async (_id, minute) => {
        fired.push({ minute, at: Date.now() });
      },
      log: createLogger("test", { destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
    });
    const before = Date.now();
    ticker.start([everyMinute()]);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.at - before).toBeLessThan(1000);
    expect(fired[0]!.minute.getTime()).toBe(Math.floor(fired[0]!.at / MINUTE) * MINUTE);
    // One timer, for the start of the next minute, that does not hold the process open.
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
    const timer = setTimeoutSpy.mock.results[0]!.value as NodeJS.Timeout;
    const delay = setTimeoutSpy.mock.calls[0]![1]!;
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(MINUTE + 50);
    expect(timer.hasRef()).toBe(false);
    await ticker.stop();
    expect(clearTimeoutSpy).toHaveBeenCalledWith(timer);
    await new Promise((r) => setTimeout(r, 150));
    expect(fired).toHaveLength(1);
  });

  it("with the real timer, ticks again at the start of the next minute", async () => {
    // A clock 100 ms before the end of a minute, running in real time.
    const offset = Date.parse("2026-03-02T10:00:59.900Z") - Date.now();
    const fired: string[] = [];
    const ticker = new CronTicker({
      fire: async (_id, minute) => {
        fired.push(minute.toISOString());
      },
      log: createLogger("test", { destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
      now: () => new Date(Date.now() + offset),
    });
    ticker.start([everyMinute()]);
    await vi.waitFor(() => expect(fired).toHaveLength(2), { timeout: 2000, interval: 20 });
    await ticker.stop();
    expect(fired).toEqual(z("2026-03-02T10:00", "2026-03-02T10:01"));
  });
});
