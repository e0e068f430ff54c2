// Every way a job can fail ends with the record `failed`, a clear reason free of secrets, a non-zero
// exit, and nothing left in the blob store (no object, no multipart upload, no partial file).

import { Writable } from "node:stream";
import { S3Client } from "@aws-sdk/client-s3";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3BlobStore } from "#adapters/aws/s3-blob-store.ts";
import type { Server } from "#core/entities.ts";
import { newId } from "#core/ids.ts";
import { loopbackCidrs } from "#core/outbound-policy.ts";
import { runBackup } from "#engine/backup.ts";
import { createLogger } from "#functions/logger.ts";
import {
  awsWorld,
  type EngineWorld,
  localWorld,
  processExposure,
  queueBackup,
  queueRestore,
  registerServer,
  runEntryPoint,
  toolPath,
  waitForChild,
} from "#test/support/engine-harness.ts";
import { adminMongoClient, awsClientConfig, mongoInfo, uniqueName } from "#test/support/env.ts";
import { makeServer } from "#test/support/fixtures.ts";
import { seedBulkDatabase, seedSampleDatabase, snapshotDatabase } from "#test/support/sample-data.ts";
import { freePort } from "../../scripts/processes.ts";

let mongo: MongoClient;
const small = uniqueName("fail_small").replace("-", "_");
const bulk = uniqueName("fail_bulk").replace("-", "_");

beforeAll(async () => {
  mongo = await adminMongoClient();
  await seedSampleDatabase(mongo, small, 2_000);
  await seedBulkDatabase(mongo, bulk, 12);
});
afterAll(async () => {
  await mongo?.close();
});

async function databaseExists(name: string): Promise<boolean> {
  const { databases } = await mongo.db("admin").command({ listDatabases: 1, nameOnly: true });
  return (databases as Array<{ name: string }>).some((d) => d.name === name);
}

describe.each([
  ["AWS adapters", awsWorld],
  ["local adapters", localWorld],
])("failures through %s", (_name, makeWorld) => {
  let world: EngineWorld;
  let server: Server;
  const password = () => mongoInfo().password;

  beforeAll(async () => {
    world = await makeWorld();
    server = await registerServer(world);
  });

  async function expectFailedBackup(serverUsed: Server, database: string, reason: RegExp) {
    const queued = await queueBackup(world, serverUsed, database);
    const exit = await runEntryPoint(world, "backup", queued.id).result;
    expect(exit.code, exit.output).toBe(1);
    const record = await world.store.backups.get(queued.id);
    expect(record?.status).toBe("failed");
    expect(record?.error).toMatch(reason);
    expect(record?.blob_key).toBeNull();
    expect(record?.finished_at).not.toBeNull();
    expect(await world.leftovers(`backups/${serverUsed.id}/`)).toEqual({ objects: [], uploads: [] });
    return { record: record!, output: exit.output };
  }

  it("wrong password: authentication failed, and the password is nowhere", async () => {
    const wrong = `Wr0ng-${uniqueName("pw")}`;
    const badServer = await registerServer(world, { name: "wrong password" }, wrong);
    const { record, output } = await expectFailedBackup(
      badServer,
      small,
      /^mongodump exited with code 1: authentication failed/,
    );
    for (const secret of [wrong, password()]) {
      expect(JSON.stringify(record)).not.toContain(secret);
      expect(output).not.toContain(secret);
    }
  });

  it("unreachable host: server unreachable", async () => {
    const closed = await freePort();
    const badServer = await registerServer(world, { name: "nobody home", port: closed });
    await expectFailedBackup(badServer, small, /server unreachable/);
  });

  it("a server at a refused address: the tool never starts (metadata endpoint, unspecified)", async () => {
    for (const [host, reason] of [
      [
        "169.254.169.254",
        /^the server's address is refused: 169\.254\.169\.254 is a cloud metadata endpoint/,
      ],
      ["0.0.0.0", /^the server's address is refused: 0\.0\.0\.0 is an unspecified address/],
    ] as const) {
      const refused = await registerServer(world, { name: `at ${host}`, host });
      const { record, output } = await expectFailedBackup(refused, small, reason);
      expect(output).not.toContain("mongodump exited");
      expect(record.tool_version).toBeNull();
    }
  });

  it("unknown database: not found, and no empty archive is kept", async () => {
    await expectFailedBackup(server, "no_such_database", /database "no_such_database" not found/);
  });

  // Issue 13 item 4, in the engine: a record queued before the rule (or around the API) is refused.
  it("a backup of local or config, or a restore into admin/local/config, fails with the reason, touching nothing", async () => {
    for (const name of ["local", "Config"]) {
      await expectFailedBackup(server, name, /system database: local and config are never backed up/);
    }
    // Its own server: later tests expect no archive under the shared server's prefix.
    const source = await registerServer(world, { name: "system targets" });
    const queued = await queueBackup(world, source, small);
    expect((await runEntryPoint(world, "backup", queued.id).result).code).toBe(0);
    const backup = (await world.store.backups.get(queued.id))!;
    for (const name of ["admin", "LOCAL", "config"]) {
      const restore = await queueRestore(world, backup, { server: source, database: name, drop: true });
      const exit = await runEntryPoint(world, "restore", restore.id).result;
      expect(exit.code, exit.output).toBe(1);
      expect((await world.store.restores.get(restore.id))?.error).toMatch(
        /^\S+ is a system database: admin, local and config are never restore targets$/,
      );
    }
    const admin = await mongo.db("admin").listCollections({}, { nameOnly: true }).toArray();
    expect(admin.map((c) => c.name)).not.toContain("customers");
  });

  // Issue 13 item 1, in the engine: a username without a stored password is not attempted.
  it("a server with a username but no stored password: password needed", async () => {
    const bare = makeServer({ ...server, id: newId(), name: "no password", has_password: false });
    await world.store.servers.create(bare);
    const { record } = await expectFailedBackup(bare, small, /^password needed: server \S+ has a username/);
    expect(record.error).not.toMatch(/unexpected/);
    const oldOptions = await registerServer(world, { name: "old options", options: { tlsInsecure: "true" } });
    await expectFailedBackup(
      oldOptions,
      small,
      /^options: tlsInsecure may not be set in options: use the tls field/,
    );
  });

  // Issue 13 item 5: a short password that is part of a database name leaves the name readable.
  it("a reason naming a database that contains the (short) password keeps the name whole", async () => {
    const user = uniqueName("short_pw_user").replace("-", "_");
    // FerretDB takes only the default (empty) roles; its users may still run what this needs.
    await mongo.db("admin").command({ createUser: user, pwd: "prod", roles: [] });
    try {
      const shortPassword = await registerServer(world, { name: "short password", username: user }, "prod");
      const missing = `production_${world.kind}_missing`;
      await expectFailedBackup(shortPassword, missing, new RegExp(`database "${missing}" not found`));
    } finally {
      await mongo.db("admin").command({ dropUser: user });
    }
  });

  it("keeps the password out of the tool's command line and environment, and fails when the tool is killed", async () => {
    const queued = await queueBackup(world, server, bulk);
    const run = runEntryPoint(world, "backup", queued.id);
    const pid = await waitForChild(run.child.pid!, "mongodump");
    const seen = processExposure(pid);
    expect(seen.cmdline).toMatch(/mongodump --config=\S+ --db=\S+ --archive --serverSelectionTimeout=3 $/);
    expect(seen.cmdline).not.toContain(password());
    expect(seen.environ).not.toContain(password());
    expect(seen.environ).not.toContain("AWS_SECRET_ACCESS_KEY");
    process.kill(pid, "SIGKILL");

    const exit = await run.result;
    expect(exit.code, exit.output).toBe(1);
    const record = await world.store.backups.get(queued.id);
    expect(record).toMatchObject({
      status: "failed",
      error: "mongodump was killed by SIGKILL",
      blob_key: null,
    });
    expect(await world.leftovers(`backups/${server.id}/`)).toEqual({ objects: [], uploads: [] });
  });

  it("SIGTERM to the task (ECS stopping it): failed, tool stopped, nothing left", async () => {
    const queued = await queueBackup(world, server, bulk);
    const run = runEntryPoint(world, "backup", queued.id);
    const pid = await waitForChild(run.child.pid!, "mongodump");
    run.child.kill("SIGTERM");
    const exit = await run.result;
    expect(exit.code, exit.output).toBe(1);
    expect(await world.store.backups.get(queued.id)).toMatchObject({
      status: "failed",
      error: "task stopped by SIGTERM before the job finished",
    });
    expect(processExposure(pid).cmdline).toBe("");
    expect(await world.leftovers(`backups/${server.id}/`)).toEqual({ objects: [], uploads: [] });
  });

  /** A completed backup of `small`, then a newer copy of its archive with one byte flipped, same size, under the same key. */
  async function backupThenTamper() {
    const queued = await queueBackup(world, server, small);
    expect((await runEntryPoint(world, "backup", queued.id).result).code).toBe(0);
    const backup = (await world.store.backups.get(queued.id))!;
    const { body } = await world.blobs.download(backup.blob_key!);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    const { Readable } = await import("node:stream");
    await world.blobs.upload(backup.blob_key!, Readable.from([bytes]));
    return backup;
  }

  it("a tampered archive without a recorded version fails its restore and leaves the target untouched", async () => {
    let backup = await backupThenTamper();
    // Locally no version is ever recorded; on S3 the record is made to look like one from before
    // versions were recorded: both must take the two-pass check.
    if (world.kind === "aws") {
      expect(backup.blob_version).toEqual(expect.any(String));
      backup = await world.store.backups.update(backup.id, { blob_version: null, blob_checksum: null });
    }
    expect(backup.blob_version).toBeNull();

    const target = `${small}_tampered_${world.kind}`;
    const restore = await queueRestore(world, backup, { server, database: target, drop: true });
    const exit = await runEntryPoint(world, "restore", restore.id).result;
    expect(exit.code, exit.output).toBe(1);
    const record = await world.store.restores.get(restore.id);
    expect(record?.status).toBe("failed");
    expect(record?.error).toMatch(/integrity check .* nothing was restored/);
    expect(await databaseExists(target)).toBe(false);
  });

  // Only the S3 store records object versions: the test exists only in the AWS suite, rather than as
  // a skipped test in the local one.
  if (makeWorld === awsWorld) {
    it("a restore reads the recorded S3 version: a newer version of the key never reaches mongorestore", async () => {
      const backup = await backupThenTamper();
      expect(backup.blob_version).toEqual(expect.any(String));
      // The tampered bytes are what a plain read of the key now gets.
      expect((await world.blobs.head(backup.blob_key!))?.versionId).not.toBe(backup.blob_version);

      const target = `${small}_versioned_${world.kind}`;
      const restore = await queueRestore(world, backup, { server, database: target, drop: true });
      const exit = await runEntryPoint(world, "restore", restore.id).result;
      expect(exit.code, exit.output).toBe(0);
      expect(await world.store.restores.get(restore.id)).toMatchObject({
        status: "completed",
        error: null,
        progress: { bytes: backup.size_bytes },
      });
      // The restored data is the source's, document for document: the flipped byte never arrived.
      expect(await snapshotDatabase(mongo, target)).toEqual(await snapshotDatabase(mongo, small));
      await mongo.db(target).dropDatabase();
    });
  }

  it("a restore with a wrong target password fails with the reason and writes nothing", async () => {
    const queued = await queueBackup(world, server, small);
    expect((await runEntryPoint(world, "backup", queued.id).result).code).toBe(0);
    const backup = (await world.store.backups.get(queued.id))!;
    const wrongTarget = await registerServer(world, { name: "wrong target" }, "not-it");
    const target = `${small}_denied_${world.kind}`;
    const restore = await queueRestore(world, backup, { server: wrongTarget, database: target });
    const exit = await runEntryPoint(world, "restore", restore.id).result;
    expect(exit.code, exit.output).toBe(1);
    expect((await world.store.restores.get(restore.id))?.error).toMatch(
      /^mongorestore exited with code 1: authentication failed/,
    );
    expect(await databaseExists(target)).toBe(false);
  });

  it("a restore to a server at a refused address fails before reading the archive or starting the tool", async () => {
    const queued = await queueBackup(world, server, small);
    expect((await runEntryPoint(world, "backup", queued.id).result).code).toBe(0);
    const backup = (await world.store.backups.get(queued.id))!;
    const metadata = await registerServer(world, { name: "metadata target", host: "169.254.169.254" });
    const restore = await queueRestore(world, backup, { server: metadata, database: `${small}_meta` });
    const exit = await runEntryPoint(world, "restore", restore.id).result;
    expect(exit.code, exit.output).toBe(1);
    expect((await world.store.restores.get(restore.id))?.error).toBe(
      "the server's address is refused: 169.254.169.254 is a cloud metadata endpoint (never allowed)",
    );
    expect(exit.output).not.toContain("mongorestore exited");
  });

  it("refuses to claim a job that is not queued, changing nothing", async () => {
    const queued = await queueBackup(world, server, small);
    await world.store.backups.transition(queued.id, "cancelled");
    const exit = await runEntryPoint(world, "backup", queued.id).result;
    expect(exit.code).toBe(2);
    expect((await world.store.backups.get(queued.id))?.status).toBe("cancelled");
  });
});

describe("S3 failing mid-stream", () => {
  it("aborts the multipart upload and records the failure", async () => {
    const world = await awsWorld();
    const server = await registerServer(world);
    // moto cannot be told to fail one request, so the SDK client fails the second part on its way out.
    const s3 = new S3Client(awsClientConfig("s3"));
    let parts = 0;
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "UploadPartCommand" && ++parts === 2) {
          throw new Error("injected: connection reset by peer");
        }
        return next(args);
      },
      { step: "initialize", name: "failSecondPart" },
    );
    let logs = "";
    const log = createLogger("test", {
      destination: new Writable({
        write(chunk, _e, cb) {
          logs += chunk.toString();
          cb();
        },
      }),
    });
    const queued = await queueBackup(world, server, bulk, "none");
    const record = await runBackup(
      {
        store: world.store,
        secrets: world.secrets,
        blobs: new S3BlobStore({ client: s3, bucket: world.bucket!, maxPartSizeBytes: 5 * 1024 * 1024 }),
        tools: { mongodump: toolPath("mongodump"), mongorestore: toolPath("mongorestore") },
        log,
        serverSelectionTimeoutSeconds: 3,
        runnerRef: "test",
        mongoAllowlist: loopbackCidrs, // the test FerretDB runs on loopback
      },
      queued.id,
      new AbortController().signal,
    );
    expect(parts).toBeGreaterThanOrEqual(2);
    expect(record.status).toBe("failed");
    expect(record.error).toMatch(/^upload of the archive failed: .*injected: connection reset by peer/);
    expect(await world.leftovers(`backups/${server.id}/`)).toEqual({ objects: [], uploads: [] });
    expect(logs).not.toContain(mongoInfo().password);
  });
});

describe("the completion write's reply is lost", () => {
  it("keeps the archive when the record already says completed with it (a retried write that landed)", async () => {
    const world = await localWorld();
    const server = await registerServer(world);
    // The write lands, then the caller sees an error: what a retried DynamoDB Put whose first attempt
    // succeeded looks like (the retry meets `completed` and conflicts).
    const transition = world.store.backups.transition.bind(world.store.backups);
    world.store.backups.transition = async (...args: Parameters<typeof transition>) => {
      const written = await transition(...args);
      if (args[1] === "completed") throw new Error("injected: reply lost after the write");
      return written;
    };
    const queued = await queueBackup(world, server, small);
    const record = await runBackup(
      {
        store: world.store,
        secrets: world.secrets,
        blobs: world.blobs,
        tools: { mongodump: toolPath("mongodump"), mongorestore: toolPath("mongorestore") },
        log: createLogger("test", { level: "silent" }),
        serverSelectionTimeoutSeconds: 3,
        runnerRef: "test",
        mongoAllowlist: loopbackCidrs, // the test FerretDB runs on loopback
      },
      queued.id,
      new AbortController().signal,
    );
    expect(record).toMatchObject({ status: "completed", error: null });
    expect(await world.store.backups.get(queued.id)).toEqual(record);
    expect(record.blob_key).not.toBeNull();
    expect((await world.blobs.head(record.blob_key!))?.size).toBe(record.size_bytes);
  });
});

describe("the ECS metadata endpoint failing", () => {
  it("keeps the task ARN the dispatcher recorded, so cancel, reaper and task-state still find the task", async () => {
    const world = await localWorld();
    const server = await registerServer(world);
    const queued = await queueBackup(world, server, small);
    const arn =
      "arn:aws:ecs:us-east-1:123456789012:task/mongo-backup-manager/0123456789abcdef0123456789abcdef";
    await world.store.backups.update(queued.id, { runner_ref: arn });
    const nobody = `http://127.0.0.1:${await freePort()}/v4/x`;
    const exit = await runEntryPoint(
      { ...world, env: { ...world.env, ECS_CONTAINER_METADATA_URI_V4: nobody } },
      "backup",
      queued.id,
    ).result;
    expect(exit.code, exit.output).toBe(0);
    expect(exit.output).toContain("ECS task metadata unavailable");
    expect(await world.store.backups.get(queued.id)).toMatchObject({ status: "completed", runner_ref: arn });
  });
});
