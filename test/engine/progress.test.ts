// While a job runs, its record shows the archive bytes moved so far; when it ends, the final figure.
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backup, Restore } from "#core/entities.ts";
import {
  awsWorld,
  type EngineWorld,
  localWorld,
  queueBackup,
  queueRestore,
  registerServer,
  runEntryPoint,
} from "#test/support/engine-harness.ts";
import { adminMongoClient, uniqueName } from "#test/support/env.ts";
import { seedBulkDatabase } from "#test/support/sample-data.ts";

let mongo: MongoClient;
const bulk = uniqueName("progress_bulk").replaceAll("-", "_");

beforeAll(async () => {
  mongo = await adminMongoClient();
  await seedBulkDatabase(mongo, bulk, 16);
});
afterAll(async () => {
  await mongo?.close();
});

/** Every distinct progress figure seen while the job ran (polled every 20 ms). */
async function watch(read: () => Promise<Backup | Restore | undefined>, done: Promise<unknown>) {
  const seen: number[] = [];
  let finished = false;
  void done.finally(() => {
    finished = true;
  });
  while (!finished) {
    const job = await read();
    if (job?.status === "running" && job.progress && !seen.includes(job.progress.bytes))
      seen.push(job.progress.bytes);
    await new Promise((r) => setTimeout(r, 20));
  }
  return seen;
}

describe.each([
  ["local", localWorld],
  ["aws", awsWorld],
] as const)("progress (%s)", (_kind, makeWorld) => {
  let world: EngineWorld;
  beforeAll(async () => {
    world = await makeWorld();
  });

  it("a backup and a restore report growing byte counts, then their totals", async () => {
    const server = await registerServer(world);
    const queued = await queueBackup(world, server, bulk, "none");
    const backupRun = runEntryPoint(world, "backup", queued.id);
    const backupSeen = await watch(() => world.store.backups.get(queued.id), backupRun.result);
    expect((await backupRun.result).code, (await backupRun.result).output).toBe(0);
    const backup = await world.store.backups.get(queued.id);
    expect(backup?.status).toBe("completed");
    // 16 MiB at 100 ms intervals: several figures, rising, none past the total.
    expect(backupSeen.length).toBeGreaterThan(1);
    expect(backupSeen).toEqual([...backupSeen].sort((a, b) => a - b));
    expect(Math.max(...backupSeen)).toBeLessThanOrEqual(backup?.size_bytes ?? 0);
    expect(backup?.progress?.bytes).toBe(backup?.size_bytes);

    const target = uniqueName("progress_copy").replaceAll("-", "_");
    const restore = await queueRestore(world, backup as Backup, { server, database: target });
    const restoreRun = runEntryPoint(world, "restore", restore.id);
    const restoreSeen = await watch(() => world.store.restores.get(restore.id), restoreRun.result);
    expect((await restoreRun.result).code, (await restoreRun.result).output).toBe(0);
    const done = await world.store.restores.get(restore.id);
    expect(done?.status).toBe("completed");
    // The verification pass heartbeats with 0 bytes; then mongorestore is fed, and the figure rises.
    const fed = restoreSeen.filter((b) => b > 0);
    expect(fed.length, `seen: ${restoreSeen.join(", ")}`).toBeGreaterThan(0);
    expect(fed).toEqual([...fed].sort((a, b) => a - b));
    expect(Math.max(...fed)).toBeLessThanOrEqual(backup?.size_bytes ?? 0);
    expect(done?.progress?.bytes).toBe(backup?.size_bytes);
    await mongo.db(target).dropDatabase();
  });
});
