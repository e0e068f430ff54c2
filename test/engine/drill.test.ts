// Restore drills end to end on real components: the real task entry point (`main.ts verify`) starts
// a real throwaway server (FerretDB through scripts/throwaway-ferretdb.ts, as local mode does) or
// restores into a sandbox server's scratch database on the test FerretDB, with real mongorestore,
// through the AWS adapters (moto) and the local adapters.
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backup, Drill, Server } from "#core/entities.ts";
import { scratchDatabaseName } from "#core/use-cases/drill-targets.ts";
import { drillLeftovers, drillWorld, removeDrillWorld } from "#test/support/drill-harness.ts";
import {
  awsWorld,
  type EngineWorld,
  localWorld,
  queueBackup,
  queueDrill,
  registerServer,
  runEntryPoint,
} from "#test/support/engine-harness.ts";
import { adminMongoClient, mongoInfo, uniqueName } from "#test/support/env.ts";
import { makeSchedule } from "#test/support/fixtures.ts";
import { seedSampleDatabase } from "#test/support/sample-data.ts";

let mongo: MongoClient;
const source = uniqueName("drill").replace("-", "_");

beforeAll(async () => {
  mongo = await adminMongoClient();
  await seedSampleDatabase(mongo, source, 2_000);
  // A secondary index of the test's own, beside the sample data's.
  await mongo.db(source).collection("orders").createIndex({ status: 1, total: -1 }, { name: "status_total" });
});
afterAll(async () => {
  await mongo?.close();
});

async function databaseNames(): Promise<string[]> {
  const { databases } = await mongo.db("admin").admin().listDatabases({ nameOnly: true });
  return databases.map((d) => d.name);
}

describe.each([
  ["AWS adapters (moto)", awsWorld],
  ["local adapters", localWorld],
])("restore drills through %s", (_name, makeWorld) => {
  let world: EngineWorld;
  let server: Server;
  let backup: Backup;

  beforeAll(async () => {
    world = await drillWorld(makeWorld);
    server = await registerServer(world);
    const queued = await queueBackup(world, server, source, "zstd");
    const exit = await runEntryPoint(world, "backup", queued.id).result;
    expect(exit.code, exit.output).toBe(0);
    backup = (await world.store.backups.get(queued.id))!;
  });
  afterAll(() => removeDrillWorld(world));

  it("a scheduled backup that completes queues its drill with verify_every 1, and none with 0", async () => {
    const schedule = await world.store.schedules.create(
      makeSchedule({ server_id: server.id, database: source, verify_every: 1 }),
    );
    const queued = await queueBackup(world, server, source, "zstd");
    await world.store.backups.update(queued.id, { trigger: "schedule", schedule_id: schedule.id });
    const exit = await runEntryPoint(world, "backup", queued.id).result;
    expect(exit.code, exit.output).toBe(0);
    const { items } = await world.store.drills.list({ backup_id: queued.id }, { limit: 10 });
    expect(items, exit.output).toHaveLength(1);
    expect(items[0]).toMatchObject({ status: "queued", trigger: "schedule", created_by: "scheduler" });
    await world.store.drills.transition(items[0]!.id, "cancelled");
    await world.store.schedules.update(schedule.id, { verify_every: 0 });
    const second = await queueBackup(world, server, source, "zstd");
    await world.store.backups.update(second.id, { trigger: "schedule", schedule_id: schedule.id });
    expect((await runEntryPoint(world, "backup", second.id).result).code).toBe(0);
    expect((await world.store.drills.list({ backup_id: second.id }, { limit: 10 })).items).toEqual([]);
  }, 180_000);

  it("a drill on a throwaway server proves every collection and records the proof", async () => {
    const queued = await queueDrill(world, backup);
    const exit = await runEntryPoint(world, "verify", queued.id).result;
    expect(exit.code, exit.output).toBe(0);

    const drill = (await world.store.drills.get(queued.id)) as Drill;
    expect(drill).toMatchObject({
      status: "completed",
      error: null,
      runner_ref: expect.stringMatching(/^local:/),
    });
    expect(drill.duration_ms).toBeGreaterThan(0);
    const proof = drill.result!;
    expect(proof).toMatchObject({ status: "passed", drill_id: drill.id, target: "ephemeral", error: null });
    expect(proof.duration_ms).toBeGreaterThan(0);
    expect(proof.duration_ms!).toBeLessThanOrEqual(drill.duration_ms!);
    expect(Object.keys(proof.collections).sort()).toEqual(Object.keys(backup.collections!).sort());
    for (const [name, c] of Object.entries(proof.collections)) {
      expect(c.expected, name).toBe(backup.collections![name]);
      expect(c.restored, name).toBe(c.expected);
      expect(c.indexes_restored, name).toEqual(expect.arrayContaining(c.indexes_expected));
      // FerretDB's validate answers valid without checking: the proof says so rather than pass it.
      expect(c.valid, name).toBe("not supported by this server");
    }
    expect(proof.collections.orders?.indexes_expected).toEqual(
      expect.arrayContaining(["_id_", "status_total", "customer_seq_1_placed_at_-1"]),
    );
    expect(proof.collections.customers?.indexes_expected).toEqual(
      expect.arrayContaining(["_id_", "email_unique", "city_created"]),
    );

    // The proof is on the backup, in the audit log, and announced.
    expect((await world.store.backups.get(backup.id))?.verification).toEqual(proof);
    const { items: audit } = await world.store.audit.list({ target_id: backup.id }, { limit: 10 });
    expect(audit.find((a) => a.action === "backup.verified")).toMatchObject({
      outcome: "success",
      details: { drill_id: drill.id, target: "ephemeral" },
    });
    expect(exit.output).toMatch(/"event":"BackupVerified"/);

    // Nothing is left: no throwaway server process, no data dir.
    expect(await drillLeftovers(world)).toEqual({ processes: [], dirs: [] });
    expect(exit.output).not.toContain(mongoInfo().password);

    // A drill that already ended cannot be claimed again: exit 2, nothing changed.
    const again = await runEntryPoint(world, "verify", drill.id).result;
    expect(again.code, again.output).toBe(2);
    expect(await world.store.drills.get(drill.id)).toEqual(drill);
  });

  it("a sandbox drill restores into a scratch database and drops it afterwards", async () => {
    const sandbox = await registerServer(world, { name: uniqueName("sandbox"), sandbox: true });
    const queued = await queueDrill(world, backup, { kind: "sandbox", server_id: sandbox.id });
    const scratch = scratchDatabaseName(backup.id);
    expect(queued.scratch_database).toBe(scratch);
    const exit = await runEntryPoint(world, "verify", queued.id).result;
    expect(exit.code, exit.output).toBe(0);
    const drill = (await world.store.drills.get(queued.id)) as Drill;
    expect(drill.result).toMatchObject({ status: "passed", target: `sandbox:${sandbox.id}` });
    for (const c of Object.values(drill.result!.collections)) expect(c.restored).toBe(c.expected);
    expect(await databaseNames()).not.toContain(scratch);
    expect(exit.output).not.toContain(mongoInfo().password);
  });
});
