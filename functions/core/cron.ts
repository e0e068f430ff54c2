// Schedules' cron: standard 5-field expressions (minute hour day-of-month month day-of-week) evaluated
// in an IANA time zone, on croner. Everything that validates or computes run times goes through here.
//
// Semantics, as croner 11 gives them with OPTIONS below (test/unit/cron.test.ts pins each one):
// - Day-of-month and day-of-week both restricted: a day matches when EITHER does (Vixie/POSIX). A
//   step counts as a restriction, so `0 0 */2 * 1` is odd days OR Mondays (Vixie would AND it).
// - DST: a job with no `*` or step in minute and hour is a fixed-time job. A time that does not exist
//   runs at the end of the gap (New York 2026-03-08 02:30 runs at 03:00 EDT, 07:00Z); a time that
//   happens twice runs once, at the first pass (2026-11-01 01:30 runs at 01:30 EDT, 05:30Z, not EST).
//   Jobs with `*` or a step (`*/30 * * * *`) skip times in a gap and run on both passes of a repeated
//   hour. EventBridge Scheduler instead skips gap times for every job, so on a spring-forward day the
//   times shown here can differ from what AWS runs.
import { Cron, type CronOptions } from "croner";
import { ValidationError } from "./errors.ts";

const OPTIONS: CronOptions = {
  mode: "5-part",
  // OR for a restricted day-of-month and day-of-week: croner's default, stated because it is what we
  // promise, and legacyMode, croner's older switch for it, is deprecated.
  domAndDow: false,
  // Lists and ranges (`30 2,14 * * *`) are fixed-time jobs as in Vixie cron, so a backup at a
  // skipped time still runs that day and a repeated time does not back up twice.
  fixedTimeRule: "no-wildcard",
};
const FIELDS = [
  ["minute", 0, 59],
  ["hour", 0, 23],
  ["day-of-month", 1, 31],
  ["month", 1, 12],
  ["day-of-week", 0, 7],
] as const;
// croner numbers its entries with the seconds field first, and names some fields its own way.
const CRONER_NAMES: Record<string, string> = {
  "configuration entry 1": "minute",
  "configuration entry 2": "hour",
  "configuration entry 3": "day-of-month",
  "configuration entry 4": "month",
  "configuration entry 5": "day-of-week",
  "configuration entry minute": "minute",
  "configuration entry hour": "hour",
  "configuration entry day": "day-of-month",
  "configuration entry month": "month",
  "configuration entry dayOfWeek": "day-of-week",
  dayOfWeek: "day-of-week",
  nearestWeekdays: "day-of-month",
};
const MAX_LENGTH = 200;
const MAX_COUNT = 1000;

function invalid(reason: string): never {
  throw new ValidationError("cron_expression", reason);
}

function cronerReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(/^CronPattern: (Syntax error, )?/, "")
    .replace(
      /configuration entry \w+|\bdayOfWeek\b|\bnearestWeekdays\b/,
      (name) => CRONER_NAMES[name] ?? name,
    )
    .replace(" () is empty, check for trailing spaces.", " has an empty list item");
}

/** Throws ValidationError("cron_expression", reason) unless the expression is a 5-field cron that can run. */
export function validateCron(expression: string): void {
  if (expression.length > MAX_LENGTH) invalid(`is longer than ${MAX_LENGTH} characters`);
  const odd = /[^\x20-\x7e]/.exec(expression)?.[0];
  if (odd !== undefined) {
    const code = `U+${odd.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
    invalid(`contains ${/\p{Cc}/u.test(odd) ? "a control" : "a non-ASCII"} character (${code})`);
  }
  const text = expression.trim();
  // croner expands @daily and friends, but they are not part of the stored 5-field form.
  if (text.startsWith("@")) invalid("macros such as @daily are not supported; write the 5 fields");
  const fields = text === "" ? [] : text.split(/ +/);
  if (fields.length !== 5) {
    invalid(`must have 5 fields (minute hour day-of-month month day-of-week); got ${fields.length}`);
  }
  // Our own range check: croner reports some values off by one ("day: 31" for 32).
  fields.forEach((field, i) => {
    const [name, min, max] = FIELDS[i]!;
    for (const item of field.split(",")) {
      // Digits after `/` are a step and after `#` the nth weekday; croner checks those itself.
      for (const digits of item.split(/[/#]/)[0]!.match(/\d+/g) ?? []) {
        const n = Number(digits);
        if (n < min || n > max) invalid(`${name} ${digits} is out of range ${min}-${max}`);
      }
    }
  });
  let cron: Cron;
  try {
    cron = new Cron(text, OPTIONS);
  } catch (error) {
    invalid(cronerReason(error));
  }
  // Such as `0 0 30 2 *`: valid fields that no date matches (croner searches up to the year 3000).
  if (cron.nextRun() === null) invalid("never runs: no date matches it");
}

/** Throws ValidationError("timezone", reason) unless `tz` is an IANA time zone name this runtime knows. */
export function validateTimeZone(tz: string): void {
  // ICU's list has only its own canonical names (no "UTC"; "Asia/Calcutta" but not "Asia/Kolkata"), so
  // a name Intl accepts is good too, if it looks like an IANA name: Intl also takes offsets ("+05:00").
  if (Intl.supportedValuesOf("timeZone").includes(tz)) return;
  if (tz.length <= 64 && /^[A-Za-z][\w+-]*(\/[A-Za-z][\w+-]*)*$/.test(tz)) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
      return;
    } catch {
      // falls through to the error below
    }
  }
  throw new ValidationError("timezone", `${JSON.stringify(tz.slice(0, 64))} is not an IANA time zone name`);
}

/**
 * A croner job for the expression in the time zone, with the options above: what `nextRuns` uses, for
 * callers that ask for run times often (the local mode ticker). ValidationError as the validators.
 */
export function cronFor(expression: string, timezone: string): Cron {
  validateCron(expression);
  validateTimeZone(timezone);
  return new Cron(expression.trim(), { ...OPTIONS, timezone });
}

/** The next `count` runs strictly after `from`, as UTC ISO strings (fewer only near the year 3000). */
export function nextRuns(expression: string, timezone: string, count: number, from = new Date()): string[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    throw new ValidationError("count", `must be an integer from 1 to ${MAX_COUNT}`);
  }
  if (Number.isNaN(from.getTime())) throw new RangeError("nextRuns: from is an invalid Date");
  return cronFor(expression, timezone)
    .nextRuns(count, from)
    .map((d) => d.toISOString());
}

/** The last `count` runs at or before `at`, newest first, as UTC ISO strings (fewer near the epoch). */
export function previousRuns(expression: string, timezone: string, count: number, at = new Date()): string[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    throw new ValidationError("count", `must be an integer from 1 to ${MAX_COUNT}`);
  }
  if (Number.isNaN(at.getTime())) throw new RangeError("previousRuns: at is an invalid Date");
  // croner's reference is exclusive: a run exactly at `at` counts, so look from just after it.
  return cronFor(expression, timezone)
    .previousRuns(count, new Date(at.getTime() + 1))
    .map((d) => d.toISOString());
}
