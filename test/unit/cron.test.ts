import { describe, expect, it } from "vitest";
import { nextRuns, validateCron, validateTimeZone } from "#core/cron.ts";
import { ValidationError } from "#core/errors.ts";

// A Saturday; New York and Berlin are still on winter time, Lord Howe on summer time (+11).
const FROM = "2026-03-07T12:34:00Z";
const z = (...times: string[]) => times.map((t) => `${t.length === 16 ? `${t}:00` : t}.000Z`);

// [expression, time zone, expected next runs (UTC), from]; comments give the local wall clock.
const VALID: Array<[string, string, string[], string?]> = [
  // Basics, strictly after `from` (the 12:34 run at `from` itself is not included).
  ["* * * * *", "UTC", z("2026-03-07T12:35", "2026-03-07T12:36", "2026-03-07T12:37")],
  ["34 12 * * *", "UTC", z("2026-03-08T12:34", "2026-03-09T12:34", "2026-03-10T12:34")],
  ["*/15 * * * *", "UTC", z("2026-03-07T12:45", "2026-03-07T13:00", "2026-03-07T13:15")],
  ["0 0 * * *", "UTC", z("2026-03-08T00:00", "2026-03-09T00:00", "2026-03-10T00:00")],
  ["0 0 1 * *", "UTC", z("2026-04-01T00:00", "2026-05-01T00:00", "2026-06-01T00:00")],
  ["0 0 1 1 *", "UTC", z("2027-01-01T00:00", "2028-01-01T00:00", "2029-01-01T00:00")],
  ["0 0 29 2 *", "UTC", z("2028-02-29T00:00", "2032-02-29T00:00", "2036-02-29T00:00")],
  // Lists, ranges, steps.
  ["5,35 9-10 * * *", "UTC", z("2026-03-08T09:05", "2026-03-08T09:35", "2026-03-08T10:05")],
  ["0 0-23/6 * * *", "UTC", z("2026-03-07T18:00", "2026-03-08T00:00", "2026-03-08T06:00")],
  ["0 0 * */3 *", "UTC", z("2026-04-01T00:00", "2026-04-02T00:00", "2026-04-03T00:00")],
  ["0 0 * * 1-5/2", "UTC", z("2026-03-09T00:00", "2026-03-11T00:00", "2026-03-13T00:00")],
  // Names, any case; 7 is Sunday like 0.
  ["0 12 * * MON-FRI", "UTC", z("2026-03-09T12:00", "2026-03-10T12:00", "2026-03-11T12:00")],
  ["0 12 * jan-mar mon", "UTC", z("2026-03-09T12:00", "2026-03-16T12:00", "2026-03-23T12:00")],
  ["0 0 * * 7", "UTC", z("2026-03-08T00:00", "2026-03-15T00:00", "2026-03-22T00:00")],
  ["0 0 * DEC SUN", "UTC", z("2026-12-06T00:00", "2026-12-13T00:00", "2026-12-20T00:00")],
  // Day-of-month and day-of-week both restricted: either matches (the 15th is a Sunday).
  ["0 0 1,15 * 1", "UTC", z("2026-03-09T00:00", "2026-03-15T00:00", "2026-03-16T00:00")],
  [
    "0 0 13 * 5",
    "UTC",
    z(
      "2026-03-13T00:00",
      "2026-03-20T00:00",
      "2026-03-27T00:00",
      "2026-04-03T00:00",
      "2026-04-10T00:00",
      "2026-04-13T00:00",
    ),
  ],
  // A step counts as a restriction: odd days OR Mondays (Vixie cron would AND these).
  [
    "0 0 */2 * 1",
    "UTC",
    z(
      "2026-03-09T00:00",
      "2026-03-11T00:00",
      "2026-03-13T00:00",
      "2026-03-15T00:00",
      "2026-03-16T00:00",
      "2026-03-17T00:00",
    ),
  ],
  // croner's `+` asks for AND: the 1st when it is a Monday.
  ["0 0 1 * +MON", "UTC", z("2026-06-01T00:00", "2027-02-01T00:00", "2027-03-01T00:00")],
  // Last day, last / nth weekday, nearest weekday (the 15th of March is a Sunday).
  ["0 0 L * *", "UTC", z("2026-03-31T00:00", "2026-04-30T00:00", "2026-05-31T00:00")],
  ["0 0 L 2 *", "UTC", z("2027-02-28T00:00", "2028-02-29T00:00", "2029-02-28T00:00")],
  ["0 0 * * 5#L", "UTC", z("2026-03-27T00:00", "2026-04-24T00:00", "2026-05-29T00:00")],
  ["0 0 * * FRI#2", "UTC", z("2026-03-13T00:00", "2026-04-10T00:00", "2026-05-08T00:00")],
  ["0 0 15W * *", "UTC", z("2026-03-16T00:00", "2026-04-15T00:00", "2026-05-15T00:00")],
  // Europe/Berlin: CET (+1), CEST (+2) from 2026-03-29 02:00 to 2026-10-25 03:00.
  ["0 9 * * *", "Europe/Berlin", z("2026-03-08T08:00", "2026-03-09T08:00", "2026-03-10T08:00")],
  // 02:30 does not exist on 03-29: runs at 03:00 CEST.
  [
    "30 2 * * *",
    "Europe/Berlin",
    z("2026-03-29T01:00", "2026-03-30T00:30", "2026-03-31T00:30"),
    "2026-03-28T12:00Z",
  ],
  // 02:30 happens twice on 10-25: runs once, at 02:30 CEST.
  [
    "30 2 * * *",
    "Europe/Berlin",
    z("2026-10-25T00:30", "2026-10-26T01:30", "2026-10-27T01:30"),
    "2026-10-24T12:00Z",
  ],
  // A step minute is an interval job: the gap is skipped on 03-29, the repeated hour runs twice on 10-25.
  [
    "*/30 2 * * *",
    "Europe/Berlin",
    z("2026-03-30T00:00", "2026-03-30T00:30", "2026-03-31T00:00", "2026-03-31T00:30"),
    "2026-03-28T12:00Z",
  ],
  [
    "*/30 2 * * *",
    "Europe/Berlin",
    z("2026-10-25T00:00", "2026-10-25T00:30", "2026-10-25T01:00", "2026-10-25T01:30", "2026-10-26T01:00"),
    "2026-10-24T12:00Z",
  ],
  // America/New_York: EST (-5), EDT (-4) from 2026-03-08 02:00 to 2026-11-01 02:00.
  ["0 9 * * 1-5", "America/New_York", z("2026-03-09T13:00", "2026-03-10T13:00", "2026-03-11T13:00")],
  // 02:30 on 03-08 does not exist: runs at 03:00 EDT.
  ["30 2 * * *", "America/New_York", z("2026-03-08T07:00", "2026-03-09T06:30", "2026-03-10T06:30")],
  // A list is a fixed-time job too (fixedTimeRule "no-wildcard"): 14:30 EST, 03:00 EDT, 14:30 EDT.
  ["30 2,14 * * *", "America/New_York", z("2026-03-07T19:30", "2026-03-08T07:00", "2026-03-08T18:30")],
  // Every 30 minutes straight through the gap: 01:30 EST, then 03:00 EDT.
  [
    "*/30 * * * *",
    "America/New_York",
    z("2026-03-08T06:30", "2026-03-08T07:00", "2026-03-08T07:30"),
    "2026-03-08T06:00Z",
  ],
  // 01:30 on 11-01 happens twice: runs once, at 01:30 EDT (05:30Z), not again at 01:30 EST (06:30Z).
  [
    "30 1 * * *",
    "America/New_York",
    z("2026-11-01T05:30", "2026-11-02T06:30", "2026-11-03T06:30"),
    "2026-10-31T12:34Z",
  ],
  [
    "30 1,13 * * *",
    "America/New_York",
    z("2026-10-31T17:30", "2026-11-01T05:30", "2026-11-01T18:30", "2026-11-02T06:30"),
    "2026-10-31T12:34Z",
  ],
  // An interval job runs in both passes of the repeated hour: 01:00, 01:30 EDT, 01:00, 01:30 EST.
  [
    "*/30 1 * * *",
    "America/New_York",
    z("2026-11-01T05:00", "2026-11-01T05:30", "2026-11-01T06:00", "2026-11-01T06:30", "2026-11-02T06:00"),
    "2026-10-31T12:34Z",
  ],
  // Asia/Kolkata: +05:30 all year.
  ["0 9 * * *", "Asia/Kolkata", z("2026-03-08T03:30", "2026-03-09T03:30", "2026-03-10T03:30")],
  ["30 23 * * *", "Asia/Kolkata", z("2026-03-07T18:00", "2026-03-08T18:00", "2026-03-09T18:00")],
  ["0 0 1 * *", "Asia/Kolkata", z("2026-03-31T18:30", "2026-04-30T18:30", "2026-05-31T18:30")],
  // Australia/Lord_Howe: a half-hour shift. +11 until 2026-04-05 02:00, then +10:30, and from
  // 2026-10-04 02:00 (which becomes 02:30) +11 again.
  ["0 12 * * *", "Australia/Lord_Howe", z("2026-03-08T01:00", "2026-03-09T01:00", "2026-03-10T01:00")],
  // 01:45 happens twice on 04-05: once, at 01:45 +11.
  [
    "45 1 * * *",
    "Australia/Lord_Howe",
    z("2026-04-04T14:45", "2026-04-05T15:15", "2026-04-06T15:15"),
    "2026-04-04T00:00Z",
  ],
  // 02:15 does not exist on 10-04: runs at 02:30 +11.
  [
    "15 2 * * *",
    "Australia/Lord_Howe",
    z("2026-10-03T15:30", "2026-10-04T15:15", "2026-10-05T15:15"),
    "2026-10-03T00:00Z",
  ],
  // 01:30 and 01:45 run in both passes (+11, then +10:30).
  [
    "*/15 1 * * *",
    "Australia/Lord_Howe",
    z("2026-04-04T14:00", "2026-04-04T14:15", "2026-04-04T14:30", "2026-04-04T14:45", "2026-04-04T15:00"),
    "2026-04-04T13:00Z",
  ],
  [
    "*/15 1 * * *",
    "Australia/Lord_Howe",
    z("2026-04-04T15:15", "2026-04-05T14:30", "2026-04-05T14:45"),
    "2026-04-04T15:00Z",
  ],
];

const INVALID_CRON: Array<[string, string]> = [
  ["0 0 0 * * *", "must have 5 fields (minute hour day-of-month month day-of-week); got 6"],
  ["0 0 0 * * * 2027", "got 7"],
  ["0 0 * *", "got 4"],
  ["", "got 0"],
  ["@daily", "macros such as @daily are not supported"],
  ["@reboot", "macros"],
  ["61 * * * *", "minute 61 is out of range 0-59"],
  ["0 24 * * *", "hour 24 is out of range 0-23"],
  ["0 0 32 * *", "day-of-month 32 is out of range 1-31"],
  ["0 0 0 * *", "day-of-month 0 is out of range 1-31"],
  ["0 0 1 13 *", "month 13 is out of range 1-12"],
  ["0 0 * * 8", "day-of-week 8 is out of range 0-7"],
  ["0 0 1-5,40W * *", "day-of-month 40 is out of range"],
  ["0\t0 * * *", "control character (U+0009)"],
  ["0 0 * * *\n", "control character (U+000A)"],
  ["0\u00a00 * * *", "non-ASCII character (U+00A0)"],
  [`0 0 ${"1,".repeat(100)}2 * *`, "longer than 200 characters"],
  ["a b c d e", "minute (a) contains illegal characters"],
  ["0 0 * FOO *", "month (FOO) contains illegal characters"],
  ["0 0 * MON *", "month (MON) contains illegal characters"],
  ["0 0 * * MONDAY", "a month or day name has to stand alone"],
  ["5-1 * * * *", "From value is larger than to value: '5-1'"],
  ["5/15 * * * *", "stepping with numeric prefix"],
  ["*/0 * * * *", "illegal stepping: 0"],
  ["0 */25 * * *", "steps cannot be greater than maximum value"],
  ["0 0 * * MON,", "day-of-week has an empty list item"],
  ["0 0 * * 1#6", "nth weekday out of range"],
  ["0 0 30 2 *", "never runs"],
  ["0 0 31 4,6,9,11 *", "never runs"],
];

const INVALID_TZ = [
  "",
  "Mars/Olympus",
  "+05:00",
  "-0500",
  "../etc",
  "Europe//Berlin",
  "UTC+1",
  "Z",
  "x".repeat(80),
];

function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error("expected a ValidationError");
}

describe("cron", () => {
  it.each(VALID)("%s in %s runs at the expected times", (expression, tz, expected, from = FROM) => {
    expect(() => validateCron(expression)).not.toThrow();
    expect(nextRuns(expression, tz, expected.length, new Date(from))).toEqual(expected);
  });

  it("has the table the brief asks for", () => {
    expect(VALID.length).toBeGreaterThanOrEqual(30);
    expect(INVALID_CRON.length + INVALID_TZ.length).toBeGreaterThanOrEqual(15);
  });

  it("reads 0, 7 and SUN alike, and tolerates extra spaces", () => {
    const sundays = nextRuns("0 0 * * 0", "UTC", 3, new Date(FROM));
    expect(nextRuns("0 0 * * 7", "UTC", 3, new Date(FROM))).toEqual(sundays);
    expect(nextRuns("0 0 * * sun", "UTC", 3, new Date(FROM))).toEqual(sundays);
    expect(nextRuns("  0  0 * *   SUN ", "UTC", 3, new Date(FROM))).toEqual(sundays);
  });

  it.each(INVALID_CRON)("rejects %j: %s", (expression, reason) => {
    const error = validationError(() => validateCron(expression));
    expect(error.field).toBe("cron_expression");
    expect(error.message).toContain(reason);
    expect(error.message).not.toContain("CronPattern");
  });

  it.each([
    "UTC",
    "Etc/UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Calcutta",
    "Australia/Lord_Howe",
    "America/Argentina/Buenos_Aires",
    "America/Port-au-Prince",
    "Etc/GMT+5",
  ])("accepts the time zone %s", (tz) => expect(() => validateTimeZone(tz)).not.toThrow());

  it.each(INVALID_TZ)("rejects the time zone %j", (tz) => {
    const error = validationError(() => validateTimeZone(tz));
    expect(error.field).toBe("timezone");
    expect(error.message).toContain("is not an IANA time zone name");
  });

  it("validates every input of nextRuns", () => {
    expect(validationError(() => nextRuns("61 * * * *", "UTC", 1)).field).toBe("cron_expression");
    expect(validationError(() => nextRuns("* * * * *", "+05:00", 1)).field).toBe("timezone");
    for (const count of [0, 1.5, 1001]) {
      expect(validationError(() => nextRuns("* * * * *", "UTC", count)).field).toBe("count");
    }
    expect(() => nextRuns("* * * * *", "UTC", 1, new Date("nope"))).toThrow(RangeError);
  });

  it("counts from now by default and drops milliseconds of `from`", () => {
    const before = Date.now();
    const [next] = nextRuns("* * * * *", "UTC", 1);
    expect(Date.parse(next!)).toBeGreaterThan(before);
    expect(Date.parse(next!) - before).toBeLessThanOrEqual(60_000);
    expect(nextRuns("* * * * *", "UTC", 1, new Date("2026-03-07T12:34:00.500Z"))).toEqual(
      z("2026-03-07T12:35"),
    );
    expect(nextRuns("* * * * *", "UTC", 1, new Date("2026-03-07T12:33:59.999Z"))).toEqual(
      z("2026-03-07T12:34"),
    );
  });

  it("returns fewer runs only past croner's horizon (it searches up to the year 3000)", () => {
    expect(nextRuns("0 0 1 1 *", "UTC", 3, new Date("2998-06-01T00:00:00Z"))).toEqual([
      "2999-01-01T00:00:00.000Z",
    ]);
  });
});
