// The engine's ceiling (ceiling.ts) as numbers: MB/s of archive per codec and store, the codec alone
// and `cat` beside them, CPU seconds, and the two targets of issue 17. Pure: checked by
// test/unit/bench-ceiling.test.ts.
import type { Compression } from "#core/entities.ts";
import { floorTarget, formatTable, mbPerS, type Target } from "./report.ts";
import { MiB, median, ratio, round } from "./stats.ts";
import type { StoreKind } from "./world.ts";

/** One timed run: `ms` is what MB/s is computed from, `cpuMs` the CPU time it cost (user + system). */
export interface CeilingSample {
  ms: number;
  cpuMs: number;
  /** The engine's runs: spawn to exit, including Node's start (about 0.2 s), for comparison. */
  wallMs?: number;
}

export const ceilingCodecs = ["zstd", "gzip", "none"] as const satisfies readonly Compression[];

export interface CeilingResult {
  /** Bytes of the uncompressed archive every variant moves (the recording, repeated `copies` times). */
  archiveBytes: number;
  copies: number;
  cat: CeilingSample[];
  /** Each codec alone as the engine runs it (compressionStages); `zstd_one_stream`: zstd -3 as one plain stream, on one core. */
  codec: Record<"zstd" | "gzip" | "zstd_one_stream", CeilingSample[]>;
  backup: Record<StoreKind, Record<Compression, CeilingSample[]>>;
  restore: Record<StoreKind, CeilingSample[]>;
}

/**
 * How many copies of the recorded archive make at least `minBytes`: a job's fixed cost (claim,
 * tool start, final record: tens of ms) must stay a few percent of what is measured.
 */
export function ceilingCopies(recordedBytes: number, minBytes: number): number {
  if (recordedBytes <= 0) throw new Error("the recorded archive is empty");
  return Math.max(1, Math.ceil(minBytes / recordedBytes));
}

/** A POSIX sh single-quoted word: safe for any path. */
const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The stand-in for mongodump: answers `--version`, prints the `done dumping` lines the engine reads
 * its collection counts from (it refuses an archive with none), then writes the archive file to
 * stdout at the speed of `cat`. Everything else the engine passes (the config file, --db,
 * --archive) is ignored. The path is written into the script because the engine gives the tools an
 * environment of PATH, HOME and TZ only.
 */
export function mongodumpStandIn(
  archive: string,
  database: string,
  collections: Record<string, number>,
): string {
  const lines = Object.entries(collections).map(
    ([name, count]) => `2026-01-01T00:00:00.000+0000\tdone dumping ${database}.${name} (${count} documents)`,
  );
  return [
    "#!/bin/sh",
    "# Stand-in for mongodump (npm run bench, the ceiling): the recorded archive at full speed.",
    'for arg in "$@"; do [ "$arg" = --version ] && { echo "mongodump version: bench-stand-in"; exit 0; }; done',
    ...lines.map((l) => `printf '%s\\n' ${shellQuote(l)} >&2`),
    `exec cat ${shellQuote(archive)}`,
    "",
  ].join("\n");
}

/** The stand-in for mongorestore: reads its stdin (the archive) to /dev/null. */
export function mongorestoreStandIn(): string {
  return [
    "#!/bin/sh",
    "# Stand-in for mongorestore (npm run bench, the ceiling): reads the archive and drops it.",
    'for arg in "$@"; do [ "$arg" = --version ] && { echo "mongorestore version: bench-stand-in"; exit 0; }; done',
    "exec cat >/dev/null",
    "",
  ].join("\n");
}

const mbS = (bytes: number, samples: readonly CeilingSample[]) =>
  mbPerS(bytes, median(samples.map((s) => s.ms)));
const cpuS = (samples: readonly CeilingSample[]) => round(median(samples.map((s) => s.cpuMs)) / 1000, 2);

export function ceilingSummary(c: CeilingResult) {
  const codecMbS = { zstd: mbS(c.archiveBytes, c.codec.zstd), gzip: mbS(c.archiveBytes, c.codec.gzip) };
  const oneStreamMbS = mbS(c.archiveBytes, c.codec.zstd_one_stream);
  const catMbS = mbS(c.archiveBytes, c.cat);
  const store = (k: StoreKind) => {
    const backupMbS = {
      zstd: mbS(c.archiveBytes, c.backup[k].zstd),
      gzip: mbS(c.archiveBytes, c.backup[k].gzip),
      none: mbS(c.archiveBytes, c.backup[k].none),
    };
    return {
      backup_mb_s: backupMbS,
      codec_mb_s: codecMbS,
      /** zstd as one stream (what the engine ran before its frames), for comparison. */
      zstd_one_stream_mb_s: oneStreamMbS,
      cat_mb_s: catMbS,
      restore_mb_s: mbS(c.archiveBytes, c.restore[k]),
      /** The backup pipeline's speed over the codec's alone, same run. */
      vs_codec: { zstd: ratio(backupMbS.zstd, codecMbS.zstd), gzip: ratio(backupMbS.gzip, codecMbS.gzip) },
      cpu_s: {
        backup: { zstd: cpuS(c.backup[k].zstd), gzip: cpuS(c.backup[k].gzip), none: cpuS(c.backup[k].none) },
        restore: cpuS(c.restore[k]),
      },
      samples_ms: {
        backup: Object.fromEntries(ceilingCodecs.map((x) => [x, c.backup[k][x].map((s) => round(s.ms, 0))])),
        restore: c.restore[k].map((s) => round(s.ms, 0)),
      },
    };
  };
  const local = store("local");
  return {
    archive_mb: round(c.archiveBytes / MiB, 1),
    copies: c.copies,
    ...local,
    codec_cpu_s: {
      zstd: cpuS(c.codec.zstd),
      gzip: cpuS(c.codec.gzip),
      zstd_one_stream: cpuS(c.codec.zstd_one_stream),
    },
    cat_cpu_s: cpuS(c.cat),
    s3: store("s3"),
  };
}

export type CeilingSummary = ReturnType<typeof ceilingSummary>;

export function ceilingTargets(c: CeilingSummary): Target[] {
  return [
    floorTarget("ceiling: zstd backup -> local", c.backup_mb_s.zstd, 150, "MB/s"),
    floorTarget("ceiling: zstd backup -> local / zstd alone", c.vs_codec.zstd, 0.8, "x"),
  ];
}

/** The ceiling's table: MB/s and CPU seconds per variant, local and S3 side by side. */
export function formatCeiling(c: CeilingSummary): string {
  const { s3 } = c;
  const none = Number.NaN;
  return formatTable([
    [
      `ceiling (${c.archive_mb} MiB archive, stand-in tools)`,
      "local MB/s",
      "S3 MB/s",
      "local CPU s",
      "S3 CPU s",
      "x codec alone (local / S3)",
    ],
    ["cat > /dev/null", c.cat_mb_s, c.cat_mb_s, c.cat_cpu_s, c.cat_cpu_s, ""],
    [
      "zstd -3 alone, one stream (one core)",
      c.zstd_one_stream_mb_s,
      none,
      c.codec_cpu_s.zstd_one_stream,
      none,
      "",
    ],
    ["zstd alone (compressor(): 4 MiB frames)", c.codec_mb_s.zstd, none, c.codec_cpu_s.zstd, none, ""],
    ["gzip alone (compressor())", c.codec_mb_s.gzip, none, c.codec_cpu_s.gzip, none, ""],
    ...ceilingCodecs.map((codec) => [
      `engine backup, ${codec}`,
      c.backup_mb_s[codec],
      s3.backup_mb_s[codec],
      c.cpu_s.backup[codec],
      s3.cpu_s.backup[codec],
      codec === "none" ? "" : `${c.vs_codec[codec]} / ${s3.vs_codec[codec]}`,
    ]),
    ["engine restore, zstd", c.restore_mb_s, s3.restore_mb_s, c.cpu_s.restore, s3.cpu_s.restore, ""],
  ]);
}
