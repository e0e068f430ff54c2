// Every way a restore drill fails ends with the drill `failed`, its proof `failed` with a clear
// reason free of secrets on the drill and the backup, BackupVerificationFailed announced, a non-zero
// exit, and nothing left behind: no throwaway server process, no data dir, no scratch database.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { gunzipSync, gzipSync } from "node:zlib";
import { deserialize, serialize } from "bson";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backup, Drill, Server } from "#core/entities.ts";
import { newId } from "#core/ids.ts";
import { scratchDatabaseName } from "#core/use-cases/drill-targets.ts";
import { parsePrelude } from "#engine/archive/prelude.ts";
import { drillLeftovers, drillWorld, removeDrillWorld, taskTmp } from "#test/support/drill-harness.ts";
import {
  awsWorld,
  type EngineWorld,
  localWorld,
  queueBackup,
  queueDrill,
  registerServer,
  runEntryPoint,
  waitForChild,
} from "#test/support/engine-harness.ts";
import { adminMongoClient, mongoInfo, uniqueName } from "#test/support/env.ts";
import { seedBulkDatabase, seedSampleDatabase } from "#test/support/sample-data.ts";
import { freePort } from "../../scripts/processes.ts";

let mongo: MongoClient;
const source = uniqueName("drill_fail").replace("-", "_");
// 12 MiB of incompressible documents: a restore that takes long enough to be stopped part way.
const bulk = uniqueName("drill_bulk").replace("-", "_");

beforeAll(async () => {
  mongo = await adminMongoClient();
  await seedSampleDatabase(mongo, source, 1_000);
  await seedBulkDatabase(mongo, bulk, 12);
});
afterAll(async () => {
  await mongo?.close();
});

async function databaseNames(): Promise<string[]> {
  const { databases } = await mongo.db("admin").admin().listDatabases({ nameOnly: true });
  return databases.map((d) => d.name);
}

/** Polls `look` until it returns something, or fails after `ms` saying what it last saw. */
async function waitFor<T>(
  what: string,
  look: () => Promise<T | undefined> | T | undefined,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let seen: unknown;
  while (Date.now() < deadline) {
    const value = await look();
    if (value !== undefined) return value;
    seen = value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: not seen within ${ms} ms (last: ${JSON.stringify(seen)})`);
}

describe.each([
  ["AWS adapters (moto)", awsWorld],
  ["local adapters", localWorld],
])("failing restore drills through %s", (_name, makeWorld) => {
  let world: EngineWorld;
  let server: Server;
  let backup: Backup;

  beforeAll(async () => {
    world = await drillWorld(makeWorld);
    server = await registerServer(world);
    const queued = await queueBackup(world, server, source, "gzip");
    const exit = await runEntryPoint(world, "backup", queued.id).result;
    expect(exit.code, exit.output).toBe(0);
    backup = (await world.store.backups.get(queued.id))!;
  });
  afterAll(() => removeDrillWorld(world));

  /** Runs the drill (with `env` added) and checks the failure's every trace. */
  async function expectFailedDrill(drill: Drill, reason: RegExp, env: Record<string, string> = {}) {
    const exit = await runEntryPoint({ ...world, env: { ...world.env, ...env } }, "verify", drill.id).result;
    expect(exit.code, exit.output).toBe(1);
    const record = (await world.store.drills.get(drill.id)) as Drill;
    expect(record.status, exit.output).toBe("failed");
    expect(record.error).toMatch(reason);
    expect(record.result).toMatchObject({ status: "failed", drill_id: drill.id, error: record.error });
    expect(record.finished_at).not.toBeNull();
    expect((await world.store.backups.get(drill.backup_id))?.verification).toEqual(record.result);
    expect(exit.output).toMatch(/"event":"BackupVerificationFailed"/);
    expect(exit.output).not.toContain(mongoInfo().password);
    expect(await drillLeftovers(world)).toEqual({ processes: [], dirs: [] });
    if (drill.scratch_database) expect(await databaseNames()).not.toContain(drill.scratch_database);
    return { record, output: exit.output };
  }

  async function readAll(key: string): Promise<Buffer> {
    const { body } = await world.blobs.download(key);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** A copy of the good backup's record (same archive) with `changes`: a record and an archive that disagree. */
  async function backupRecord(changes: Partial<Backup>): Promise<Backup> {
    return await world.store.backups.create({ ...backup, id: newId(), verification: null, ...changes });
  }

  it("the throwaway server cannot start: the reason names it and shows its output", async () => {
    const drill = await queueDrill(world, backup);
    const { record } = await expectFailedDrill(
      drill,
      /^the throwaway server could not start: .*no-such-mongod/,
      {
        MBM_DRILL_SERVER: "/nonexistent/no-such-mongod",
      },
    );
    expect(record.result?.duration_ms).toBeNull();
  });

  it("a sandbox that is unreachable fails with the reason, and nothing is restored", async () => {
    const closed = await registerServer(world, {
      name: uniqueName("closed"),
      sandbox: true,
      port: await freePort(),
    });
    const drill = await queueDrill(world, backup, { kind: "sandbox", server_id: closed.id });
    await expectFailedDrill(drill, /could not be used: .*(refused|unreachable|no answer)/i);
  });

  it("a sandbox that refuses the password: authentication failed, and the password is nowhere", async () => {
    const wrong = `Wr0ng-${uniqueName("pw")}`;
    const refusing = await registerServer(world, { name: uniqueName("refusing"), sandbox: true }, wrong);
    const drill = await queueDrill(world, backup, { kind: "sandbox", server_id: refusing.id });
    const { record, output } = await expectFailedDrill(drill, /authentication failed/i);
    expect(JSON.stringify(record) + output).not.toContain(wrong);
  });

  it("a server not marked as a sandbox is refused", async () => {
    const notSandbox = await registerServer(world, { name: uniqueName("production") });
    const drill = await queueDrill(world, backup, { kind: "sandbox", server_id: notSandbox.id });
    await expectFailedDrill(drill, /is not marked as a sandbox/);
  });

  it("a scratch database that already exists fails the drill and is left alone", async () => {
    const sandbox = await registerServer(world, { name: uniqueName("sandbox"), sandbox: true });
    const other = await backupRecord({});
    const scratch = scratchDatabaseName(other.id);
    await mongo.db(scratch).collection("theirs").insertOne({ mine: false });
    try {
      const drill = await queueDrill(world, other, { kind: "sandbox", server_id: sandbox.id });
      const exit = await runEntryPoint(world, "verify", drill.id).result;
      expect(exit.code, exit.output).toBe(1);
      const record = (await world.store.drills.get(drill.id)) as Drill;
      expect(record.status).toBe("failed");
      expect(record.error).toMatch(
        new RegExp(`scratch database ${scratch} already exists .* leaves it alone`),
      );
      expect(await mongo.db(scratch).collection("theirs").countDocuments()).toBe(1);
      expect(await drillLeftovers(world)).toEqual({ processes: [], dirs: [] });
    } finally {
      await mongo.db(scratch).dropDatabase();
    }
  });

  it("a tampered archive is refused before anything is restored", async () => {
    const bytes = await readAll(backup.blob_key!);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    const key = `${backup.blob_key}.tampered`;
    await world.blobs.upload(key, Readable.from([bytes]));
    // Without a recorded version (local files, or S3 backups from before versions): the two-pass check.
    const record = await backupRecord({ blob_key: key, blob_version: null, blob_checksum: null });
    const sandbox = await registerServer(world, { name: uniqueName("sandbox"), sandbox: true });
    const drill = await queueDrill(world, record, { kind: "sandbox", server_id: sandbox.id });
    const { record: failed, output } = await expectFailedDrill(
      drill,
      /integrity check .* nothing was restored/,
    );
    expect(failed.result?.duration_ms).toBeNull();
    expect(output).not.toMatch(/"tool":"mongorestore"/);
  });

  it("a restore that fails part way fails the drill with mongorestore's reason", async () => {
    // An archive cut after 60% of its bytes, recorded with its own sha256 and size: it passes the
    // integrity check, mongorestore restores what comes first and fails on the rest.
    const archive = gunzipSync(await readAll(backup.blob_key!));
    const cut = gzipSync(archive.subarray(0, Math.floor(archive.length * 0.6)));
    const key = `${backup.blob_key}.truncated`;
    await world.blobs.upload(key, Readable.from([cut]));
    const record = await backupRecord({
      blob_key: key,
      blob_version: (await world.blobs.head(key))?.versionId ?? null,
      sha256: createHash("sha256").update(cut).digest("hex"),
      size_bytes: cut.length,
    });
    const sandbox = await registerServer(world, { name: uniqueName("sandbox"), sandbox: true });
    const drill = await queueDrill(world, record, { kind: "sandbox", server_id: sandbox.id });
    const { record: failed } = await expectFailedDrill(drill, /^mongorestore exited with code \d+: .+/);
    expect(failed.result?.collections).toEqual({});
  });

  it("counts that differ from the record fail the drill, naming the collection", async () => {
    const counts = { ...backup.collections!, orders: backup.collections!.orders! + 3 };
    const record = await backupRecord({ collections: counts });
    const drill = await queueDrill(world, record);
    const orders = backup.collections!.orders!;
    const { record: failed } = await expectFailedDrill(
      drill,
      new RegExp(
        `collection orders: ${orders} document\\(s\\) restored, ${orders + 3} recorded at backup time`,
      ),
    );
    expect(failed.result?.collections.orders).toMatchObject({ expected: orders + 3, restored: orders });
    expect(failed.result?.collections.customers).toMatchObject({ restored: backup.collections!.customers });
    expect(failed.result?.duration_ms).toBeGreaterThan(0);
  });

  it("an index the archive lists that is missing after the restore fails the drill, naming it", async () => {
    // The archive's metadata names orders' _id index `by_id_primary`. mongorestore never builds an
    // index on _id alone (the server makes `_id_` itself: mongo-tools idx.IsDefaultIdIndex), so what
    // the archive lists is not what gets restored.
    const archive = gunzipSync(await readAll(backup.blob_key!));
    const prelude = parsePrelude(archive)!;
    const docs: Buffer[] = [];
    let offset = archive.readInt32LE(4) + 4; // past the magic and the header document
    while (offset < prelude.length - 4) {
      const size = archive.readInt32LE(offset);
      const raw = archive.subarray(offset, offset + size);
      const doc = deserialize(raw, { promoteValues: false });
      if (doc.collection === "orders") {
        doc.metadata = String(doc.metadata).replace('"name":"_id_"', '"name":"by_id_primary"');
        expect(doc.metadata).toContain("by_id_primary");
        docs.push(Buffer.from(serialize(doc)));
      } else docs.push(Buffer.from(raw));
      offset += size;
    }
    const edited = gzipSync(
      Buffer.concat([
        archive.subarray(0, archive.readInt32LE(4) + 4),
        ...docs,
        archive.subarray(prelude.length - 4),
      ]),
    );
    const key = `${backup.blob_key}.renamed-index`;
    await world.blobs.upload(key, Readable.from([edited]));
    const record = await backupRecord({
      blob_key: key,
      blob_version: (await world.blobs.head(key))?.versionId ?? null,
      sha256: createHash("sha256").update(edited).digest("hex"),
      size_bytes: edited.length,
    });
    const drill = await queueDrill(world, record);
    const { record: failed } = await expectFailedDrill(
      drill,
      /collection orders: index\(es\) by_id_primary missing after the restore/,
    );
    expect(failed.result?.collections.orders?.indexes_expected).toContain("by_id_primary");
    expect(failed.result?.collections.orders?.indexes_restored).toContain("_id_");
    expect(failed.result?.collections.customers?.restored).toBe(backup.collections!.customers);
  });

  it("a collection the record lists but the archive lacks fails the drill", async () => {
    const record = await backupRecord({ collections: { ...backup.collections!, invoices: 12 } });
    const drill = await queueDrill(world, record);
    const { record: failed } = await expectFailedDrill(
      drill,
      /collection invoices is in the backup's record but not in its archive/,
    );
    expect(failed.result?.collections.invoices).toEqual({
      expected: 12,
      restored: null,
      indexes_expected: [],
      indexes_restored: [],
      valid: "not run",
    });
  });

  it("SIGTERM while the throwaway server starts: failed, the server and its data dir gone", async () => {
    const drill = await queueDrill(world, backup);
    const run = runEntryPoint(world, "verify", drill.id);
    const tmp = taskTmp(world);
    await waitFor("the throwaway server's process", async () => {
      const { processes } = await drillLeftovers(world);
      return processes.some((p) => p.includes("throwaway-ferretdb")) ? true : undefined;
    });
    // The heartbeat goes on while the server starts (nothing restored yet).
    const beat = await waitFor("a heartbeat on the drill", async () => {
      const current = await world.store.drills.get(drill.id);
      return current?.progress ?? undefined;
    });
    expect(beat.bytes).toBe(0);
    run.child.kill("SIGTERM");
    const exit = await run.result;
    expect(exit.code, exit.output).toBe(1);
    const record = (await world.store.drills.get(drill.id)) as Drill;
    expect(record).toMatchObject({
      status: "failed",
      error: "task stopped by SIGTERM before the job finished",
    });
    expect(record.result?.status).toBe("failed");
    expect(await drillLeftovers(world), tmp).toEqual({ processes: [], dirs: [] });
  });

  it("a task killed outright takes its server down; the next drill removes the data dir it left", async () => {
    const killed = await queueDrill(world, backup);
    const run = runEntryPoint(world, "verify", killed.id);
    await waitFor("the throwaway server's process", async () => {
      const { processes } = await drillLeftovers(world);
      return processes.some((p) => p.includes("throwaway-ferretdb")) ? true : undefined;
    });
    run.child.kill("SIGKILL");
    await run.result;
    // The parent-death signal stops the server; its data dir stays (nobody was left to remove it).
    const left = await waitFor("the killed task's server to stop", async () => {
      const found = await drillLeftovers(world);
      return found.processes.length === 0 ? found : undefined;
    });
    expect(left.dirs).toHaveLength(1);
    // The reaper records the killed drill; the next drill on this machine removes what it left.
    await world.store.drills.transition(killed.id, "failed", { error: "task lost" });
    const next = await queueDrill(world, backup);
    const exit = await runEntryPoint(world, "verify", next.id).result;
    expect(exit.code, exit.output).toBe(0);
    expect(exit.output).toMatch(/removed data dirs of drills whose task was killed/);
    expect(await drillLeftovers(world)).toEqual({ processes: [], dirs: [] });
  });

  it("SIGTERM while mongorestore fills a sandbox: failed, the tool stopped, the scratch database dropped", async () => {
    const queued = await queueBackup(world, server, bulk, "none");
    expect((await runEntryPoint(world, "backup", queued.id).result).code).toBe(0);
    const big = (await world.store.backups.get(queued.id))!;
    const sandbox = await registerServer(world, { name: uniqueName("sandbox"), sandbox: true });
    const drill = await queueDrill(world, big, { kind: "sandbox", server_id: sandbox.id });
    const run = runEntryPoint(world, "verify", drill.id);
    const tool = await waitForChild(run.child.pid!, "mongorestore");
    run.child.kill("SIGTERM");
    const exit = await run.result;
    expect(exit.code, exit.output).toBe(1);
    const record = (await world.store.drills.get(drill.id)) as Drill;
    expect(record).toMatchObject({
      status: "failed",
      error: "task stopped by SIGTERM before the job finished",
    });
    expect(record.result).toMatchObject({ status: "failed", duration_ms: null });
    expect(() => process.kill(tool, 0)).toThrow();
    expect(await databaseNames()).not.toContain(drill.scratch_database);
    expect(await drillLeftovers(world)).toEqual({ processes: [], dirs: [] });
  });
});
