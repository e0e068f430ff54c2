// The engine's own ceiling (issue 17): the server taken out of the way. A stand-in mongodump streams
// a recorded archive (the real mongodump's, from the bench data set) at the speed of `cat`, and a
// stand-in mongorestore reads it to /dev/null; both go in through the tools' paths (MBM_MONGODUMP,
// MBM_MONGORESTORE), so every job is the engine's real process, `node task-image/src/main.ts`, with
// its real pipeline: claim, tool pipe, compression, sha256, the blob store (local, and S3 on moto),
// the final record. Beside them, `cat` of the same file to /dev/null and each codec alone on it.
// Throughput is archive bytes over the job's own duration (`duration_ms` of its record: from the
// claim to the final write), which leaves out Node's start and module loading, a constant the
// `wallMs` samples keep. CPU is that of the whole process tree (Node, its threads, the stand-in).
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  createReadStream,
  createWriteStream,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants, createZstdCompress } from "node:zlib";
import type { Backup, Compression } from "#core/entities.ts";
import { draftBackup } from "#core/use-cases/backups.ts";
import { makeDatabase } from "#test/support/fixtures.ts";
import { compressionStages } from "../../task-image/src/streams.ts";
import { ZSTD_LEVEL } from "../../task-image/src/zstd-frames.ts";
import {
  type CeilingResult,
  type CeilingSample,
  ceilingCodecs,
  ceilingCopies,
  mongodumpStandIn,
  mongorestoreStandIn,
} from "./ceiling-report.ts";
import { parseChildCpuTicks } from "./proc.ts";
import { restoreRecord } from "./restore.ts";
import { alternate } from "./stats.ts";
import { type EngineWorld, repoRoot, type StoreKind, timedRun } from "./world.ts";

const clockTicksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/** Runs `argv` under a shell that prints its own /proc stat line after it: the child's CPU time. */
async function withCpu(
  argv: string[],
  env?: Record<string, string>,
): Promise<CeilingSample & { output: string }> {
  const script = '"$@"; code=$?; read -r stat < /proc/$$/stat; echo "$stat" >&2; exit $code';
  const run = await timedRun("sh", ["-c", script, "sh", ...argv], env ? { env } : {});
  const statLine = run.output.trim().split("\n").at(-1) ?? "";
  return {
    ms: run.ms,
    cpuMs: (parseChildCpuTicks(statLine) * 1000) / clockTicksPerSecond,
    output: run.output,
  };
}

/**
 * The codec alone, in this process: the engine's compression stage (`compressionStages`), or zstd -3
 * as one plain stream (`createZstdCompress`, 1 MiB reads), what the engine ran before its frames.
 */
async function codecAlone(file: string, codec: "zstd" | "gzip" | "zstd_one_stream"): Promise<CeilingSample> {
  const drop = new Writable({
    write(_chunk: Buffer, _encoding, callback) {
      callback();
    },
  });
  const cpu = process.cpuUsage();
  const start = performance.now();
  if (codec === "zstd_one_stream") {
    const oneStream = createZstdCompress({
      chunkSize: 256 * 1024,
      params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL },
    });
    await pipeline([createReadStream(file, { highWaterMark: 1024 * 1024 }), oneStream, drop]);
  } else {
    await pipeline([createReadStream(file, { highWaterMark: 64 * 1024 }), ...compressionStages(codec), drop]);
  }
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

async function concatenated(recording: string, copies: number, file: string): Promise<string> {
  if (copies === 1) return recording;
  copyFileSync(recording, file);
  for (let i = 1; i < copies; i++) {
    await pipeline(createReadStream(recording), createWriteStream(file, { flags: "a" }));
  }
  return file;
}

export async function benchCeiling(options: {
  worlds: Record<StoreKind, EngineWorld>;
  /** The uncompressed archive of `recorded`, the real mongodump's output. */
  recording: string;
  recorded: Backup;
  scratch: string;
  runs: number;
  minBytes: number;
}): Promise<CeilingResult> {
  const { recording, recorded, scratch } = options;
  const copies = ceilingCopies(statSync(recording).size, options.minBytes);
  const archive = await concatenated(recording, copies, join(scratch, "ceiling.archive"));
  const archiveBytes = statSync(archive).size;
  // The engine refuses an archive without collections: the stand-in repeats the recording's, scaled.
  const collections = Object.fromEntries(
    Object.entries(recorded.collections ?? {}).map(([name, count]) => [name, count * copies]),
  );
  const dumpTool = join(scratch, "mongodump-stand-in");
  const restoreTool = join(scratch, "mongorestore-stand-in");
  writeFileSync(dumpTool, mongodumpStandIn(archive, recorded.database, collections));
  writeFileSync(restoreTool, mongorestoreStandIn());
  chmodSync(dumpTool, 0o755);
  chmodSync(restoreTool, 0o755);
  const withStandIns = (world: EngineWorld): EngineWorld => ({
    ...world,
    env: { ...world.env, MBM_MONGODUMP: dumpTool, MBM_MONGORESTORE: restoreTool },
  });
  const worlds = { s3: withStandIns(options.worlds.s3), local: withStandIns(options.worlds.local) };

  const engineJob = async (world: EngineWorld, command: "backup" | "restore", id: string) => {
    const run = await withCpu(
      [process.execPath, join(repoRoot, "task-image/src/main.ts"), command, id],
      world.env,
    );
    const record =
      command === "backup" ? await world.store.backups.get(id) : await world.store.restores.get(id);
    if (record?.status !== "completed" || record.duration_ms === null) {
      throw new Error(
        `${command} ${id} on ${world.kind} ended ${record?.status}: ${record?.error}\n${run.output}`,
      );
    }
    return { record, sample: { ms: record.duration_ms, cpuMs: run.cpuMs, wallMs: run.ms } };
  };
  const backup = async (k: StoreKind, codec: Compression) => {
    const world = worlds[k];
    const queued = draftBackup({
      database: makeDatabase({ server_id: world.server.id, name: recorded.database }),
      trigger: "manual",
      schedule_id: null,
      created_by: "bench",
      retention_days: 1,
      compression: codec,
    });
    await world.store.backups.create(queued);
    const { sample } = await engineJob(world, "backup", queued.id);
    return { sample, backup: (await world.store.backups.get(queued.id)) as Backup };
  };
  const timedBackup = (k: StoreKind, codec: Compression) => async () => {
    const { sample, backup: done } = await backup(k, codec);
    if (done.blob_key) await worlds[k].blobs.delete(done.blob_key);
    return sample;
  };
  // Untimed: one zstd backup per store, which also warms the page cache; the restores read it.
  const kept = { s3: (await backup("s3", "zstd")).backup, local: (await backup("local", "zstd")).backup };
  const timedRestore = (k: StoreKind) => async () => {
    const world = worlds[k];
    const record = await world.store.restores.create(
      restoreRecord(world, kept[k], `${recorded.database}_ceiling`),
    );
    return (await engineJob(world, "restore", record.id)).sample;
  };
  const variants = {
    cat: async (): Promise<CeilingSample> => {
      const { ms, cpuMs } = await withCpu(["sh", "-c", 'exec cat "$1" >/dev/null', "sh", archive]);
      return { ms, cpuMs };
    },
    codec_zstd: () => codecAlone(archive, "zstd"),
    codec_gzip: () => codecAlone(archive, "gzip"),
    codec_zstd_one_stream: () => codecAlone(archive, "zstd_one_stream"),
    ...Object.fromEntries(
      (["local", "s3"] as const).flatMap((k) => [
        ...ceilingCodecs.map((codec) => [`${k}_${codec}`, timedBackup(k, codec)] as const),
        [`${k}_restore`, timedRestore(k)] as const,
      ]),
    ),
  } as Record<string, () => Promise<CeilingSample>>;
  const r = await alternate(options.runs, variants);
  for (const k of ["s3", "local"] as const) {
    if (kept[k].blob_key) await worlds[k].blobs.delete(kept[k].blob_key as string);
  }
  const get = (key: string) => r[key] ?? [];
  const perStore = (k: StoreKind) =>
    Object.fromEntries(ceilingCodecs.map((codec) => [codec, get(`${k}_${codec}`)])) as Record<
      Compression,
      CeilingSample[]
    >;
  return {
    archiveBytes,
    copies,
    cat: get("cat"),
    codec: {
      zstd: get("codec_zstd"),
      gzip: get("codec_gzip"),
      zstd_one_stream: get("codec_zstd_one_stream"),
    },
    backup: { s3: perStore("s3"), local: perStore("local") },
    restore: { s3: get("s3_restore"), local: get("local_restore") },
  };
}
