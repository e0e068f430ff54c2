// The cron builder's model: presets <-> 5-field expressions, and the live checks and preview. The
// validators and nextRuns are the API's own (functions/core/cron.ts), so what the form accepts and
// the run times it shows are what the server will accept and run.
import { toString as cronToWords } from "cronstrue";
import { nextRuns, validateCron, validateTimeZone } from "../../../../functions/core/cron.ts";
import { ValidationError } from "../../../../functions/core/errors.ts";

export type Preset = "hourly" | "daily" | "weekdays" | "weekly" | "monthly" | "custom";

export const PRESETS: { value: Preset; label: string }[] = [
  { value: "hourly", label: "Every hour at minute M" },
  { value: "daily", label: "Every day at HH:MM" },
  { value: "weekdays", label: "Weekdays (Mon–Fri) at HH:MM" },
  { value: "weekly", label: "Weekly on a day at HH:MM" },
  { value: "monthly", label: "Monthly on day D at HH:MM" },
  { value: "custom", label: "Custom expression" },
];

export const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** The preset's inputs, kept as typed (strings) so a half-typed number is not lost. */
export interface Parts {
  minute: string;
  hour: string;
  weekday: string;
  day: string;
}

export const DEFAULT_PARTS: Parts = { minute: "0", hour: "2", weekday: "1", day: "1" };

const RANGES = { minute: [0, 59], hour: [0, 23], weekday: [0, 6], day: [1, 31] } as const;

/** Which parts a preset uses. */
export function partsOf(preset: Preset): (keyof Parts)[] {
  switch (preset) {
    case "hourly":
      return ["minute"];
    case "daily":
    case "weekdays":
      return ["hour", "minute"];
    case "weekly":
      return ["weekday", "hour", "minute"];
    case "monthly":
      return ["day", "hour", "minute"];
    case "custom":
      return [];
  }
}

/** A message when a part is not a whole number in its range. */
export function partError(part: keyof Parts, value: string): string | undefined {
  const [min, max] = RANGES[part];
  const n = Number(value);
  if (!/^\d{1,2}$/.test(value.trim()) || n < min || n > max)
    return `Enter a whole number from ${min} to ${max}`;
  return undefined;
}

/** The preset's expression, or null while one of its parts is invalid. */
export function expressionOf(preset: Preset, parts: Parts): string | null {
  if (preset === "custom") return null;
  if (partsOf(preset).some((p) => partError(p, parts[p]))) return null;
  const n = (p: keyof Parts) => String(Number(parts[p]));
  switch (preset) {
    case "hourly":
      return `${n("minute")} * * * *`;
    case "daily":
      return `${n("minute")} ${n("hour")} * * *`;
    case "weekdays":
      return `${n("minute")} ${n("hour")} * * 1-5`;
    case "weekly":
      return `${n("minute")} ${n("hour")} * * ${n("weekday")}`;
    case "monthly":
      return `${n("minute")} ${n("hour")} ${n("day")} * *`;
  }
}

const NUMBER = /^\d{1,2}$/;

/** Recognises an expression one of the presets writes, so Edit opens on the right preset. */
export function detectPreset(expression: string): { preset: Preset; parts: Parts } {
  const fields = expression.trim().split(/\s+/);
  const custom = { preset: "custom" as const, parts: DEFAULT_PARTS };
  if (fields.length !== 5) return custom;
  const [minute, hour, day, month, weekday] = fields as [string, string, string, string, string];
  const inRange = (part: keyof Parts, value: string) => NUMBER.test(value) && !partError(part, value);
  if (!inRange("minute", minute) || month !== "*") return custom;
  const parts = (p: Partial<Parts>): Parts => ({ ...DEFAULT_PARTS, minute: String(Number(minute)), ...p });
  if (hour === "*" && day === "*" && weekday === "*") return { preset: "hourly", parts: parts({}) };
  if (!inRange("hour", hour)) return custom;
  const h = String(Number(hour));
  if (day === "*" && weekday === "*") return { preset: "daily", parts: parts({ hour: h }) };
  if (day === "*" && weekday === "1-5") return { preset: "weekdays", parts: parts({ hour: h }) };
  if (day === "*" && inRange("weekday", weekday)) {
    return { preset: "weekly", parts: parts({ hour: h, weekday: String(Number(weekday)) }) };
  }
  if (weekday === "*" && inRange("day", day)) {
    return { preset: "monthly", parts: parts({ hour: h, day: String(Number(day)) }) };
  }
  return custom;
}

function reasonOf(error: unknown): string {
  if (error instanceof ValidationError) return error.reason;
  return error instanceof Error ? error.message : String(error);
}

/** The validator's message for the expression, or undefined when the API will accept it. */
export function cronError(expression: string): string | undefined {
  try {
    validateCron(expression);
    return undefined;
  } catch (error) {
    return reasonOf(error);
  }
}

export function timeZoneError(timezone: string): string | undefined {
  if (!timezone.trim()) return "Choose a time zone";
  try {
    validateTimeZone(timezone);
    return undefined;
  } catch (error) {
    return reasonOf(error);
  }
}

/** The expression in words (24-hour clock), or null when cronstrue cannot describe it. */
export function inWords(expression: string): string | null {
  try {
    return cronToWords(expression.trim(), { use24HourTimeFormat: true, throwExceptionOnParseError: true });
  } catch {
    return null;
  }
}

/** The next `count` runs, or [] while the expression or the zone is invalid. */
export function upcoming(expression: string, timezone: string, count = 5): string[] {
  try {
    return nextRuns(expression, timezone, count);
  } catch {
    return [];
  }
}

/** The browser's own zone: the form's default. */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

let zones: string[] | undefined;
/** Every IANA zone this browser knows, plus UTC (ICU's list leaves it out). */
export function timeZones(): string[] {
  zones ??= ["UTC", ...Intl.supportedValuesOf("timeZone").filter((z) => z !== "UTC")];
  return zones;
}

/** What the builder edits: the preset with its parts, and the expression they write (or the user typed). */
export interface CronState {
  preset: Preset;
  parts: Parts;
  expression: string;
}

export function cronStateOf(expression: string): CronState {
  return { ...detectPreset(expression), expression };
}

/** The messages that keep the form from being sent: a bad part, expression or zone. */
export function cronStateErrors(state: CronState, timezone: string) {
  const parts: Partial<Record<keyof Parts, string>> = {};
  for (const part of partsOf(state.preset)) {
    const message = partError(part, state.parts[part]);
    if (message) parts[part] = message;
  }
  return { parts, expression: cronError(state.expression), timezone: timeZoneError(timezone) };
}
