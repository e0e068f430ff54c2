// The engine end to end on real components: the real task entry point runs real mongodump and
// mongorestore against FerretDB, through the AWS adapters (moto) and through the local adapters.
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Server } from "#core/entities.ts";
import {
  awsWorld,
  type EngineWorld,
  localWorld,
  queueBackup,
  queueRestore,
  registerServer,
  runEntryPoint,
} from "#test/support/engine-harness.ts";
import { adminMongoClient, mongoInfo, uniqueName } from "#test/support/env.ts";
import {
  countDocuments,
  sampleCollections,
  seedSampleDatabase,
  snapshotDatabase,
} from "#test/support/sample-data.ts";

let mongo: MongoClient;
const source = uniqueName("roundtrip").replace("-", "_");

beforeAll(async () => {
  mongo = await adminMongoClient();
  await seedSampleDatabase(mongo, source, 20_000);
});
afterAll(async () => {
  await mongo?.close();
});

describe.each([
  ["AWS adapters (DynamoDB, Secrets Manager, S3 on moto)", awsWorld],
  ["local adapters (files, encrypted secrets)", localWorld],
])("backup and restore through %s", (_name, makeWorld) => {
  let world: EngineWorld;
  let server: Server;

  beforeAll(async () => {
    world = await makeWorld();
    server = await registerServer(world);
  });

  it("restores every document and index under a new name", async () => {
    const queued = await queueBackup(world, server, source);
    const backupRun = runEntryPoint(world, "backup", queued.id);
    const backupExit = await backupRun.result;
    expect(backupExit.code, backupExit.output).toBe(0);

    const backup = await world.store.backups.get(queued.id);
    expect(backup).toMatchObject({
      status: "completed",
      compression: "gzip",
      error: null,
      trigger: "manual",
    });
    expect(backup?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(backup?.size_bytes).toBeGreaterThan(0);
    // S3 (versioned, as deployed) records the object's version and its own checksum of it; files keep neither.
    const stored = await world.blobs.head(backup!.blob_key!);
    if (world.kind === "aws") {
      expect(backup?.blob_version).toEqual(expect.any(String));
      expect(backup?.blob_checksum).toMatch(/^crc32:[A-Za-z0-9+/]{6}==$/);
      expect(stored).toMatchObject({ versionId: backup?.blob_version, checksum: backup?.blob_checksum });
    } else {
      expect(backup).toMatchObject({ blob_version: null, blob_checksum: null });
    }
    expect(backup?.tool_version).toMatch(/^\d+\.\d+/);
    expect(backup?.duration_ms).toBeGreaterThan(0);
    expect(backup?.runner_ref).toMatch(/^local:\d+$/);
    expect(Object.keys(backup?.collections ?? {}).sort()).toEqual([...sampleCollections].sort());
    const expected = await snapshotDatabase(mongo, source);
    for (const [name, docs] of Object.entries(expected.documents))
      expect(backup?.collections?.[name]).toBe(docs.length);
    const info = await world.blobs.head(backup?.blob_key ?? "");
    expect(info?.size).toBe(backup?.size_bytes);

    const target = `${source}_copy_${world.kind}`;
    const queuedRestore = await queueRestore(world, backup!, { server, database: target });
    const restoreExit = await runEntryPoint(world, "restore", queuedRestore.id).result;
    expect(restoreExit.code, restoreExit.output).toBe(0);
    expect(await world.store.restores.get(queuedRestore.id)).toMatchObject({
      status: "completed",
      error: null,
    });
    // The completion line says where the time went: on S3 no pass 1, so `verify` only opens the version.
    const completion = restoreExit.output.split("\n").find((l) => l.includes('"restore completed"'));
    expect(JSON.parse(completion ?? "{}").stages_ms, restoreExit.output).toEqual({
      claim_ms: expect.any(Number),
      prepare_ms: expect.any(Number),
      verify_ms: expect.any(Number),
      restore_ms: expect.any(Number),
      record_ms: expect.any(Number),
    });

    const restored = await snapshotDatabase(mongo, target);
    expect(countDocuments(restored)).toBe(20_000);
    expect(restored.indexes).toEqual(expected.indexes);
    expect(restored.documents).toEqual(expected.documents);

    // The password reached neither the record, the logs, nor the blob store's metadata.
    const password = mongoInfo().password;
    expect(JSON.stringify(backup)).not.toContain(password);
    expect(backupExit.output + restoreExit.output).not.toContain(password);
  });

  it("restores only the chosen collections", async () => {
    const queued = await queueBackup(world, server, source, "zstd");
    expect((await runEntryPoint(world, "backup", queued.id).result).code).toBe(0);
    const backup = (await world.store.backups.get(queued.id))!;
    expect(backup.compression).toBe("zstd");
    expect(backup.blob_key).toMatch(/\.zst$/);

    const target = `${source}_partial_${world.kind}`;
    const restore = await queueRestore(world, backup, {
      server,
      database: target,
      collections: ["orders", "settings"],
    });
    const exit = await runEntryPoint(world, "restore", restore.id).result;
    expect(exit.code, exit.output).toBe(0);

    const restored = await snapshotDatabase(mongo, target);
    const expected = await snapshotDatabase(mongo, source);
    expect(Object.keys(restored.documents).sort()).toEqual(["orders", "settings"]);
    expect(restored.documents.orders).toEqual(expected.documents.orders);
    expect(restored.documents.settings).toEqual(expected.documents.settings);
    expect(restored.indexes.orders).toEqual(expected.indexes.orders);
  });
});
