// The ceiling's pure parts (test/bench/ceiling-report.ts): how many copies of the recording, the MB/s
// and CPU figures and targets from hand-made samples, and the stand-in tools run for real under sh,
// read back with the engine's own parser. No servers.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type CeilingResult,
  type CeilingSample,
  ceilingCopies,
  ceilingSummary,
  ceilingTargets,
  formatCeiling,
  mongodumpStandIn,
  mongorestoreStandIn,
} from "#test/bench/ceiling-report.ts";
import { parseDumpedCollection } from "../../task-image/src/mongo-tools.ts";

const dir = mkdtempSync(join(tmpdir(), "bench-ceiling-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const at = (ms: number, cpuMs = 0): CeilingSample => ({ ms, cpuMs });

describe("ceilingCopies", () => {
  it("repeats the recording until it reaches the minimum, never less than once", () => {
    expect(ceilingCopies(20, 64)).toBe(4);
    expect(ceilingCopies(64, 64)).toBe(1);
    expect(ceilingCopies(400, 64)).toBe(1);
    expect(() => ceilingCopies(0, 64)).toThrow(/empty/);
  });
});

describe("ceiling summary", () => {
  // 300 MB of archive: zstd alone 1 s (300 MB/s); local zstd backup 1.5 s (200 MB/s, 0.667x).
  const samples = (ms: number): CeilingSample[] => [at(ms, 900), at(10 * ms, 2000), at(ms, 1100)];
  const result: CeilingResult = {
    archiveBytes: 300e6,
    copies: 2,
    cat: samples(100),
    codec: { zstd: samples(1000), gzip: samples(10_000), zstd_one_stream: samples(2000) },
    backup: {
      local: { zstd: samples(1500), gzip: samples(12_000), none: samples(600) },
      s3: { zstd: samples(3000), gzip: samples(15_000), none: samples(2000) },
    },
    restore: { local: samples(750), s3: samples(1500) },
  };
  const summary = ceilingSummary(result);

  it("gives MB/s of archive from the median run, the local store at the top and S3 under s3", () => {
    expect(summary).toMatchObject({
      archive_mb: 286.1,
      copies: 2,
      cat_mb_s: 3000,
      codec_mb_s: { zstd: 300, gzip: 30 },
      zstd_one_stream_mb_s: 150,
      backup_mb_s: { zstd: 200, gzip: 25, none: 500 },
      restore_mb_s: 400,
      vs_codec: { zstd: 0.667, gzip: 0.833 },
      codec_cpu_s: { zstd: 1.1, gzip: 1.1 },
    });
    expect(summary.s3).toMatchObject({
      backup_mb_s: { zstd: 100, gzip: 20, none: 150 },
      codec_mb_s: { zstd: 300, gzip: 30 },
      cat_mb_s: 3000,
      restore_mb_s: 200,
    });
    expect(summary.cpu_s).toEqual({ backup: { zstd: 1.1, gzip: 1.1, none: 1.1 }, restore: 1.1 });
  });

  it("holds the local zstd backup to 150 MB/s and to 0.8x the codec alone", () => {
    expect(ceilingTargets(summary).map((t) => [t.name, t.value, t.op, t.limit, t.pass])).toEqual([
      ["ceiling: zstd backup -> local", 200, ">=", 150, true],
      ["ceiling: zstd backup -> local / zstd alone", 0.667, ">=", 0.8, false],
    ]);
  });

  it("prints both stores side by side", () => {
    const text = formatCeiling(summary);
    expect(text).toMatch(/engine backup, zstd\s+200\s+100\s+1\.10\s+1\.10\s+0\.667 \/ 0\.333\n/);
    expect(text).toMatch(/zstd alone \(compressor\(\): 4 MiB frames\)\s+300\s+n\/a/);
    expect(text).toMatch(/zstd -3 alone, one stream \(one core\)\s+150\s+n\/a/);
  });
});

describe("stand-in tools", () => {
  const archive = join(dir, "recorded.archive");
  writeFileSync(archive, Buffer.from("archive bytes \u0000\u0001 'quoted' $(not run)\n"));
  const script = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    chmodSync(file, 0o755);
    return file;
  };

  it("the mongodump stand-in writes the file and the lines the engine reads collections from", () => {
    const tool = script("mongodump", mongodumpStandIn(archive, "bench_large", { orders: 12, "a'b": 3 }));
    const run = spawnSync(tool, ["--config=/nowhere", "--db=bench_large", "--archive"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    expect(run.status).toBe(0);
    expect(run.stdout.equals(Buffer.from("archive bytes \u0000\u0001 'quoted' $(not run)\n"))).toBe(true);
    const lines = run.stderr.toString().trim().split("\n");
    expect(lines.map((l) => parseDumpedCollection(l, "bench_large"))).toEqual([
      ["orders", 12],
      ["a'b", 3],
    ]);
    expect(execFileSync(tool, ["--version"], { encoding: "utf8" })).toMatch(/version: bench-stand-in/);
  });

  it("the mongorestore stand-in reads all of stdin and exits 0", () => {
    const tool = script("mongorestore", mongorestoreStandIn());
    const input = Buffer.alloc(4 * 1024 * 1024, 7);
    const run = spawnSync(tool, ["--archive", "--nsInclude=x.*"], { input });
    expect(run.status).toBe(0);
    expect(run.stdout.length).toBe(0);
  });
});
