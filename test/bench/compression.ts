// Compression: how fast each codec turns archive bytes into compressed bytes, and how small.
// - The engine's codecs (task-image/src/streams.ts `compressor`, the very streams a backup uses) are
//   timed on the same uncompressed archive, read from a file, alternating: throughput is archive
//   bytes per second of wall time.
// - `mongodump --archive --gzip` compresses inside the tool (Go's compress/gzip, one stream), so its
//   codec cannot be run alone: its throughput is archive bytes per second of the CPU time --gzip adds
//   to the same dump (median CPU of `--gzip` runs minus median CPU of plain runs, both from the
//   backup benchmark). That is the codec's speed when nothing else limits it, as with a fast server.
// Then each codec goes through a real engine backup and restore, to show restore reads them all.
import { createReadStream, statSync } from "node:fs";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { MongoClient } from "mongodb";
import type { Backup, Compression } from "#core/entities.ts";
import { compressionStages } from "../../task-image/src/streams.ts";
import { engineBackup, type ToolSample } from "./backup.ts";
import { documentCount, restoreRecord } from "./restore.ts";
import { alternate, median } from "./stats.ts";
import { type EngineWorld, runTask } from "./world.ts";

export interface CodecSample {
  ms: number;
  compressedBytes: number;
}

export interface CompressionResult {
  archiveBytes: number;
  engine: Record<"gzip" | "zstd", CodecSample[]>;
  mongodumpGzip: { addedCpuMs: number; compressedBytes: number | undefined };
  /** Codec -> a backup written with it was restored with every document. */
  restoreReads: Record<Compression, boolean>;
}

async function compressFile(file: string, codec: Compression): Promise<CodecSample> {
  let compressedBytes = 0;
  const count = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      compressedBytes += chunk.length;
      callback();
    },
  });
  const start = performance.now();
  await pipeline([createReadStream(file, { highWaterMark: 64 * 1024 }), ...compressionStages(codec), count]);
  return { ms: performance.now() - start, compressedBytes };
}

/** Backs up `database` with each codec on the local store and restores it; true per codec that round-trips. */
async function restoreReadsEveryCodec(
  world: EngineWorld,
  database: string,
  client: MongoClient,
  documents: number,
): Promise<Record<Compression, boolean>> {
  const result = {} as Record<Compression, boolean>;
  for (const codec of ["gzip", "zstd", "none"] as const) {
    const { backup } = await engineBackup(world, database, codec);
    result[codec] = backup.compression === codec && (await restoreCounts(world, backup, client, documents));
    if (backup.blob_key) await world.blobs.delete(backup.blob_key);
  }
  return result;
}

async function restoreCounts(world: EngineWorld, backup: Backup, client: MongoClient, documents: number) {
  const target = `${backup.database}_codec_check`;
  await client.db(target).dropDatabase();
  const record = await world.store.restores.create(restoreRecord(world, backup, target));
  await runTask(world, "restore", record.id);
  const count = await documentCount(client, target);
  await client.db(target).dropDatabase();
  return (await world.store.restores.get(record.id))?.status === "completed" && count === documents;
}

export async function benchCompression(options: {
  archive: string;
  runs: number;
  /** The backup benchmark's plain and --gzip mongodump runs on the same database. */
  dump: { baseline: ToolSample[]; gzip: ToolSample[]; gzipBytes: number | undefined };
  codecCheck: { world: EngineWorld; database: string; client: MongoClient; documents: number };
}): Promise<CompressionResult> {
  const engine = await alternate(options.runs, {
    gzip: () => compressFile(options.archive, "gzip"),
    zstd: () => compressFile(options.archive, "zstd"),
  });
  const { world, database, client, documents } = options.codecCheck;
  return {
    archiveBytes: statSync(options.archive).size,
    engine,
    mongodumpGzip: {
      addedCpuMs:
        median(options.dump.gzip.map((s) => s.cpuMs)) - median(options.dump.baseline.map((s) => s.cpuMs)),
      compressedBytes: options.dump.gzipBytes,
    },
    restoreReads: await restoreReadsEveryCodec(world, database, client, documents),
  };
}
