// /api/restore over real adapters (moto or local files): a completed backup restored under a new
// name (whole, or some collections) by the real task against FerretDB, the checks made before
// anything is queued, lists and their filters, and who may do what.
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "#core/ids.ts";
import { allPages, expectError, expectInvalid } from "#test/support/api-expect.ts";
import { type ApiWorld, addTestServer, apiWorld, waitForJob } from "#test/support/api-harness.ts";
import { adminMongoClient, uniqueName } from "#test/support/env.ts";
import { makeBackup, makeDatabase, makeRestore, makeSchedule } from "#test/support/fixtures.ts";
import { countDocuments, seedSampleDatabase, snapshotDatabase } from "#test/support/sample-data.ts";

let mongo: MongoClient;
const source = uniqueName("api_rs_src").replaceAll("-", "_");

beforeAll(async () => {
  mongo = await adminMongoClient();
  await seedSampleDatabase(mongo, source, 300);
});
afterAll(async () => {
  await mongo?.close();
});

describe.each(["local", "aws"] as const)("/api/restore (%s store)", (kind) => {
  let api: ApiWorld;
  let server: { id: string };
  let backup: { id: string; collections: Record<string, number> };
  const target = (suffix: string) => `${source}_${kind}_${suffix}`;

  beforeAll(async () => {
    api = await apiWorld(kind, { runJobs: true });
    server = await addTestServer(api);
    const sync = await api.call("POST", "/api/databases/sync", { body: { server_id: server.id } });
    expect(sync.status, sync.text).toBe(200);
    const triggered = await api.call("POST", "/api/backups", {
      body: { server_id: server.id, database: source },
    });
    expect(triggered.status, triggered.text).toBe(202);
    backup = await waitForJob(api, `/api/backups/${triggered.json.items[0].id}`);
    expect(backup).toMatchObject({ status: "completed" });
  });
  afterAll(async () => {
    await api?.close();
  });

  it("restores a backup under a new name on its own server: 202, then completed with equal data", async () => {
    const name = target("whole");
    const reply = await api.call("POST", "/api/restore", {
      body: { backup_id: backup.id, target_database: name },
    });
    expect(reply.status, reply.text).toBe(202);
    expect(reply.json).toMatchObject({
      backup_id: backup.id,
      source_server_id: server.id,
      source_database: source,
      target_server_id: server.id,
      target_database: name,
      drop: false,
      collections: null,
      created_by: "local-operator",
      error: null,
    });
    expect(["queued", "running"]).toContain(reply.json.status);

    const done = await waitForJob(api, `/api/restore/${reply.json.id}`);
    expect(done.status, done.error).toBe("completed");
    expect(done.finished_at).not.toBeNull();
    expect(done.duration_ms).toBeGreaterThanOrEqual(0);
    const restored = await snapshotDatabase(mongo, name);
    expect(countDocuments(restored)).toBe(300);
    expect(restored).toEqual(await snapshotDatabase(mongo, source));

    const one = await api.call("GET", `/api/restore/${reply.json.id}`, { as: "viewer" });
    expect(one.status).toBe(200);
    expect(one.json).toEqual(done);
    // The success entry names the new restore, and the backup it reads in its details.
    const audit = await api.call("GET", `/api/audit?target_id=${reply.json.id}`);
    expect(audit.json.items).toEqual([
      expect.objectContaining({
        action: "restore.trigger",
        outcome: "success",
        actor: "local-operator",
        target_type: "restore",
        details: { backup_id: backup.id, target_server_id: server.id, target_database: name, drop: false },
      }),
    ]);
  });

  it("restores only the collections asked for, to another server record", async () => {
    const other = await addTestServer(api, "the same ferretdb, by another name");
    const name = target("some");
    const reply = await api.call("POST", "/api/restore", {
      body: {
        backup_id: backup.id,
        target_server_id: other.id,
        target_database: name,
        collections: ["customers", "settings"],
      },
    });
    expect(reply.status, reply.text).toBe(202);
    expect(reply.json).toMatchObject({
      source_server_id: server.id,
      target_server_id: other.id,
      collections: ["customers", "settings"],
    });
    const done = await waitForJob(api, `/api/restore/${reply.json.id}`);
    expect(done.status, done.error).toBe("completed");

    const restored = await snapshotDatabase(mongo, name);
    const original = await snapshotDatabase(mongo, source);
    expect(Object.keys(restored.documents).sort()).toEqual(["customers", "settings"]);
    for (const c of ["customers", "settings"]) {
      expect(restored.documents[c]).toEqual(original.documents[c]);
      expect(restored.indexes[c]).toEqual(original.indexes[c]);
    }
  });

  it("refuses collections the backup does not hold, or that are not collection names", async () => {
    expect(Object.keys(backup.collections).sort()).toEqual([
      "blobs",
      "customers",
      "events",
      "orders",
      "settings",
    ]);
    const before = await api.world.store.restores.list({ backup_id: backup.id }, { limit: 100 });
    const missing = await api.call("POST", "/api/restore", {
      body: { backup_id: backup.id, target_database: target("bad"), collections: ["customers", "nope"] },
    });
    expectError(missing, 422, "invalid");
    expect(missing.json.error.details).toEqual([
      { field: "collections", message: expect.stringContaining("nope") },
    ]);
    for (const collections of [[], ["system.users"], ["a$b"], [""], ["x\u0007"]]) {
      const r = await api.call("POST", "/api/restore", {
        body: { backup_id: backup.id, target_database: target("bad"), collections },
      });
      expectError(r, 422, "invalid");
      expect(r.json.error.details[0].field, JSON.stringify(collections)).toMatch(/^collections/);
    }
    for (const [body, field] of [
      [{ target_database: target("bad") }, "backup_id"],
      [{ backup_id: backup.id, target_database: "a.b" }, "target_database"],
      [{ backup_id: backup.id, target_database: "x".repeat(64) }, "target_database"],
      [{ backup_id: backup.id, target_database: target("bad"), drop: "yes" }, "drop"],
      [{ backup_id: backup.id, target_database: target("bad"), overwrite: true }, "overwrite"],
    ] as const) {
      const r = await api.call("POST", "/api/restore", { body });
      expectError(r, 422, "invalid");
      expect(r.json.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expectError(await api.call("POST", "/api/restore", {}), 422, "invalid");
    const after = await api.world.store.restores.list({ backup_id: backup.id }, { limit: 100 });
    expect(after.items).toEqual(before.items);
  });

  it("needs drop: true to restore over the source database itself", async () => {
    const expected = await snapshotDatabase(mongo, source);
    for (const body of [
      { backup_id: backup.id },
      { backup_id: backup.id, target_database: source },
      { backup_id: backup.id, target_server_id: server.id, target_database: source, drop: false },
    ]) {
      const refused = await api.call("POST", "/api/restore", { body });
      expectError(refused, 409, "conflict");
      expect(refused.json.error.message).toMatch(/drop/);
    }
    // To another name, drop is optional; to the source, with drop, it is accepted and replaces it.
    const reply = await api.call("POST", "/api/restore", { body: { backup_id: backup.id, drop: true } });
    expect(reply.status, reply.text).toBe(202);
    expect(reply.json).toMatchObject({ target_server_id: server.id, target_database: source, drop: true });
    const done = await waitForJob(api, `/api/restore/${reply.json.id}`);
    expect(done.status, done.error).toBe("completed");
    expect(await snapshotDatabase(mongo, source)).toEqual(expected);
  });

  it("refuses a backup that is not completed, and unknown backups or target servers", async () => {
    for (const status of ["queued", "running", "failed", "cancelled"] as const) {
      const b = await api.world.store.backups.create(
        makeBackup({ server_id: server.id, database: source, status }),
      );
      const r = await api.call("POST", "/api/restore", {
        body: { backup_id: b.id, target_database: target("no") },
      });
      expectError(r, 409, "conflict");
      expect(r.json.error.message).toContain(status);
    }
    const unknown = newId();
    const noBackup = await api.call("POST", "/api/restore", {
      body: { backup_id: unknown, target_database: "x" },
    });
    expectError(noBackup, 404, "not_found");
    expect(noBackup.json.error.details).toEqual({ entity: "backup", id: unknown });
    const noServer = await api.call("POST", "/api/restore", {
      body: { backup_id: backup.id, target_server_id: unknown, target_database: target("no") },
    });
    expectError(noServer, 404, "not_found");
    expect(noServer.json.error.details).toEqual({ entity: "server", id: unknown });
    // The source server gone (its backups kept): the default target no longer exists.
    const orphan = await api.world.store.backups.create(
      makeBackup({ server_id: unknown, database: source, status: "completed" }),
    );
    expectError(
      await api.call("POST", "/api/restore", {
        body: { backup_id: orphan.id, target_database: target("no") },
      }),
      404,
      "not_found",
    );
    expectError(await api.call("GET", `/api/restore/${unknown}`), 404, "not_found");
    const { databases } = await mongo.db("admin").command({ listDatabases: 1, nameOnly: true });
    expect((databases as Array<{ name: string }>).map((d) => d.name)).not.toContain(target("no"));
  });

  // Issue 13 item 4: restoring into admin/local/config can grant access or break the cluster.
  it("never restores into admin, local or config (any case): 422 on target_database, nothing queued", async () => {
    // What a refused restore could change: restores and the audit log. (Not the whole snapshot: a
    // queued record an earlier test made directly may be dispatched and finish meanwhile.)
    const before = await restoresAndAudit(api);
    for (const name of ["admin", "local", "config", "Admin", "LOCAL", "cOnFiG"]) {
      const reply = await api.call("POST", "/api/restore", {
        body: { backup_id: backup.id, target_database: name, drop: true },
      });
      expectInvalid(reply, "target_database", /system database/);
    }
    // A backup of admin restores only under another name: the default target is refused too.
    const ofAdmin = await api.world.store.backups.create(
      makeBackup({ server_id: server.id, database: "admin", status: "completed" }),
    );
    const defaulted = await api.call("POST", "/api/restore", { body: { backup_id: ofAdmin.id, drop: true } });
    expectInvalid(defaulted, "target_database", /give another target_database/);
    await api.world.store.backups.delete(ofAdmin.id);
    expect(await restoresAndAudit(api)).toEqual(before);
  });

  it("never backs up local or config: 422 on database for triggers, schedules and enabling", async () => {
    for (const name of ["local", "config", "Local", "CONFIG"]) {
      expectInvalid(
        await api.call("POST", "/api/backups", { body: { server_id: server.id, database: name } }),
        "database",
        /system database/,
      );
      expectInvalid(
        await api.call("POST", "/api/schedules", {
          body: { name: "sys", cron_expression: "0 3 * * *", server_id: server.id, database: name },
        }),
        "database",
        /system database/,
      );
    }
    // Records from before the rule: a managed `local` is skipped by fan-out and cannot be enabled,
    // a schedule of `config` cannot be switched back on.
    const other = await addTestServer(api, "with an old local record"); // never synced: only these two
    const local = await api.world.store.databases.create(
      makeDatabase({ server_id: other.id, name: "local", enabled: false }),
    );
    const real = await api.world.store.databases.create(
      makeDatabase({ server_id: other.id, name: source, enabled: true }),
    );
    expectInvalid(
      await api.call("PATCH", `/api/databases/${local.id}`, { body: { enabled: true } }),
      "enabled",
    );
    await api.world.store.databases.update(local.id, { enabled: true });
    const fanned = await api.call("POST", "/api/backups", { body: { server_id: other.id } });
    expect(fanned.status, fanned.text).toBe(202);
    expect(fanned.json.items.map((b: { database: string }) => b.database)).toEqual([source]);
    await waitForJob(api, `/api/backups/${fanned.json.items[0].id}`);
    // The task notes the backup on its database after the record ends; later tests compare snapshots.
    const deadline = Date.now() + 30_000;
    let noted = await api.world.store.databases.get(real.id);
    while (!noted?.last_backup?.finished_at) {
      if (Date.now() > deadline) throw new Error(`last_backup never noted: ${JSON.stringify(noted)}`);
      await new Promise((r) => setTimeout(r, 50));
      noted = await api.world.store.databases.get(real.id);
    }
    const schedule = await api.world.store.schedules.create(
      makeSchedule({ server_id: server.id, database: "config", enabled: false }),
    );
    expectInvalid(
      await api.call("POST", `/api/schedules/${schedule.id}/toggle`),
      "database",
      /system database/,
    );
    await api.world.store.schedules.delete(schedule.id);
  });

  it("lists restores with filters, newest first, page by page", async () => {
    const backupId = newId();
    const otherBackup = newId();
    const targetServer = newId();
    const seed = async (
      backup_id: string,
      status: "queued" | "running" | "completed" | "failed",
      target_server_id = targetServer,
    ) => await api.world.store.restores.create(makeRestore({ backup_id, status, target_server_id }));
    const r1 = await seed(backupId, "completed");
    const r2 = await seed(backupId, "failed");
    const r3 = await seed(otherBackup, "completed");
    const r4 = await seed(backupId, "completed", newId());
    const r5 = await seed(backupId, "running");
    const ids = (items: Array<{ id: string }>) => items.map((i) => i.id);

    const byBackup = await allPages(api, `/api/restore?backup_id=${backupId}`);
    expect(ids(byBackup.items)).toEqual([r5.id, r4.id, r2.id, r1.id]);
    expect(byBackup.pages).toBe(2);
    expect(byBackup.items[0]).toEqual(r5);
    expect(ids((await allPages(api, `/api/restore?target_server_id=${targetServer}`)).items)).toEqual([
      r5.id,
      r3.id,
      r2.id,
      r1.id,
    ]);
    expect(ids((await allPages(api, `/api/restore?backup_id=${backupId}&status=completed`)).items)).toEqual([
      r4.id,
      r1.id,
    ]);
    expect(
      ids((await allPages(api, `/api/restore?backup_id=${backupId}&target_server_id=${targetServer}`)).items),
    ).toEqual([r5.id, r2.id, r1.id]);
    const running = await allPages(api, "/api/restore?status=running");
    expect(ids(running.items)).toContain(r5.id);
    expect(running.items.every((r) => r.status === "running")).toBe(true);
    const everything = await allPages(api, "/api/restore");
    expect(everything.pages).toBeGreaterThan(2);
    expect(ids(everything.items)).toEqual(expect.arrayContaining([r1.id, r2.id, r3.id, r4.id, r5.id]));
    expect(everything.items.length).toBeGreaterThanOrEqual(8); // the three real restores too
    expect((await allPages(api, `/api/restore?backup_id=${newId()}`)).items).toEqual([]);

    const viewer = await api.call("GET", `/api/restore?backup_id=${backupId}`, { as: "viewer" });
    expect(viewer.status).toBe(200);
    expect(ids(viewer.json.items)).toEqual([r5.id, r4.id, r2.id, r1.id]);
    expect(viewer.json.next_cursor).toBeNull();
    expect((await api.call("GET", `/api/restore/${r3.id}`)).json).toEqual(r3);

    const backupCursor = (await api.call("GET", "/api/backups?limit=1")).json.next_cursor;
    for (const query of [
      "status=done",
      "limit=0",
      "limit=1000",
      "cursor=%%%",
      "database=x",
      ...(backupCursor ? [`cursor=${backupCursor}`] : []),
    ]) {
      expectError(await api.call("GET", `/api/restore?${query}`), 422, "invalid");
    }
  });

  it("answers 401 without a token and 403 to a viewer's restore", async () => {
    const before = await api.snapshot();
    for (const [method, path] of [
      ["GET", "/api/restore"],
      ["POST", "/api/restore"],
      ["GET", `/api/restore/${newId()}`],
    ] as const) {
      const r = await api.call(method, path, {
        as: "nobody",
        body: method === "POST" ? { backup_id: backup.id, target_database: target("anon") } : undefined,
      });
      expectError(r, 401, "unauthenticated");
    }
    const refused = await api.call("POST", "/api/restore", {
      as: "viewer",
      body: { backup_id: backup.id, target_database: target("viewer") },
    });
    expectError(refused, 403, "forbidden");
    expect(await api.snapshot()).toEqual(before);
  });
});

/** Every restore and audit entry, for before/after comparisons. */
async function restoresAndAudit(api: ApiWorld) {
  const { restores, audit } = (await api.snapshot()) as { restores: unknown; audit: unknown };
  return { restores, audit };
}
