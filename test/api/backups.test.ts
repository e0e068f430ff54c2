// /api/backups over real adapters (moto or local files): triggering (one database, a server's, all),
// the job really run by the child-process runner against FerretDB, lists and their filters, notes,
// delete (archive first, then record), cancel (queued, and running with its task stopped), and who
// may do what.
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "#core/ids.ts";
import { allPages, auditOf, expectError } from "#test/support/api-expect.ts";
import { type ApiWorld, addTestServer, apiWorld, waitForJob } from "#test/support/api-harness.ts";
import { adminMongoClient, uniqueName } from "#test/support/env.ts";
import { makeBackup, makeRestore } from "#test/support/fixtures.ts";
import { seedBulkDatabase, seedSampleDatabase } from "#test/support/sample-data.ts";

let mongo: MongoClient;
const small = uniqueName("api_bk_small").replaceAll("-", "_");
const second = uniqueName("api_bk_second").replaceAll("-", "_");
const bulk = uniqueName("api_bk_bulk").replaceAll("-", "_");
const smallDocs = 300;

beforeAll(async () => {
  mongo = await adminMongoClient();
  await seedSampleDatabase(mongo, small, smallDocs);
  await mongo
    .db(second)
    .collection("things")
    .insertMany([{ n: 1 }, { n: 2 }]);
  await seedBulkDatabase(mongo, bulk, 12);
});
afterAll(async () => {
  await mongo?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function databasesOf(api: ApiWorld, serverId: string) {
  return (await allPages(api, `/api/databases?server_id=${serverId}`, 100)).items as Array<{
    id: string;
    name: string;
    enabled: boolean;
    vanished_at: string | null;
  }>;
}

async function sync(api: ApiWorld, serverId: string) {
  const reply = await api.call("POST", "/api/databases/sync", { body: { server_id: serverId } });
  expect(reply.status, reply.text).toBe(200);
  expect(reply.json.results).toMatchObject([{ server_id: serverId, ok: true }]);
}

describe.each(["local", "aws"] as const)("/api/backups (%s store)", (kind) => {
  // Jobs stay queued here (no runner): fan-out, lists, cancel and delete of queued backups.
  let idle: ApiWorld;
  // Jobs really run here: mongodump against FerretDB, archives in the blob store.
  let live: ApiWorld;
  let idleServer: { id: string };
  let liveServer: { id: string };

  beforeAll(async () => {
    [idle, live] = await Promise.all([apiWorld(kind), apiWorld(kind, { runJobs: true })]);
    liveServer = await addTestServer(live);
    await sync(live, liveServer.id);
  });
  afterAll(async () => {
    await Promise.all([idle?.close(), live?.close()]);
  });

  it("backs up one database: 202 queued manual backup, then completed with size, sha256 and counts", async () => {
    const settings = await live.call("GET", "/api/settings");
    expect(settings.status).toBe(200);
    const retentionDays = settings.json.retention_days as number;
    expect(retentionDays).toBeGreaterThan(0);

    const before = Date.now();
    const reply = await live.call("POST", "/api/backups", {
      body: { server_id: liveServer.id, database: small },
    });
    expect(reply.status, reply.text).toBe(202);
    expect(reply.json.items).toHaveLength(1);
    const queued = reply.json.items[0];
    expect(["queued", "running"]).toContain(queued.status);
    expect(queued).toMatchObject({
      server_id: liveServer.id,
      database: small,
      trigger: "manual",
      schedule_id: null,
      created_by: "local-operator",
      compression: "zstd",
      blob_key: null,
      name: null,
      notes: null,
    });
    const created = Date.parse(queued.created_at);
    expect(created).toBeGreaterThanOrEqual(before - 1000);
    expect(created).toBeLessThanOrEqual(Date.now() + 1000);
    expect(Date.parse(queued.expires_at) - created).toBe(retentionDays * 86_400_000);

    const done = await waitForJob(live, `/api/backups/${queued.id}`);
    expect(done.status, done.error).toBe("completed");
    expect(done.size_bytes).toBeGreaterThan(0);
    expect(done.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(done.blob_key).toBe(`backups/${liveServer.id}/${small}/${queued.id}.archive.zst`);
    expect(done.duration_ms).toBeGreaterThanOrEqual(0);
    expect(done.tool_version).toBeTruthy();
    expect(done.runner_ref).toMatch(/^local:\d+$/);
    expect(done.expires_at).toBe(queued.expires_at);
    const counts: Record<string, number> = {};
    for (const c of await mongo.db(small).listCollections({}, { nameOnly: true }).toArray()) {
      counts[c.name] = await mongo.db(small).collection(c.name).countDocuments();
    }
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(smallDocs);
    expect(done.collections).toEqual(counts);
    expect((await live.world.leftovers(`backups/${liveServer.id}/${small}/`)).objects).toHaveLength(1);

    const one = await live.call("GET", `/api/backups/${queued.id}`);
    expect(one.status).toBe(200);
    expect(one.json).toEqual(done);
    const viewer = await live.call("GET", `/api/backups/${queued.id}`, { as: "viewer" });
    expect(viewer.status).toBe(200);
    expect(viewer.json).toEqual(done);

    const audit = await auditOf(live, liveServer.id);
    expect(audit).toContainEqual(
      expect.objectContaining({ action: "backup.trigger", outcome: "success", actor: "local-operator" }),
    );
  });

  it("annotates a backup: name and notes, each alone, cleared with null; bad values are 422", async () => {
    const [backup] = await live.world.store.backups
      .list({ server_id: liveServer.id, database: small, status: "completed" }, { limit: 1 })
      .then((p) => p.items);
    expect(backup).toBeDefined();
    const path = `/api/backups/${backup!.id}`;

    const both = await live.call("PATCH", path, {
      body: { name: "before the migration", notes: "line one\nline two\twith a tab" },
    });
    expect(both.status, both.text).toBe(200);
    expect(both.json).toMatchObject({
      id: backup!.id,
      status: "completed",
      name: "before the migration",
      notes: "line one\nline two\twith a tab",
      sha256: backup!.sha256,
    });
    const nameOnly = await live.call("PATCH", path, { body: { name: "renamed" } });
    expect(nameOnly.json).toMatchObject({ name: "renamed", notes: "line one\nline two\twith a tab" });
    const notesOnly = await live.call("PATCH", path, { body: { notes: null } });
    expect(notesOnly.json).toMatchObject({ name: "renamed", notes: null });
    expect((await live.call("GET", path)).json).toMatchObject({ name: "renamed", notes: null });

    const invalid: Array<[unknown, string]> = [
      [{}, "name"],
      [{ name: "bell\u0007" }, "name"],
      [{ name: "two\nlines" }, "name"],
      [{ notes: "nul\u0000byte" }, "notes"],
      [{ notes: "escape\u001b[31m" }, "notes"],
      [{ name: "x".repeat(201) }, "name"],
      [{ notes: "x".repeat(4001) }, "notes"],
      [{ name: 5 }, "name"],
      [{ status: "failed" }, "status"],
      [{ name: "ok", sha256: "0".repeat(64) }, "sha256"],
    ];
    for (const [body, field] of invalid) {
      const reply = await live.call("PATCH", path, { body });
      expectError(reply, 422, "invalid");
      expect(
        reply.json.error.details.map((d: { field: string }) => d.field),
        JSON.stringify(body),
      ).toContain(field);
    }
    const notJson = await live.call("PATCH", path, {
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(notJson.status).toBe(400);
    expect((await live.call("GET", path)).json).toMatchObject({
      name: "renamed",
      notes: null,
      status: "completed",
    });
    expect(await auditOf(live, backup!.id)).toContainEqual(
      expect.objectContaining({ action: "backup.annotate", outcome: "success" }),
    );
  });

  it("refuses to delete a backup a restore is reading, then deletes archive and record", async () => {
    const [backup] = await live.world.store.backups
      .list({ server_id: liveServer.id, database: small, status: "completed" }, { limit: 1 })
      .then((p) => p.items);
    const prefix = `backups/${liveServer.id}/${small}/`;
    const archiveLeft = async () => {
      const { objects } = await live.world.leftovers(prefix);
      expect(objects).toHaveLength(1);
      // The local store lists file names, S3 whole keys.
      expect(backup!.blob_key!.endsWith(objects[0] ?? "?")).toBe(true);
    };
    await archiveLeft();

    for (const status of ["queued", "running"] as const) {
      const restore = await live.world.store.restores.create(
        makeRestore({
          backup_id: backup!.id,
          source_server_id: liveServer.id,
          source_database: small,
          target_server_id: liveServer.id,
          target_database: `${small}_copy`,
          status,
        }),
      );
      const refused = await live.call("DELETE", `/api/backups/${backup!.id}`);
      expectError(refused, 409, "conflict");
      expect(refused.json.error.message).toContain(restore.id);
      await archiveLeft();
      await live.world.store.restores.transition(restore.id, "failed", { error: "test over" });
    }
    // Also refused as a viewer, and that changes nothing.
    expectError(await live.call("DELETE", `/api/backups/${backup!.id}`, { as: "viewer" }), 403, "forbidden");

    const deleted = await live.call("DELETE", `/api/backups/${backup!.id}`);
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.json).toEqual({ deleted: backup!.id });
    expect(await live.world.leftovers(prefix)).toEqual({ objects: [], uploads: [] });
    expectError(await live.call("GET", `/api/backups/${backup!.id}`), 404, "not_found");
    expectError(await live.call("DELETE", `/api/backups/${backup!.id}`), 404, "not_found");
    const audit = await auditOf(live, backup!.id);
    // The two refusals (409) left no entry; only the deletion did.
    expect(audit.filter((a) => a.action === "backup.delete").map((a) => a.outcome)).toEqual(["success"]);
  });

  it("cancels a running backup: its task is stopped, it stays cancelled, and no archive is left", async () => {
    const reply = await live.call("POST", "/api/backups", {
      body: { server_id: liveServer.id, database: bulk },
    });
    expect(reply.status, reply.text).toBe(202);
    const id = reply.json.items[0].id as string;
    const path = `/api/backups/${id}`;
    const deadline = Date.now() + 20_000;
    let status = reply.json.items[0].status as string;
    while (status === "queued" && Date.now() < deadline) {
      await sleep(10);
      status = (await live.call("GET", path)).json.status;
    }
    expect(status).toBe("running");
    expectError(await live.call("DELETE", path), 409, "conflict");
    expectError(await live.call("POST", `${path}/cancel`, { as: "viewer" }), 403, "forbidden");

    const cancelled = await live.call("POST", `${path}/cancel`);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json).toMatchObject({ id, status: "cancelled", error: "cancelled by local-operator" });
    expect(cancelled.json.finished_at).not.toBeNull();

    const exitBy = Date.now() + 20_000;
    while (live.runner?.running().some((j) => j.id === id) && Date.now() < exitBy) await sleep(25);
    expect(
      live.runner?.running().some((j) => j.id === id),
      "the task did not exit",
    ).toBe(false);
    const after = await live.call("GET", path);
    expect(after.json).toMatchObject({
      status: "cancelled",
      error: "cancelled by local-operator",
      blob_key: null,
    });
    expect(await live.world.leftovers(`backups/${liveServer.id}/${bulk}/`)).toEqual({
      objects: [],
      uploads: [],
    });
    expectError(await live.call("POST", `${path}/cancel`), 409, "conflict");
    // A cancelled backup has nothing to keep: it may be deleted.
    expect((await live.call("DELETE", path)).status).toBe(200);
  });

  it("refuses triggers that name nothing to back up, or nothing that exists", async () => {
    // No server at all yet in this world.
    expectError(await idle.call("POST", "/api/backups", { body: {} }), 409, "conflict");
    const unknown = newId();
    const notFound = await idle.call("POST", "/api/backups", { body: { server_id: unknown } });
    expectError(notFound, 404, "not_found");
    expect(notFound.json.error.details).toMatchObject({ entity: "server", id: unknown });
    expectError(
      await idle.call("POST", "/api/backups", { body: { server_id: unknown, database: small } }),
      404,
      "not_found",
    );

    const noServer = await idle.call("POST", "/api/backups", { body: { database: small } });
    expectError(noServer, 422, "invalid");
    expect(noServer.json.error.details).toContainEqual(expect.objectContaining({ field: "database" }));
    for (const [body, field] of [
      [{ server_id: unknown, database: "a.b" }, "database"],
      [{ server_id: unknown, database: "" }, "database"],
      [{ server_id: "" }, "server_id"],
      [{ compression: "rar" }, "compression"],
      [{ name: "x\u0001" }, "name"],
      [{ servers: [] }, "servers"],
    ] as const) {
      const r = await idle.call("POST", "/api/backups", { body });
      expectError(r, 422, "invalid");
      expect(r.json.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }

    idleServer = await addTestServer(idle);
    // Added but never synced: it has no databases to back up.
    const empty = await idle.call("POST", "/api/backups", { body: { server_id: idleServer.id } });
    expectError(empty, 409, "conflict");
    expect(empty.json.error.message).toMatch(/no enabled databases/);
    expectError(await idle.call("POST", "/api/backups", { body: {} }), 409, "conflict");
    await sync(idle, idleServer.id);
    const missing = await idle.call("POST", "/api/backups", {
      body: { server_id: idleServer.id, database: "no_such_database_here" },
    });
    expectError(missing, 404, "not_found");
    expect(missing.json.error.details).toMatchObject({ entity: "database" });
    expect((await idle.world.store.backups.list({}, { limit: 1 })).items).toEqual([]);
  });

  it("fans out: a server's enabled databases, skipping disabled ones; {} covers every server", async () => {
    const dbs = await databasesOf(idle, idleServer.id);
    const mine = dbs.find((d) => d.name === small);
    expect(mine?.enabled).toBe(true);
    expect(dbs.map((d) => d.name)).toContain(second);
    const disabled = await idle.call("PATCH", `/api/databases/${mine!.id}`, { body: { enabled: false } });
    expect(disabled.status, disabled.text).toBe(200);
    const expected = dbs
      .filter((d) => d.enabled && !d.vanished_at && d.id !== mine!.id)
      .map((d) => d.name)
      .sort();

    const fanned = await idle.call("POST", "/api/backups", {
      body: { server_id: idleServer.id, notes: "fan" },
    });
    expect(fanned.status, fanned.text).toBe(202);
    const items = fanned.json.items as Array<Record<string, unknown>>;
    expect(items.map((b) => b.database).sort()).toEqual(expected);
    expect(items.map((b) => b.database)).not.toContain(small);
    expect(items.map((b) => b.database)).toContain(second);
    for (const b of items) {
      expect(b).toMatchObject({
        server_id: idleServer.id,
        status: "queued", // nothing runs jobs in this world
        trigger: "manual",
        created_by: "local-operator",
        notes: "fan",
      });
    }
    expect(new Set(items.map((b) => b.id)).size).toBe(items.length);

    // {} (and no body at all): every enabled database of every server, here this world's only one.
    for (const body of [{}, undefined]) {
      const all = await idle.call("POST", "/api/backups", body === undefined ? {} : { body });
      expect(all.status, all.text).toBe(202);
      expect(all.json.items.map((b: { database: string }) => b.database).sort()).toEqual(expected);
      expect(new Set(all.json.items.map((b: { server_id: string }) => b.server_id))).toEqual(
        new Set([idleServer.id]),
      );
    }

    // A disabled database is still backed up when asked for by name.
    const byName = await idle.call("POST", "/api/backups", {
      body: { server_id: idleServer.id, database: small, name: "by name", compression: "zstd" },
    });
    expect(byName.status, byName.text).toBe(202);
    expect(byName.json.items).toMatchObject([
      { database: small, status: "queued", name: "by name", compression: "zstd" },
    ]);

    const queued = await allPages(idle, `/api/backups?server_id=${idleServer.id}&status=queued`, 100);
    expect(queued.items).toHaveLength(expected.length * 3 + 1);
  });

  it("cancels a queued backup once; refuses to delete it while queued", async () => {
    const trigger = async () => {
      const r = await idle.call("POST", "/api/backups", {
        body: { server_id: idleServer.id, database: second },
      });
      expect(r.status, r.text).toBe(202);
      return r.json.items[0] as { id: string; status: string };
    };
    const first = await trigger();
    expect(first.status).toBe("queued");
    await sleep(200);
    expect((await idle.call("GET", `/api/backups/${first.id}`)).json.status).toBe("queued");

    const refused = await idle.call("DELETE", `/api/backups/${first.id}`);
    expectError(refused, 409, "conflict");
    expect(refused.json.error.message).toMatch(/queued/);

    const cancelled = await idle.call("POST", `/api/backups/${first.id}/cancel`);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json).toMatchObject({
      id: first.id,
      status: "cancelled",
      error: "cancelled by local-operator",
      blob_key: null,
    });
    expect(cancelled.json.finished_at).not.toBeNull();
    expect((await idle.call("GET", `/api/backups/${first.id}`)).json.status).toBe("cancelled");
    const again = await idle.call("POST", `/api/backups/${first.id}/cancel`);
    expectError(again, 409, "conflict");
    // Only the cancel that happened is in the log; the refused cancel and delete left nothing.
    expect((await auditOf(idle, first.id)).map((a) => [a.action, a.outcome])).toEqual([
      ["backup.cancel", "success"],
    ]);
    // Cancelled, it may go.
    expect((await idle.call("DELETE", `/api/backups/${first.id}`)).status).toBe(200);
    expectError(await idle.call("POST", `/api/backups/${first.id}/cancel`), 404, "not_found");

    // A completed, failed or cancelled backup cannot be cancelled.
    for (const status of ["completed", "failed", "cancelled"] as const) {
      const b = await idle.world.store.backups.create(
        makeBackup({ server_id: idleServer.id, database: second, status }),
      );
      expectError(await idle.call("POST", `/api/backups/${b.id}/cancel`), 409, "conflict");
      expect((await idle.world.store.backups.get(b.id))?.status).toBe(status);
    }
  });

  it("lists with filters, newest first, page by page", async () => {
    const serverId = newId();
    const scheduleId = newId();
    const seed = async (database: string, status: "queued" | "completed" | "failed", schedule = false) =>
      await idle.world.store.backups.create(
        makeBackup({
          server_id: serverId,
          database,
          status,
          trigger: schedule ? "schedule" : "manual",
          schedule_id: schedule ? scheduleId : null,
        }),
      );
    const b1 = await seed("alpha", "completed", true);
    const b2 = await seed("alpha", "failed");
    const b3 = await seed("beta", "completed", true);
    const b4 = await seed("beta", "queued");
    const b5 = await seed("alpha", "completed");
    const ids = (items: Array<{ id: string }>) => items.map((i) => i.id);

    const all = await allPages(idle, `/api/backups?server_id=${serverId}`);
    expect(ids(all.items)).toEqual([b5.id, b4.id, b3.id, b2.id, b1.id]);
    expect(all.pages).toBe(3);
    expect(all.items[0]).toEqual(b5);
    expect(ids((await allPages(idle, `/api/backups?server_id=${serverId}&status=completed`)).items)).toEqual([
      b5.id,
      b3.id,
      b1.id,
    ]);
    expect(ids((await allPages(idle, `/api/backups?server_id=${serverId}&database=alpha`)).items)).toEqual([
      b5.id,
      b2.id,
      b1.id,
    ]);
    expect(
      ids((await allPages(idle, `/api/backups?server_id=${serverId}&database=alpha&status=failed`)).items),
    ).toEqual([b2.id]);
    expect(ids((await allPages(idle, `/api/backups?schedule_id=${scheduleId}`)).items)).toEqual([
      b3.id,
      b1.id,
    ]);
    expect(ids((await allPages(idle, `/api/backups?server_id=${serverId}&database=gamma`)).items)).toEqual(
      [],
    );
    expect((await allPages(idle, `/api/backups?server_id=${newId()}`)).items).toEqual([]);

    const failed = await allPages(idle, "/api/backups?status=failed");
    expect(ids(failed.items)).toContain(b2.id);
    expect(failed.items.every((b) => b.status === "failed")).toBe(true);
    const everything = await allPages(idle, "/api/backups", 100);
    expect(ids(everything.items)).toEqual(expect.arrayContaining([b1.id, b2.id, b3.id, b4.id, b5.id]));
    expect(everything.items.length).toBeGreaterThan(5);
    // The viewer reads lists too; without limit a page holds up to 25.
    const viewer = await idle.call("GET", `/api/backups?server_id=${serverId}`, { as: "viewer" });
    expect(viewer.status).toBe(200);
    expect(ids(viewer.json.items)).toEqual([b5.id, b4.id, b3.id, b2.id, b1.id]);
    expect(viewer.json.next_cursor).toBeNull();

    const badQueries = [
      `database=alpha`,
      `status=finished`,
      `limit=0`,
      `limit=101`,
      `limit=two`,
      `cursor=not%20a%20cursor`,
      // A well-formed cursor of another list (a real id), refused for its entity.
      `cursor=${Buffer.from(JSON.stringify({ e: "restore", id: newId() })).toString("base64url")}`,
      `server_id=${serverId}&colour=blue`,
    ];
    for (const query of badQueries) {
      expectError(await idle.call("GET", `/api/backups?${query}`), 422, "invalid");
    }
  });

  it("answers 401 without a valid token, 403 to a viewer's changes, 404 for an unknown backup", async () => {
    const b = await idle.world.store.backups.create(
      makeBackup({ server_id: idleServer.id, database: second, status: "failed", name: "keep" }),
    );
    const routes: Array<[string, string, unknown?]> = [
      ["GET", "/api/backups"],
      ["POST", "/api/backups", { server_id: idleServer.id, database: second }],
      ["GET", `/api/backups/${b.id}`],
      ["PATCH", `/api/backups/${b.id}`, { name: "changed" }],
      ["DELETE", `/api/backups/${b.id}`],
      ["POST", `/api/backups/${b.id}/cancel`],
      ["GET", `/api/backups/${b.id}/download`],
    ];
    const before = await idle.snapshot();
    for (const [method, path, body] of routes) {
      const r = await idle.call(method, path, { as: "nobody", body });
      expectError(r, 401, "unauthenticated");
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer /);
      for (const authorization of [`Bearer ${idle.tokens.operator}x`, idle.tokens.operator, "Bearer "]) {
        const forged = await idle.app.request(path, {
          method,
          headers: { authorization, "content-type": "application/json" },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        expect(forged.status, `${method} ${path} with ${authorization.slice(0, 8)}...`).toBe(401);
      }
      if (method !== "GET") {
        const refused = await idle.call(method, path, { as: "viewer", body });
        expectError(refused, 403, "forbidden");
        expect(refused.json.error.message).toMatch(/local-viewer may read/);
      }
    }
    // Nothing refused changed anything, not even the audit log.
    expect(await idle.snapshot()).toEqual(before);
    expect((await idle.world.store.backups.get(b.id))?.name).toBe("keep");

    const unknown = newId();
    for (const [method, path, body] of [
      ["GET", `/api/backups/${unknown}`],
      ["PATCH", `/api/backups/${unknown}`, { name: "x" }],
      ["DELETE", `/api/backups/${unknown}`],
      ["POST", `/api/backups/${unknown}/cancel`],
      ["GET", `/api/backups/${unknown}/download`],
    ] as Array<[string, string, unknown?]>) {
      const r = await idle.call(method, path, { body });
      expectError(r, 404, "not_found");
      expect(r.json.error.details).toEqual({ entity: "backup", id: unknown });
    }
    expectError(await idle.call("GET", `/api/backups/${unknown}/nothing`), 404, "not_found");
    expectError(await idle.call("GET", `/api/backups/${"x".repeat(65)}`), 422, "invalid");
  });
});
