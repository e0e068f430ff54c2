// The benchmark's summary and verdicts (test/bench/summary.ts) on a hand-made run: every headline
// ratio and every target's verdict, so a ratio with swapped arguments, the better store where the
// worse is the headline, or a mean for a median shows here. No servers, no timings.
import { describe, expect, it } from "vitest";
import type { ApiStepResult } from "#test/bench/api.ts";
import type { BackupSizeResult, PipelineSample, ToolSample } from "#test/bench/backup.ts";
import type { BundleResult } from "#test/bench/bundles.ts";
import { judge, type RunResults, stageMedians, summarize } from "#test/bench/summary.ts";
import { formatSummary } from "#test/bench/tables.ts";
import { parseEngineCpu, parseStages } from "#test/bench/world.ts";
import { makeBackup } from "#test/support/fixtures.ts";

const MiB = 1024 * 1024;
const tool = (ms: number): ToolSample => ({ ms, peakRss: 100 * MiB, cpuMs: 0 });
const engine = (ms: number, rssMiB: number): PipelineSample => ({
  ms,
  peakRss: rssMiB * MiB,
  cpuMs: 1000,
  storedBytes: 0,
});

function backupSize(baseline: ToolSample[], s3: PipelineSample[], local: PipelineSample[]): BackupSizeResult {
  return {
    database: "bench",
    baseline,
    gzip: [],
    gzipBytes: undefined,
    pipeline: { s3, local },
    kept: { s3: makeBackup(), local: makeBackup() },
  };
}

function apiStep(records: number, dynamodbMs: number, localMs: number, itemsRead: number): ApiStepResult {
  return {
    records,
    seedMs: { dynamodb: 1, local: 1 },
    // Medians of these: the outliers must not move them.
    listMs: { dynamodb: [dynamodbMs, dynamodbMs, 10 * dynamodbMs], local: [localMs, localMs, 0] },
    dynamodbItemsRead: itemsRead,
    dynamodbEmptyPageMs: 1,
    localAfterForeignWriteMs: 1,
    localWriteMs: 1,
    statsMs: { dynamodb: [dynamodbMs, dynamodbMs, 10 * dynamodbMs], local: [localMs, localMs, 0] },
    dynamodbStatsItemsRead: 200,
  };
}

const bundle = (kb: number, initMs: number[]): BundleResult => ({
  bytes: kb * 1024,
  totalBytes: 2 * kb * 1024,
  initMs,
});

const run: RunResults = {
  mode: "quick",
  runs: 3,
  machine: { nproc: 2, cpu: "test", ram_gib: 4 },
  sizes: { small_mib: 2, large_mib: 20, documents_small: 100, documents_large: 1000 },
  backup: {
    // Small: s3 1.5x, local 1.2x. Large: s3 1.05x, local 1.08x. RSS growth: s3 1.1x, local 1.3x.
    small: backupSize([tool(1000), tool(900), tool(1100)], [engine(1500, 200)], [engine(1200, 200)]),
    large: backupSize([tool(10_000)], [engine(10_500, 220)], [engine(10_800, 260)]),
  },
  restore: {
    target: "bench_restored",
    baseline: [{ ...tool(20_000), cpuMs: 30_000 }],
    // s3 1.05x, local 1.15x; engine CPU medians s3 1.5 s, local 2.5 s (the outliers do not move them)
    pipeline: {
      s3: [
        { ms: 21_000, peakRss: 300 * MiB, output: "", cpuMs: 1500, toolCpuMs: 31_000 },
        { ms: 21_000, peakRss: 300 * MiB, output: "", cpuMs: 1400, toolCpuMs: 31_000 },
        { ms: 21_000, peakRss: 300 * MiB, output: "", cpuMs: 9000, toolCpuMs: 31_000 },
      ],
      local: [{ ms: 23_000, peakRss: 300 * MiB, output: "", cpuMs: 2500, toolCpuMs: 30_500 }],
    },
  },
  compression: {
    archiveBytes: 100e6,
    // 100 MB in 4 s: 25 MB/s; in 0.5 s: 200 MB/s.
    engine: {
      gzip: [{ ms: 4000, compressedBytes: 20e6 }],
      zstd: [{ ms: 500, compressedBytes: 25e6 }],
    },
    // 100 MB in the 5 s of CPU --gzip adds: 20 MB/s.
    mongodumpGzip: { addedCpuMs: 5000, compressedBytes: 20e6 },
    restoreReads: { gzip: true, zstd: true, none: false },
  },
  // 100 MB: zstd alone in 0.5 s (200 MB/s), the local zstd backup in 0.625 s (160 MB/s, 0.8x).
  ceiling: {
    archiveBytes: 100e6,
    copies: 1,
    cat: [{ ms: 50, cpuMs: 40 }],
    codec: {
      zstd: [{ ms: 500, cpuMs: 500 }],
      gzip: [{ ms: 4000, cpuMs: 4000 }],
      zstd_one_stream: [{ ms: 900, cpuMs: 900 }],
    },
    backup: {
      local: {
        zstd: [{ ms: 625, cpuMs: 800 }],
        gzip: [{ ms: 4000, cpuMs: 4200 }],
        none: [{ ms: 200, cpuMs: 300 }],
      },
      s3: {
        zstd: [{ ms: 1000, cpuMs: 900 }],
        gzip: [{ ms: 4000, cpuMs: 4300 }],
        none: [{ ms: 800, cpuMs: 500 }],
      },
    },
    restore: { local: [{ ms: 500, cpuMs: 600 }], s3: [{ ms: 1000, cpuMs: 700 }] },
  },
  // dynamodb 100 -> 700 ms (7x), 26 -> 27 items read; local 1 -> 1.5 ms (1.5x).
  api: [apiStep(1000, 100, 1, 26), apiStep(10_000, 700, 1.5, 27)],
  bundles: {
    // Median 200 ms (the mean, 300, would miss).
    api: bundle(700, [100, 600, 200]),
    "fan-out": bundle(500, [150]),
    "task-state": bundle(500, [150]),
    housekeeping: bundle(500, [150]),
    retention: bundle(500, [150]),
  },
  default_codec: "zstd",
  seconds: 90,
};

describe("bench summary", () => {
  const summary = summarize(run);

  it("puts the worse store's ratio, measured over its baseline, in the headline", () => {
    expect(summary.backup.ratio).toBe(1.08);
    expect(summary.backup.ratio_small).toBe(1.5);
    expect(summary.backup.local).toMatchObject({ ratio_small: 1.2, ratio_large: 1.08 });
    expect(summary.restore.ratio).toBe(1.15);
    expect(summary.restore.s3.ratio).toBe(1.05);
  });

  it("reports the engine's own CPU seconds (median) beside the tool's, per restore and per backup", () => {
    expect(summary.restore).toMatchObject({ baseline_cpu_s: 30 });
    expect(summary.restore.s3).toMatchObject({ cpu_s: 1.5, tool_cpu_s: 31 });
    expect(summary.restore.local).toMatchObject({ cpu_s: 2.5, tool_cpu_s: 30.5 });
    expect(summary.restore.samples_cpu_ms.s3).toEqual([1500, 1400, 9000]);
    expect(summary.backup.s3).toMatchObject({ cpu_s_small: 1, cpu_s_large: 1 });
  });

  it("reads the CPU line the engine's preload prints at exit, wherever the output puts it", () => {
    const output = 'some log\n{"level":"warn"}\nbench-engine-cpu 1200000 300000 250\n';
    expect(parseEngineCpu(output, 100)).toEqual({ cpuMs: 1500, toolCpuMs: 2500 });
    expect(parseEngineCpu("bench-engine-cpu 1000 0 -1\n", 100)).toEqual({ cpuMs: 1, toolCpuMs: Number.NaN });
    expect(parseEngineCpu("no line", 100)).toBeUndefined();
  });

  it("takes each restore stage's median, and the start-up left over from spawn to exit", () => {
    const runs = [
      { ms: 1000, stagesMs: { claim_ms: 100, verify_ms: 0, restore_ms: 700 } },
      { ms: 1300, stagesMs: { claim_ms: 120, verify_ms: 300, restore_ms: 600 } },
      { ms: 9000, stagesMs: { claim_ms: 110, verify_ms: 0, restore_ms: 8000 } },
    ];
    // start: 1000 - 800 = 200, 1300 - 1020 = 280, 9000 - 8110 = 890: median 280.
    expect(stageMedians(runs)).toEqual({ start_ms: 280, claim_ms: 110, verify_ms: 0, restore_ms: 700 });
    expect(stageMedians([{ ms: 5 }])).toEqual({});
    const line = JSON.stringify({ msg: "restore completed", stages_ms: { claim_ms: 3 } });
    expect(parseStages(`{"msg":"restore started"}\n${line}\nbench-engine-cpu 1 2 3\n`)).toEqual({
      claim_ms: 3,
    });
    expect(parseStages('{"msg":"restore failed"}')).toBeUndefined();
  });

  it("takes memory growth, large over small, from the store that grew most", () => {
    expect(summary.backup.s3.rss_growth).toBe(1.1);
    expect(summary.backup).toMatchObject({
      rss_store: "local",
      rss_small_mb: 200,
      rss_large_mb: 260,
      rss_growth: 1.3,
    });
  });

  it("compares list medians large over small, headline from the store that grew most", () => {
    expect(summary.api.dynamodb.list_ratio).toBe(7);
    expect(summary.api.local.list_ratio).toBe(1.5);
    expect(summary.api).toMatchObject({ counts: [1000, 10_000], list_10k_ms: 100, list_100k_ms: 700 });
  });

  it("measures codecs against the CPU mongodump's --gzip adds", () => {
    const c = summary.compression;
    expect(c.mongodump_gzip).toMatchObject({ mb_s: 20, ratio: 5 });
    expect(c.gzip).toMatchObject({ mb_s: 25, ratio: 5, vs_mongodump_gzip: 1.25 });
    expect(c.zstd).toMatchObject({ mb_s: 200, ratio: 4, vs_mongodump_gzip: 10 });
    expect(c.default_vs_mongodump_gzip).toBe(10);
    expect(summary.bundles.api).toEqual({ kb: 700, total_kb: 1400, init_ms: 200 });
  });

  it("judges every target on those values", () => {
    const verdicts = judge(summary).map((t) => [t.name, t.value, t.op, t.limit, t.pass ? "PASS" : "MISS"]);
    expect(verdicts).toEqual([
      ["backup ratio (large)", 1.08, "<=", 1.1, "PASS"],
      ["restore ratio", 1.15, "<=", 1.05, "MISS"],
      ["rss large / small (local)", 1.3, "<=", 1.2, "MISS"],
      ["list large / small (dynamodb)", 7, "<=", 2, "MISS"],
      ["items read per page large / small (dynamodb)", 1.038, "<=", 2, "PASS"],
      ["list large / small (local)", 1.5, "<=", 2, "PASS"],
      ["stats large / small (dynamodb)", 7, "<=", 2, "MISS"],
      ["items read per stats large / small (dynamodb)", 1, "<=", 2, "PASS"],
      ["stats large / small (local)", 1.5, "<=", 2, "PASS"],
      ["zstd vs mongodump --gzip", 10, ">=", 3, "PASS"],
      ["codecs restore reads", 2, ">=", 3, "MISS"],
      ["api bundle (cold-start code)", 0.684, "<=", 1, "PASS"],
      ["api cold init", 200, "<=", 250, "PASS"],
      ["ceiling: zstd backup -> local", 160, ">=", 150, "PASS"],
      ["ceiling: zstd backup -> local / zstd alone", 0.8, ">=", 0.8, "PASS"],
    ]);
    // A known cause outside the engine is given only where a target misses for it.
    expect(judge(summary).find((t) => t.name.startsWith("list large / small (dynamodb)"))?.note).toMatch(
      /moto/,
    );
  });

  it("prints the summary's ratios in the tables", () => {
    const text = formatSummary(summary, judge(summary));
    expect(text).toMatch(/dynamodb \(moto\)\s+100\s+700\s+7\s/);
    expect(text).toMatch(/engine zstd\s+200\s+4\s+10\n/);
    expect(text).toMatch(/codecs restore reads\s+2 of 3\s+>= 3 of 3\s+MISS/);
  });
});
