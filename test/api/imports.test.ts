// POST /api/backups/import and restore-latest over real adapters (local files, moto): a dump made
// by the real mongodump, put under imports/, imported by the real task, listed by its source key,
// refused a second time, and restored as "the latest" of its database; restore-latest's choice
// among completed, verified and failed backups; the 422s that name the field; viewers 403.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backup } from "#core/entities.ts";
import { newId } from "#core/ids.ts";
import { mongoTarget } from "#core/mongo-uri.ts";
import { startTool } from "#engine/mongo-tools.ts";
import { expectError, expectInvalid, latestAudit } from "#test/support/api-expect.ts";
import { type ApiWorld, addTestServer, apiWorld, waitForJob } from "#test/support/api-harness.ts";
import { toolPath } from "#test/support/engine-harness.ts";
import { adminMongoClient, awsClientConfig, mongoInfo, scratchDir, uniqueName } from "#test/support/env.ts";
import { makeBackup, makeServer } from "#test/support/fixtures.ts";
import { seedSampleDatabase, snapshotDatabase } from "#test/support/sample-data.ts";

let mongo: MongoClient;
let archive: Buffer;
const source = uniqueName("api_im_src").replaceAll("-", "_");

beforeAll(async () => {
  mongo = await adminMongoClient();
  await seedSampleDatabase(mongo, source, 300);
  const m = mongoInfo();
  const file = join(scratchDir("mbm-api-import-"), "dump.archive.gz");
  const server = makeServer({ host: m.host, port: m.port, username: m.username, tls: false, options: {} });
  const { uri } = mongoTarget(server, m.password);
  const lines: string[] = [];
  const run = await startTool(
    toolPath("mongodump"),
    [`--db=${source}`, `--archive=${file}`, "--gzip"],
    { uri, password: m.password },
    (l) => lines.push(l),
  );
  const exit = await run.done;
  if (exit.code !== 0) throw new Error(`mongodump failed: ${lines.join("\n")}`);
  archive = readFileSync(file);
});
afterAll(async () => {
  await mongo?.close();
});

async function placeSource(api: ApiWorld, key: string, bytes: Buffer): Promise<void> {
  if (api.world.kind === "aws") {
    const s3 = new S3Client(awsClientConfig("s3"));
    await s3.send(new PutObjectCommand({ Bucket: api.world.bucket, Key: key, Body: bytes }));
    return;
  }
  const path = join(api.world.env.MBM_DATA_DIR as string, ...key.split("/"));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

describe.each(["local", "aws"] as const)("imports and restore-latest (%s store)", (kind) => {
  let api: ApiWorld;
  let server: { id: string };
  beforeAll(async () => {
    api = await apiWorld(kind, { runJobs: true });
    server = await addTestServer(api);
  });
  afterAll(async () => {
    await api?.close();
  });

  it("imports a dump: 202 queued, completed by the task, found by its key, refused twice, restored as the latest", async () => {
    const key = `imports/2026/11/01/${uniqueName("shop")}.archive.gz`;
    await placeSource(api, key, archive);
    const reply = await api.call("POST", "/api/backups/import", {
      body: { server_id: server.id, database: source, source_key: key, name: "from the old cron job" },
    });
    expect(reply.status, reply.text).toBe(202);
    expect(reply.json).toMatchObject({
      server_id: server.id,
      database: source,
      trigger: "import",
      imported_from: key,
      name: "from the old cron job",
      compression: "zstd",
      created_by: "local-operator",
    });
    expect(["queued", "running", "completed"]).toContain(reply.json.status);
    expect(reply.json.expires_at).toEqual(expect.any(String));
    const done: Backup = await waitForJob(api, `/api/backups/${reply.json.id}`);
    expect(done, JSON.stringify(done)).toMatchObject({ status: "completed", error: null, trigger: "import" });
    expect(Object.values(done.collections ?? {}).reduce((a, b) => a + b, 0)).toBe(300);
    expect((await latestAudit(api, reply.json.id))?.action).toBe("backup.import");

    const listed = await api.call("GET", `/api/backups?imported_from=${encodeURIComponent(key)}`);
    expect(listed.status, listed.text).toBe(200);
    expect(listed.json.items.map((b: Backup) => b.id)).toEqual([done.id]);

    const again = await api.call("POST", "/api/backups/import", {
      body: { server_id: server.id, database: source, source_key: key },
    });
    expectError(again, 409, "conflict");
    expect(again.json.error.message).toContain(done.id);

    const target = `${source}_${kind}_latest`;
    const restore = await api.call("POST", "/api/restore", {
      body: { server_id: server.id, database: source, target_database: target },
    });
    expect(restore.status, restore.text).toBe(202);
    expect(restore.json).toMatchObject({
      backup_id: done.id,
      source_database: source,
      target_database: target,
    });
    const restored = await waitForJob(api, `/api/restore/${restore.json.id}`);
    expect(restored, JSON.stringify(restored)).toMatchObject({ status: "completed" });
    const [a, b] = await Promise.all([snapshotDatabase(mongo, source), snapshotDatabase(mongo, target)]);
    expect(b.documents).toEqual(a.documents);
    expect(b.indexes).toEqual(a.indexes);
  });

  it("restore-latest takes the newest completed backup, with verified the newest that passed a drill; 404 without one", async () => {
    const database = `latest_${kind}_${newId().slice(-6)}`;
    const make = (overrides: Partial<Backup>) =>
      api.world.store.backups.create(
        makeBackup({ server_id: server.id, database, status: "completed", ...overrides }),
      );
    const passed = {
      status: "passed" as const,
      drill_id: newId(),
      at: new Date().toISOString(),
      duration_ms: 10,
      target: "ephemeral",
      collections: {},
      error: null,
    };
    const verified = await make({ verification: passed });
    const newer = await make({ verification: { ...passed, status: "failed", error: "counts differ" } });
    await make({ status: "failed", error: "boom" });
    const pick = async (body: Record<string, unknown>) => {
      // The same target server, another name, nothing dropped: only the choice of backup matters here.
      const reply = await api.call("POST", "/api/restore", {
        body: { server_id: server.id, database, target_database: `${database}_copy`, ...body },
      });
      return reply;
    };
    const latest = await pick({});
    expect(latest.status, latest.text).toBe(202);
    expect(latest.json.backup_id).toBe(newer.id);
    const latestVerified = await pick({ verified: true });
    expect(latestVerified.status, latestVerified.text).toBe(202);
    expect(latestVerified.json.backup_id).toBe(verified.id);

    const nothing = `${database}_none`;
    await api.world.store.backups.create(
      makeBackup({ server_id: server.id, database: nothing, status: "failed", error: "boom" }),
    );
    const none = await api.call("POST", "/api/restore", {
      body: { server_id: server.id, database: nothing },
    });
    expectError(none, 404, "not_found");
    expect(none.json.error.message).toMatch(/no completed backup/);
    const unverified = `${database}_unverified`;
    await api.world.store.backups.create(
      makeBackup({ server_id: server.id, database: unverified, status: "completed" }),
    );
    const noneVerified = await api.call("POST", "/api/restore", {
      body: { server_id: server.id, database: unverified, verified: true },
    });
    expectError(noneVerified, 404, "not_found");
    expect(noneVerified.json.error.message).toMatch(/passed a restore drill/);
  });
});

describe("import and restore-latest validation and roles", () => {
  let api: ApiWorld;
  let server: { id: string };
  beforeAll(async () => {
    api = await apiWorld("local");
    server = await addTestServer(api);
  });
  afterAll(async () => {
    await api?.close();
  });

  const importBody = (over: Record<string, unknown>) => ({
    server_id: server.id,
    database: "shop",
    source_key: "imports/shop.archive",
    ...over,
  });

  it.each([
    ["source_key", { source_key: "backups/x/y.archive" }, /imports\//],
    ["source_key", { source_key: "imports/../secret.key" }, /\.\./],
    ["source_key", { source_key: "imports//x" }, /empty segment/],
    ["source_key", { source_key: `imports/${"a".repeat(600)}` }, undefined],
    ["source_key", { source_key: "imports/a\u0001b" }, undefined],
    ["database", { database: "bad/name" }, /database name/],
    ["database", { database: "local" }, /system database/],
    ["server_id", { server_id: undefined }, undefined],
    ["compression", { compression: "brotli" }, undefined],
    ["surprise", { surprise: 1 }, undefined],
  ])("refuses a bad %s with 422 naming it, and queues nothing", async (field, over, message) => {
    const before = (await api.world.store.backups.list({}, { limit: 100 })).items.length;
    const reply = await api.call("POST", "/api/backups/import", { body: importBody(over) });
    expectInvalid(reply, field, message);
    expect((await api.world.store.backups.list({}, { limit: 100 })).items.length).toBe(before);
  });

  it("answers 404 for an unknown server", async () => {
    const reply = await api.call("POST", "/api/backups/import", { body: importBody({ server_id: newId() }) });
    expectError(reply, 404, "not_found");
  });

  it.each([
    ["backup_id", { backup_id: newId(), server_id: newId(), database: "shop" }],
    ["backup_id", {}],
    ["database", { server_id: newId() }],
    ["server_id", { database: "shop" }],
    ["backup_id", { verified: true }],
    ["verified", { server_id: newId(), database: "shop", verified: "yes" }],
  ])("refuses a restore body without one way to name the backup: 422 naming %s", async (field, body) => {
    const reply = await api.call("POST", "/api/restore", { body });
    expectInvalid(reply, field);
  });

  it("refuses viewers both: 403, nothing queued", async () => {
    const before = (await api.world.store.backups.list({}, { limit: 100 })).items.length;
    const imported = await api.call("POST", "/api/backups/import", { body: importBody({}), as: "viewer" });
    expectError(imported, 403, "forbidden");
    const restore = await api.call("POST", "/api/restore", {
      body: { server_id: server.id, database: "shop" },
      as: "viewer",
    });
    expectError(restore, 403, "forbidden");
    expect((await api.world.store.backups.list({}, { limit: 100 })).items.length).toBe(before);
  });
});
