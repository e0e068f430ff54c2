// The targets and whether each holds, and the number and table formatting summary.ts and tables.ts
// use. Pure functions: test/unit/bench-logic.test.ts checks them.
import { median, ratio, round, toMiB } from "./stats.ts";

export interface Target {
  name: string;
  /** The measured value and the limit it is held to, in the same unit. */
  value: number;
  limit: number;
  /** How the value must compare with the limit to pass. */
  op: "<=" | ">=";
  unit: string;
  pass: boolean;
  /** Why it misses, when the cause is known and lies outside the engine. */
  note?: string;
}

export function target(name: string, value: number, limit: number, unit: string, note?: string): Target {
  const pass = Number.isFinite(value) && value <= limit;
  return { name, value: round(value, 3), limit, op: "<=", unit, pass, ...(note && !pass ? { note } : {}) };
}

/** A target where more is better (throughput): passes when value >= limit. */
export function floorTarget(name: string, value: number, limit: number, unit: string): Target {
  const pass = Number.isFinite(value) && value >= limit;
  return { name, value: round(value, 3), limit, op: ">=", unit, pass };
}

export const mb = (bytes: number) => toMiB(bytes, 1);
export const medianMs = (samples: readonly { ms: number }[]) => round(median(samples.map((s) => s.ms)), 1);
export const medianRssMb = (samples: readonly { peakRss: number }[]) =>
  mb(median(samples.map((s) => s.peakRss)));
/** Throughput in MB/s (10^6 bytes) of `bytes` in `ms`. */
export const mbPerS = (bytes: number, ms: number) =>
  ms > 0 ? round(bytes / 1e6 / (ms / 1000), 1) : Number.NaN;
export { ratio };

/** Rows of cells as a fixed-width table: the first row is the header. */
export function formatTable(rows: readonly (readonly (string | number)[])[]): string {
  const text = rows.map((r) => r.map((c) => (typeof c === "number" ? formatNumber(c) : c)));
  const widths = text[0]?.map((_, i) => Math.max(...text.map((r) => (r[i] ?? "").length))) ?? [];
  const line = (r: readonly string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  const [header, ...body] = text;
  if (!header) return "";
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return "n/a";
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
}

export function formatTargets(targets: readonly Target[]): string {
  const rows = targets.map((t) => [
    t.name,
    `${formatNumber(t.value)} ${t.unit}`,
    `${t.op} ${formatNumber(t.limit)} ${t.unit}`,
    t.pass ? "PASS" : "MISS",
  ]);
  const table = formatTable([["target", "measured", "limit", "verdict"], ...rows]);
  const notes = targets.filter((t) => t.note).map((t) => `  ${t.name}: ${t.note}`);
  return notes.length > 0 ? `${table}\n\nWhy a target misses:\n${notes.join("\n")}` : table;
}
