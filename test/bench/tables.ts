// The readable tables of one run's summary: a table per section, then the targets with their verdicts.
import { formatCeiling } from "./ceiling-report.ts";
import { formatTable, formatTargets, type Target } from "./report.ts";
import { type Summary, stores } from "./summary.ts";

/** One cell for a measurement at both sizes: "small / large". */
const pair = (small: number, large: number) => `${small} / ${large}`;

/**
 * The restore table: wall time and ratio, and CPU seconds, which a loaded machine barely moves: the
 * engine's own (its tool excluded) and the tool's, alone or under the engine.
 */
export function formatRestore(r: Summary["restore"]): string {
  const table = formatTable([
    ["restore (large)", "ms", "ratio", "peak RSS MiB", "engine CPU s", "mongorestore CPU s"],
    ["mongorestore --archive=file", r.baseline_ms, 1, Number.NaN, "", r.baseline_cpu_s],
    ...stores.map((k) => [`engine <- ${k}`, r[k].ms, r[k].ratio, r[k].rss_mb, r[k].cpu_s, r[k].tool_cpu_s]),
  ]);
  const names = ["start_ms", "claim_ms", "prepare_ms", "verify_ms", "restore_ms", "record_ms"];
  if (!stores.some((k) => Object.keys(r[k].stages_ms).length > 0)) return table;
  const stages = formatTable([
    ["restore stages (median ms)", ...names.map((n) => n.replace(/_ms$/, ""))],
    ...stores.map((k) => [`engine <- ${k}`, ...names.map((n) => r[k].stages_ms[n] ?? Number.NaN)]),
  ]);
  return `${table}\n\n${stages}`;
}

export function formatSummary(s: Summary, targets: Target[]): string {
  const b = s.backup;
  const { dynamodb, local } = s.api;
  const list = (v: typeof dynamodb | typeof local) => [v.list_10k_ms, v.list_100k_ms, v.list_ratio];
  const sizes = `${s.sizes.small_mib} MiB (${s.sizes.documents_small} docs) and ${s.sizes.large_mib} MiB (${s.sizes.documents_large} docs)`;
  const sections = [
    `mongo-backup-manager benchmark (${s.mode}: ${s.runs} alternating runs per variant, medians; data ${sizes}; API ${s.api.counts.join(" and ")} records)`,
    `machine: ${s.machine.nproc} cores, ${s.machine.cpu}, ${s.machine.ram_gib} GiB RAM; took ${s.seconds} s`,
    formatTable([
      [
        "backup",
        "small ms",
        "large ms",
        "ratio small",
        "ratio large",
        "peak RSS small MiB",
        "peak RSS large MiB",
        "engine CPU s",
      ],
      [
        "mongodump --archive > /dev/null",
        b.baseline_ms_small,
        b.baseline_ms_large,
        1,
        1,
        b.baseline_rss_small_mb,
        b.baseline_rss_large_mb,
        "",
      ],
      ...stores.map((k) => [
        `engine -> ${k}`,
        b[k].ms_small,
        b[k].ms_large,
        b[k].ratio_small,
        b[k].ratio_large,
        b[k].rss_small_mb,
        b[k].rss_large_mb,
        pair(b[k].cpu_s_small, b[k].cpu_s_large),
      ]),
    ]),
    formatRestore(s.restore),
    formatTable([
      [`compression (${s.compression.archive_mb} MiB archive)`, "MB/s", "ratio", "x mongodump --gzip"],
      [
        "mongodump --gzip (CPU it adds)",
        s.compression.mongodump_gzip.mb_s,
        s.compression.mongodump_gzip.ratio ?? Number.NaN,
        1,
      ],
      ...(["gzip", "zstd"] as const).map((k) => {
        const codec = s.compression[k];
        return [`engine ${k}`, codec.mb_s, codec.ratio, codec.vs_mongodump_gzip];
      }),
    ]),
    `default codec ${s.compression.default_codec}; restore read back: ${Object.entries(
      s.compression.restore_reads,
    )
      .map(([k, v]) => `${k} ${v ? "yes" : "NO"}`)
      .join(", ")}`,
    formatCeiling(s.ceiling),
    formatTable([
      [
        "GET /api/backups (first page)",
        `${s.api.counts[0]} ms`,
        `${s.api.counts[1]} ms`,
        "ratio",
        "items read",
        "empty page ms",
        "after foreign write ms",
        "write ms",
      ],
      [
        "dynamodb (moto)",
        ...list(dynamodb),
        pair(dynamodb.items_read_10k, dynamodb.items_read_100k),
        pair(dynamodb.empty_page_10k_ms, dynamodb.empty_page_100k_ms),
        "",
        "",
      ],
      [
        "local",
        ...list(local),
        "",
        "",
        pair(local.after_foreign_write_10k_ms, local.after_foreign_write_100k_ms),
        pair(local.write_10k_ms, local.write_100k_ms),
      ],
    ]),
    formatTable([
      ["GET /api/stats", `${s.api.counts[0]} ms`, `${s.api.counts[1]} ms`, "ratio", "items read"],
      [
        "dynamodb (moto)",
        s.api.stats_10k_ms.dynamodb,
        s.api.stats_100k_ms.dynamodb,
        dynamodb.stats_ratio,
        pair(dynamodb.stats_items_read_10k, dynamodb.stats_items_read_100k),
      ],
      ["local", s.api.stats_10k_ms.local, s.api.stats_100k_ms.local, local.stats_ratio, ""],
    ]),
    formatTable([
      ["lambda bundle", "KiB at cold start", "KiB in all", "cold init ms"],
      ...Object.entries(s.bundles).map(([n, v]) => [n, v.kb, v.total_kb, v.init_ms]),
    ]),
    formatTargets(targets),
  ];
  return sections.join("\n\n");
}
