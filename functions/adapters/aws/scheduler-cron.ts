// Our 5-field cron (croner, see cron.ts) as EventBridge Scheduler's `cron(...)` expression. Pure: no AWS here.
//
// EventBridge cron (Quartz-like): `cron(minutes hours day-of-month month day-of-week year)`; day-of-week
// is 1-7 = SUN-SAT; exactly one of day-of-month / day-of-week is `?`; `/` means "from a, every n" (`0/15`);
// day-of-month also takes `L`, `LW` and `nW`, day-of-week `nL` and `n#k`, and a `#` (or `L`) day must be
// the field's only item. What it cannot say, we refuse with a reason rather than guess:
// - both days restricted: cron runs on either (OR), EventBridge cannot combine them at all;
// - croner's `+` (day-of-month AND day-of-week) with both restricted, for the same reason;
// - `#`/`L` on a range, step or `*`, or next to other days; `L`/`W` of day-of-month in a list.
// Everything else is rewritten to the same set of times (test/unit/scheduler-cron.test.ts checks the
// run times of both forms). Day-of-week numbers move up by one and Sunday is 0 or 7, so a range through
// 7 would wrap (`5-7` is Fri-Sun); the field is therefore rebuilt from its set of days, and a step
// (`*/2`) becomes an explicit list (`1,3,5,7`), as AWS documents no `/` for day-of-week. Elsewhere `*/n`
// becomes `min/n`, and a stepped range `a/n` when it runs to the field's end, else its list of values.
import { validateCron, validateTimeZone } from "#core/cron.ts";
import { ValidationError } from "#core/errors.ts";

/** EventBridge Scheduler's limits on ScheduleExpression and ScheduleExpressionTimezone. */
export const SCHEDULER_EXPRESSION_MAX = 256;
const SCHEDULER_TIMEZONE_MAX = 50;

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
/** Index = croner's day number (0 = Sunday); EventBridge's number is index + 1. */
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface NumericField {
  name: string;
  min: number;
  max: number;
  /** Names for min, min+1, ... (months). */
  names?: readonly string[];
}
const MINUTE: NumericField = { name: "minute", min: 0, max: 59 };
const HOUR: NumericField = { name: "hour", min: 0, max: 23 };
const DAY_OF_MONTH: NumericField = { name: "day-of-month", min: 1, max: 31 };
const MONTH: NumericField = { name: "month", min: 1, max: 12, names: MONTHS };

function refuse(reason: string): never {
  throw new ValidationError("cron_expression", reason);
}

function cannotConvert(field: string, item: string): never {
  refuse(`${field} item ${JSON.stringify(item)} cannot be converted for EventBridge Scheduler`);
}

/** A number or (where the field has names) a name, as a number. */
function numberOf(field: NumericField, token: string): number | undefined {
  if (/^\d+$/.test(token)) return Number(token);
  const index = field.names?.indexOf(token) ?? -1;
  return index >= 0 ? field.min + index : undefined;
}

function stepValues(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) values.push(v);
  return values;
}

/** The values of a step, in EventBridge's form: `a/n` when it runs to the end of the field. */
function stepText(values: number[], step: number, max: number): string {
  if (values.length === 1) return String(values[0]);
  if (values.at(-1)! + step > max) return `${values[0]}/${step}`;
  return values.join(",");
}

/** Minute, hour, month and the plain items of day-of-month: same numbers, steps rewritten. */
function convertItem(field: NumericField, item: string): string {
  if (item === "*") return "*";
  let match = /^\*\/(\d+)$/.exec(item);
  if (match) {
    const step = Number(match[1]);
    return step === 1 ? "*" : stepText(stepValues(field.min, field.max, step), step, field.max);
  }
  match = /^(\w+)-(\w+)\/(\d+)$/.exec(item);
  if (match) {
    const from = numberOf(field, match[1]!);
    const to = numberOf(field, match[2]!);
    const step = Number(match[3]);
    if (from === undefined || to === undefined || step < 1) cannotConvert(field.name, item);
    return stepText(stepValues(from, to, step), step, field.max);
  }
  match = /^(\w+)-(\w+)$/.exec(item);
  if (match) {
    const [, fromText, toText] = match as unknown as [string, string, string];
    const from = numberOf(field, fromText);
    const to = numberOf(field, toText);
    if (from === undefined || to === undefined) cannotConvert(field.name, item);
    // Names stay names when both ends are names (JAN-MAR), else both become numbers.
    const named = !/\d/.test(fromText) && !/\d/.test(toText);
    if (from === to) return named ? fromText : String(from);
    return named ? `${fromText}-${toText}` : `${from}-${to}`;
  }
  const value = numberOf(field, item);
  if (value === undefined) cannotConvert(field.name, item);
  return /^\d+$/.test(item) ? String(value) : item;
}

function convertList(field: NumericField, text: string): string {
  const items = text.split(",").map((item) => convertItem(field, item));
  return items.includes("*") ? "*" : items.join(",");
}

function convertDayOfMonth(text: string): string {
  const items = text.split(",");
  const special = items.find((item) => /[LW]/.test(item));
  if (special === undefined) return convertList(DAY_OF_MONTH, text);
  if (items.length > 1) {
    refuse(
      `day-of-month: EventBridge Scheduler takes ${special.includes("W") ? "W" : "L"} only as the field's one item, not in a list (${text})`,
    );
  }
  if (special === "L" || special === "LW") return special;
  const match = /^(\d+)W$/.exec(special);
  if (!match) cannotConvert("day-of-month", special);
  return `${Number(match[1])}W`;
}

/** One croner day (a number 0-7 or a name) as croner's 0-6; `isRangeEnd` because croner reads `-SUN` as 7. */
function cronerDay(token: string, isRangeEnd = false): number | undefined {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    return n <= 7 ? n : undefined;
  }
  const index = DAYS.indexOf(token);
  if (index < 0) return undefined;
  return index === 0 && isRangeEnd ? 7 : index;
}

/** The croner days (0-6) of one plain day-of-week item. */
function daysOfItem(item: string): number[] {
  const fail = () => cannotConvert("day-of-week", item);
  const stepped = /^(?:\*|(\w+)-(\w+))\/(\d+)$/.exec(item);
  const range = /^(\w+)-(\w+)$/.exec(item);
  let values: number[];
  if (item === "*") {
    values = [0, 1, 2, 3, 4, 5, 6];
  } else if (stepped) {
    const step = Number(stepped[3]);
    const from = stepped[1] === undefined ? 0 : cronerDay(stepped[1]);
    const to = stepped[2] === undefined ? 6 : cronerDay(stepped[2], true);
    if (from === undefined || to === undefined || step < 1) fail();
    values = stepValues(from!, to!, step);
  } else if (range) {
    const from = cronerDay(range[1]!);
    const to = cronerDay(range[2]!, true);
    if (from === undefined || to === undefined) fail();
    values = stepValues(from!, to!, 1);
  } else {
    const day = cronerDay(item);
    if (day === undefined) fail();
    values = [day!];
  }
  return values.map((d) => d % 7);
}

/** EventBridge days (1-7) as a list with runs of three or more as ranges. */
function dayListText(ebDays: number[], named: boolean): string {
  const label = (d: number) => (named ? DAYS[d - 1]! : String(d));
  const parts: string[] = [];
  for (let i = 0; i < ebDays.length; ) {
    let j = i;
    while (j + 1 < ebDays.length && ebDays[j + 1] === ebDays[j]! + 1) j++;
    const [first, last] = [ebDays[i]!, ebDays[j]!];
    if (j - i >= 2) parts.push(`${label(first)}-${label(last)}`);
    else for (let k = i; k <= j; k++) parts.push(label(ebDays[k]!));
    i = j + 1;
  }
  return parts.join(",");
}

function convertDayOfWeek(text: string): string {
  const items = text.split(",");
  const nth = items.find((item) => /[#L]/.test(item));
  if (nth !== undefined) {
    if (items.length > 1) {
      refuse(
        `day-of-week: EventBridge Scheduler takes a # or L day only as the field's one item, not in a list (${text})`,
      );
    }
    // `5#2`, `FRI#2`: the 2nd Friday; `5#L`, `5L`, `FRIL`: the last Friday.
    const match = /^(\w+?)(?:#(\d+)|#?(L))$/.exec(nth);
    const day = match ? cronerDay(match[1]!) : undefined;
    if (!match || day === undefined) {
      refuse(`day-of-week: EventBridge Scheduler takes # and L only after a single day, not ${nth}`);
    }
    const ebDay = (day % 7) + 1;
    if (match[3] !== undefined) return `${ebDay}L`;
    const n = Number(match[2]);
    if (n < 1 || n > 5) cannotConvert("day-of-week", nth);
    return `${ebDay}#${n}`;
  }
  const days = new Set(items.flatMap(daysOfItem));
  const ebDays = [...days].map((d) => d + 1).sort((a, b) => a - b);
  // Names stay names when the field had only names and name ranges (MON-FRI), else numbers.
  const named = items.every((item) => /^[A-Z]{3}(-[A-Z]{3})?$/.test(item));
  return dayListText(ebDays, named);
}

/**
 * The EventBridge Scheduler form of a 5-field cron expression, or ValidationError("cron_expression")
 * when the expression is invalid (validateCron) or has no EventBridge equivalent (the reason says why).
 */
export function toSchedulerCron(expression: string): string {
  validateCron(expression);
  // croner reads `?` as `*` in every field; names and L/W in any case.
  const fields = expression.trim().toUpperCase().replaceAll("?", "*").split(/ +/);
  const [minute, hour, dayOfMonth, month, rawDayOfWeek] = fields as [string, string, string, string, string];
  const andDays = rawDayOfWeek.startsWith("+");
  const dayOfWeek = andDays ? rawDayOfWeek.slice(1) : rawDayOfWeek;

  let dom: string;
  let dow: string;
  if (dayOfWeek === "*") {
    dom = convertDayOfMonth(dayOfMonth);
    dow = "?";
  } else if (dayOfMonth === "*") {
    dom = "?";
    dow = convertDayOfWeek(dayOfWeek);
  } else if (andDays) {
    refuse(
      "EventBridge Scheduler cannot run on day-of-month AND day-of-week (croner's +) in one schedule; use one of them",
    );
  } else {
    refuse(
      "EventBridge Scheduler cannot run on day-of-month OR day-of-week in one schedule; use one of them",
    );
  }
  const result = `cron(${convertList(MINUTE, minute)} ${convertList(HOUR, hour)} ${dom} ${convertList(MONTH, month)} ${dow} *)`;
  if (result.length > SCHEDULER_EXPRESSION_MAX) {
    refuse(
      `is ${result.length} characters once written for EventBridge Scheduler, over its limit of ${SCHEDULER_EXPRESSION_MAX}; simplify it`,
    );
  }
  return result;
}

let zoneNames: Map<string, string> | undefined;

/**
 * The time zone as EventBridge Scheduler wants it: an exact IANA name. croner and Intl take names in any
 * case (`utc`, `europe/berlin`), Scheduler does not, so a name is given the case of the runtime's list
 * (plus "UTC"); an alias outside that list (`Asia/Kolkata`, `US/Eastern`, `Etc/UTC`) becomes the zone
 * Intl resolves it to, an equivalent IANA name. ValidationError("timezone") unless validateTimeZone
 * accepts it and the result fits Scheduler's 50 characters.
 */
export function schedulerTimezone(tz: string): string {
  validateTimeZone(tz);
  zoneNames ??= new Map(
    [...Intl.supportedValuesOf("timeZone"), "UTC"].map((name) => [name.toLowerCase(), name]),
  );
  let name = zoneNames.get(tz.toLowerCase());
  if (name === undefined) {
    // Not in the list (an alias, or Etc/*): Intl's resolved name, which has the right case.
    const resolved = new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
    name = zoneNames.get(resolved.toLowerCase()) ?? resolved;
  }
  if (name.length > SCHEDULER_TIMEZONE_MAX) {
    throw new ValidationError(
      "timezone",
      `${JSON.stringify(name)} is longer than EventBridge Scheduler's ${SCHEDULER_TIMEZONE_MAX} characters`,
    );
  }
  return name;
}
