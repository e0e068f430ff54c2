// Local mode's job runner on real components: the real task entry point as a child process, real
// mongodump/mongorestore against FerretDB, the local adapters in a temp dir.
import { EventEmitter, once } from "node:events";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChildProcessJobRunner, type JobExit } from "#adapters/local/child-process-job-runner.ts";
import type { Server } from "#core/entities.ts";
import { createLogger } from "#functions/logger.ts";
import {
  type EngineWorld,
  localWorld,
  queueBackup,
  queueRestore,
  registerServer,
  waitForChild,
} from "#test/support/engine-harness.ts";
import { adminMongoClient, uniqueName } from "#test/support/env.ts";
import { seedBulkDatabase, seedSampleDatabase, snapshotDatabase } from "#test/support/sample-data.ts";

let mongo: MongoClient;
let world: EngineWorld;
let server: Server;
const small = uniqueName("runner_small").replace("-", "_");
const bulk = uniqueName("runner_bulk").replace("-", "_");
const exits = new EventEmitter();
const runners: ChildProcessJobRunner[] = [];

/** A runner whose exits can be awaited by job id: `const exited = exitOf(id)` before starting it. */
function makeRunner() {
  const runner = new ChildProcessJobRunner({
    env: world.env,
    log: createLogger("runner-test", { level: "error" }),
    onExit: (job, result) => exits.emit(job.id, result),
  });
  runners.push(runner);
  return runner;
}
const exitOf = async (id: string) => ((await once(exits, id)) as [JobExit])[0];
const pidOf = (runnerRef: string) => Number(runnerRef.replace(/^local:/, ""));

beforeAll(async () => {
  mongo = await adminMongoClient();
  await seedSampleDatabase(mongo, small, 2_000);
  await seedBulkDatabase(mongo, bulk, 12);
  world = await localWorld();
  server = await registerServer(world);
});
afterAll(async () => {
  await Promise.all(runners.map((r) => r.shutdown(5_000)));
  await mongo?.close();
});

describe("ChildProcessJobRunner", () => {
  it("runs a backup to completion and records the runner's ref", async () => {
    const runner = makeRunner();
    const queued = await queueBackup(world, server, small);
    const exited = exitOf(queued.id);
    const { runnerRef } = await runner.start({ kind: "backup", id: queued.id });
    expect(runnerRef).toMatch(/^local:\d+$/);
    expect(runner.running()).toEqual([{ kind: "backup", id: queued.id }]);
    expect(await exited).toMatchObject({
      code: 0,
      signal: null,
      runnerRef,
    });
    expect(runner.running()).toEqual([]);
    const backup = await world.store.backups.get(queued.id);
    expect(backup).toMatchObject({ status: "completed", error: null, runner_ref: runnerRef });
    expect(backup?.size_bytes).toBeGreaterThan(0);
    expect(backup?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("stop() while running: the task records the job failed and leaves nothing", async () => {
    const runner = makeRunner();
    const queued = await queueBackup(world, server, bulk);
    const exited = exitOf(queued.id);
    const { runnerRef } = await runner.start({ kind: "backup", id: queued.id });
    await waitForChild(pidOf(runnerRef), "mongodump");
    await runner.stop(runnerRef, "cancelled by test");
    expect(await exited).toMatchObject({
      code: 1,
      signal: null,
      runnerRef,
    });
    const backup = await world.store.backups.get(queued.id);
    expect(backup).toMatchObject({ status: "failed", blob_key: null });
    expect(backup?.error).toMatch(/SIGTERM/);
    expect(await world.leftovers(`backups/${server.id}/${bulk}/`)).toEqual({ objects: [], uploads: [] });
  });

  it("shutdown() stops a running job and resolves once its task has exited", async () => {
    const runner = makeRunner();
    const queued = await queueBackup(world, server, bulk);
    const exited = exitOf(queued.id);
    const { runnerRef } = await runner.start({ kind: "backup", id: queued.id });
    await waitForChild(pidOf(runnerRef), "mongodump");
    let settled = false;
    void exited.then(() => (settled = true));
    await runner.shutdown();
    expect(settled).toBe(true);
    expect(runner.running()).toEqual([]);
    expect((await world.store.backups.get(queued.id))?.status).toBe("failed");
    await expect(runner.start({ kind: "backup", id: queued.id })).rejects.toThrow(/shutting down/);
  });

  it("stop() of an unknown ref resolves and does nothing", async () => {
    await expect(makeRunner().stop("local:999999999", "nothing")).resolves.toBeUndefined();
  });

  it("runs a restore to completion", async () => {
    const runner = makeRunner();
    const queued = await queueBackup(world, server, small);
    const backupExited = exitOf(queued.id);
    await runner.start({ kind: "backup", id: queued.id });
    expect((await backupExited).code).toBe(0);
    const backup = (await world.store.backups.get(queued.id))!;
    const target = `${small}_restored`;
    const restore = await queueRestore(world, backup, { server, database: target, drop: true });
    const exited = exitOf(restore.id);
    const { runnerRef } = await runner.start({ kind: "restore", id: restore.id });
    expect(await exited).toMatchObject({
      code: 0,
      signal: null,
      runnerRef,
    });
    expect(await world.store.restores.get(restore.id)).toMatchObject({
      status: "completed",
      runner_ref: runnerRef,
    });
    expect(await snapshotDatabase(mongo, target)).toEqual(await snapshotDatabase(mongo, small));
  });
});
