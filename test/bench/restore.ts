// Restore: the engine's restore (its real process: integrity pass, then the archive streamed through
// decompression into `mongorestore --archive`) against `mongorestore --archive=<file>` from an
// uncompressed local file, with the same mongorestore options, into the same (dropped) target.
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { MongoClient } from "mongodb";
import type { Backup, Restore } from "#core/entities.ts";
import { makeRestore } from "#test/support/fixtures.ts";
import { restoreArgs } from "../../task-image/src/restore.ts";
import { decompressor } from "../../task-image/src/streams.ts";
import { type ToolSample, toolWithCpu } from "./backup.ts";
import { alternate } from "./stats.ts";
import { type EngineWorld, type ProcessRun, runTask, type StoreKind } from "./world.ts";

export interface RestoreResult {
  target: string;
  baseline: ToolSample[];
  pipeline: Record<StoreKind, ProcessRun[]>;
}

/** A queued restore of `backup` into `target` on the world's server, as the API would create it. */
export function restoreRecord(world: EngineWorld, backup: Backup, target: string): Restore {
  return makeRestore({
    backup_id: backup.id,
    source_server_id: backup.server_id,
    source_database: backup.database,
    target_server_id: world.server.id,
    target_database: target,
    created_by: "bench",
  });
}

/** The archive of a stored backup, uncompressed, as a file: what the baseline restores from. */
export async function archiveFile(world: EngineWorld, backup: Backup, dir: string): Promise<string> {
  if (!backup.blob_key) throw new Error(`backup ${backup.id} has no archive`);
  const file = join(dir, `${backup.database}.archive`);
  const { body } = await world.blobs.download(backup.blob_key);
  await pipeline(body, decompressor(backup.compression), createWriteStream(file));
  return file;
}

export async function documentCount(client: MongoClient, database: string): Promise<number> {
  const db = client.db(database);
  let total = 0;
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
    total += await db.collection(name).countDocuments();
  }
  return total;
}

export async function benchRestore(
  worlds: Record<StoreKind, EngineWorld>,
  kept: Record<StoreKind, Backup>,
  options: { archive: string; configFile: string; client: MongoClient; documents: number; runs: number },
): Promise<RestoreResult> {
  const source = kept.local.database;
  const target = `${source}_restored`;
  // Each run starts from an absent target and must leave every document there.
  const fresh = async <T>(run: () => Promise<T>): Promise<T> => {
    await options.client.db(target).dropDatabase();
    const result = await run();
    const count = await documentCount(options.client, target);
    if (count !== options.documents) {
      throw new Error(`restore into ${target} left ${count} documents, expected ${options.documents}`);
    }
    return result;
  };
  const args = restoreArgs(restoreRecord(worlds.local, kept.local, target)).filter((a) => a !== "--archive");
  const engine = (kind: StoreKind) => () =>
    fresh(async () => {
      const world = worlds[kind];
      const record = await world.store.restores.create(restoreRecord(world, kept[kind], target));
      const run = await runTask(world, "restore", record.id);
      const done = await world.store.restores.get(record.id);
      if (done?.status !== "completed") {
        throw new Error(
          `restore ${record.id} on ${kind} ended ${done?.status}: ${done?.error}\n${run.output}`,
        );
      }
      return run;
    });
  const results = await alternate(options.runs, {
    baseline: () =>
      fresh(() =>
        toolWithCpu("mongorestore", [
          `--config=${options.configFile}`,
          `--archive=${options.archive}`,
          ...args,
        ]),
      ),
    s3: engine("s3"),
    local: engine("local"),
  });
  await options.client.db(target).dropDatabase();
  return { target, baseline: results.baseline, pipeline: { s3: results.s3, local: results.local } };
}
