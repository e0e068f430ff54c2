// /api/databases through the real app over both stores: sync against the real FerretDB (new
// databases added enabled, vanished ones marked and brought back), filters, enable/disable, delete,
// and paging across several pages.
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManagedDatabase } from "#core/entities.ts";
import { newId } from "#core/ids.ts";
import { expectError, expectInvalid, latestAudit } from "#test/support/api-expect.ts";
import {
  type ApiWorld,
  addTestServer,
  apiWorld,
  knownPasswords,
  type Reply,
} from "#test/support/api-harness.ts";
import { adminMongoClient, mongoInfo, uniqueName } from "#test/support/env.ts";
import { makeDatabase } from "#test/support/fixtures.ts";

function expectDatabaseRecord(value: unknown) {
  ManagedDatabase.strict().parse(value);
  for (const key of Object.keys(value as object)) expect(key).toMatch(/^[a-z][a-z0-9_]*$/);
}

const wrongPassword = `wrong-${uniqueName("pw")}`;
knownPasswords.add(wrongPassword);

const malformed = { body: '{"enabled":', headers: { "content-type": "application/json" } };

describe.each(["local", "aws"] as const)("databases API (%s)", (kind) => {
  let api: ApiWorld;
  let admin: MongoClient;
  let server: { id: string };
  const dbA = uniqueName("api_dbs_a").replaceAll("-", "_");
  const dbB = uniqueName("api_dbs_b").replaceAll("-", "_");
  const unknownId = newId();

  /** The managed database of that name on the test server, through the API. */
  async function managed(name: string) {
    const reply = await api.call("GET", `/api/databases?server_id=${server.id}&limit=100`);
    expect(reply.status).toBe(200);
    return reply.json.items.find((d: { name: string }) => d.name === name);
  }

  beforeAll(async () => {
    api = await apiWorld(kind);
    admin = await adminMongoClient();
    await admin.db(dbA).collection("things").insertOne({ n: 1 });
    await admin.db(dbB).collection("things").insertOne({ n: 2 });
    server = await addTestServer(api, "databases");
  });
  afterAll(async () => {
    await admin?.db(dbA).dropDatabase();
    await admin?.db(dbB).dropDatabase();
    await admin?.close();
    await api?.close();
  });

  describe("POST /api/databases/sync", () => {
    it("adds new databases enabled, marks vanished ones, clears the mark when they return", async () => {
      const first = await api.call("POST", "/api/databases/sync", { body: { server_id: server.id } });
      expect(first.status, first.text).toBe(200);
      expect(first.json.results).toHaveLength(1);
      const [result] = first.json.results;
      expect(Object.keys(result).sort()).toEqual([
        "added",
        "error",
        "ok",
        "returned",
        "server_id",
        "vanished",
      ]);
      expect(result).toMatchObject({ server_id: server.id, ok: true, error: null, returned: [] });
      expect(result.added).toEqual(expect.arrayContaining([dbA, dbB]));
      expect(result.added).not.toContain("admin");
      for (const name of [dbA, dbB]) {
        const db = await managed(name);
        expectDatabaseRecord(db);
        expect(db).toMatchObject({
          server_id: server.id,
          name,
          enabled: true,
          vanished_at: null,
          last_backup: null,
        });
        expect(db.size_on_disk).toEqual(expect.any(Number));
      }
      expect(await latestAudit(api, server.id)).toMatchObject({
        actor: "local-operator",
        action: "database.sync",
        target_type: "server",
        target_id: server.id,
        outcome: "success",
      });

      // Again: nothing new for our databases.
      const again = await api.call("POST", "/api/databases/sync", { body: { server_id: server.id } });
      expect(again.json.results[0].added).not.toContain(dbA);

      await admin.db(dbB).dropDatabase();
      const afterDrop = await api.call("POST", "/api/databases/sync", { body: { server_id: server.id } });
      expect(afterDrop.status).toBe(200);
      expect(afterDrop.json.results[0].vanished).toContain(dbB);
      expect(afterDrop.json.results[0].vanished).not.toContain(dbA);
      const vanished = await managed(dbB);
      expect(vanished.vanished_at).toEqual(expect.any(String));
      expect(Date.parse(vanished.vanished_at)).toBeGreaterThan(Date.now() - 60_000);
      expect((await managed(dbA)).vanished_at).toBeNull();
      // Marked once: a second sync does not list it as vanishing again.
      const stillGone = await api.call("POST", "/api/databases/sync", { body: { server_id: server.id } });
      expect(stillGone.json.results[0].vanished).not.toContain(dbB);
      expect((await managed(dbB)).vanished_at).toBe(vanished.vanished_at);

      await admin.db(dbB).collection("things").insertOne({ n: 3 });
      const back = await api.call("POST", "/api/databases/sync", { body: { server_id: server.id } });
      expect(back.json.results[0].returned).toContain(dbB);
      expect(back.json.results[0].added).not.toContain(dbB);
      expect(await managed(dbB)).toMatchObject({ id: vanished.id, vanished_at: null });
    });

    it("without a body syncs every server; one that fails reports ok false and the rest go on", async () => {
      const { host, port, username } = mongoInfo();
      const broken = await api.call("POST", "/api/servers", {
        body: { name: "broken", host, port, username, password: wrongPassword },
      });
      expect(broken.status).toBe(201);
      const reply = await api.call("POST", "/api/databases/sync");
      expect(reply.status, reply.text).toBe(200);
      const byServer = new Map(reply.json.results.map((r: { server_id: string }) => [r.server_id, r]));
      expect(byServer.get(server.id)).toMatchObject({ ok: true, error: null });
      expect(byServer.get(broken.json.id)).toMatchObject({
        ok: false,
        added: [],
        vanished: [],
        returned: [],
      });
      expect((byServer.get(broken.json.id) as { error: string }).error).toMatch(/^authentication: /);
      const entry = (await api.call("GET", "/api/audit?limit=1")).json.items[0];
      expect(entry).toMatchObject({ action: "database.sync", target_id: null, outcome: "success" });
      expect((await api.call("POST", "/api/databases/sync", { body: {} })).status).toBe(200);
      await api.call("DELETE", `/api/servers/${broken.json.id}`);
    });

    it("404 unknown server, 401, 403, 422, 400", async () => {
      const before = await api.snapshot();
      const unknown = await api.call("POST", "/api/databases/sync", { body: { server_id: unknownId } });
      expectError(unknown, 404, "not_found");
      expect(unknown.json.error.details).toEqual({ entity: "server", id: unknownId });
      expectError(
        await api.call("POST", "/api/databases/sync", { body: { server_id: server.id }, as: "viewer" }),
        403,
        "forbidden",
      );
      expectError(await api.call("POST", "/api/databases/sync", { as: "nobody" }), 401, "unauthenticated");
      expectInvalid(
        await api.call("POST", "/api/databases/sync", { body: { server: server.id } }),
        "server",
        /unknown field/,
      );
      expectInvalid(await api.call("POST", "/api/databases/sync", { body: { server_id: 7 } }), "server_id");
      expectError(await api.call("POST", "/api/databases/sync", malformed), 400, "malformed_request");
      expect(await api.snapshot()).toEqual(before);
    });
  });

  describe("GET /api/databases", () => {
    it("filters by server_id and enabled; viewers read; 401 without a token; 422 on bad values", async () => {
      const other = newId();
      const foreign = await api.deps.store.databases.create(
        makeDatabase({ server_id: other, name: "elsewhere" }),
      );
      const mine = await api.call("GET", `/api/databases?server_id=${server.id}&limit=100`, { as: "viewer" });
      expect(mine.status).toBe(200);
      expect(Object.keys(mine.json).sort()).toEqual(["items", "next_cursor"]);
      expect(mine.json.items.length).toBeGreaterThan(0);
      for (const db of mine.json.items) {
        expectDatabaseRecord(db);
        expect(db.server_id).toBe(server.id);
      }
      const theirs = await api.call("GET", `/api/databases?server_id=${other}`);
      expect(theirs.json).toEqual({ items: [foreign], next_cursor: null });

      const a = await managed(dbA);
      await api.call("PATCH", `/api/databases/${a.id}`, { body: { enabled: false } });
      const disabled = await api.call("GET", `/api/databases?server_id=${server.id}&enabled=false&limit=100`);
      expect(disabled.json.items.map((d: { id: string }) => d.id)).toEqual([a.id]);
      const enabled = await api.call("GET", `/api/databases?server_id=${server.id}&enabled=true&limit=100`);
      expect(enabled.json.items.map((d: { id: string }) => d.id)).not.toContain(a.id);
      expect(enabled.json.items.every((d: { enabled: boolean }) => d.enabled)).toBe(true);
      const allDisabled = await api.call("GET", "/api/databases?enabled=false&limit=100");
      expect(allDisabled.json.items.map((d: { id: string }) => d.id)).toEqual([a.id]);
      await api.call("PATCH", `/api/databases/${a.id}`, { body: { enabled: true } });

      expectError(await api.call("GET", "/api/databases", { as: "nobody" }), 401, "unauthenticated");
      expectInvalid(await api.call("GET", "/api/databases?enabled=maybe"), "enabled");
      expectInvalid(await api.call("GET", "/api/databases?limit=abc"), "limit");
      expectInvalid(await api.call("GET", "/api/databases?cursor=%24%24"), "cursor");
      expectInvalid(await api.call("GET", "/api/databases?name=x"), "name", /unknown field/);
      await api.deps.store.databases.delete(foreign.id);
    });

    it("pages newest first: limit=2 until next_cursor is null, each database once", async () => {
      const serverId = newId();
      const created = [];
      for (let i = 0; i < 5; i++) {
        created.push(
          await api.deps.store.databases.create(makeDatabase({ server_id: serverId, name: `page_${i}` })),
        );
      }
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `server_id=${serverId}&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
        const page: Reply = await api.call("GET", `/api/databases?${query}`, { as: "viewer" });
        expect(page.status, page.text).toBe(200);
        sizes.push(page.json.items.length);
        seen.push(...page.json.items.map((d: { id: string }) => d.id));
        cursor = page.json.next_cursor;
        expect(sizes.length).toBeLessThan(10);
      } while (cursor);
      expect(sizes.slice(0, 2)).toEqual([2, 2]);
      expect(seen).toEqual(created.map((d) => d.id).reverse());
      expect(new Set(seen).size).toBe(5);
      for (const d of created) await api.deps.store.databases.delete(d.id);
    });
  });

  describe("GET /api/databases/{id}", () => {
    it("gets one (viewers too); 404 unknown; 401", async () => {
      const a = await managed(dbA);
      const reply = await api.call("GET", `/api/databases/${a.id}`, { as: "viewer" });
      expect(reply.status).toBe(200);
      expectDatabaseRecord(reply.json);
      expect(reply.json).toEqual(a);
      const unknown = await api.call("GET", `/api/databases/${unknownId}`);
      expectError(unknown, 404, "not_found");
      expect(unknown.json.error.details).toEqual({ entity: "database", id: unknownId });
      expectError(await api.call("GET", `/api/databases/${a.id}`, { as: "nobody" }), 401, "unauthenticated");
    });
  });

  describe("PATCH /api/databases/{id}", () => {
    it("disables and enables, audited as database.disable / database.enable", async () => {
      const a = await managed(dbA);
      const off = await api.call("PATCH", `/api/databases/${a.id}`, { body: { enabled: false } });
      expect(off.status, off.text).toBe(200);
      expectDatabaseRecord(off.json);
      expect(off.json).toEqual({ ...a, enabled: false });
      expect(await latestAudit(api, a.id)).toMatchObject({
        actor: "local-operator",
        action: "database.disable",
        target_type: "database",
        target_id: a.id,
        outcome: "success",
      });
      // A disabled database stays disabled across a sync.
      await api.call("POST", "/api/databases/sync", { body: { server_id: server.id } });
      expect((await managed(dbA)).enabled).toBe(false);

      const on = await api.call("PATCH", `/api/databases/${a.id}`, { body: { enabled: true } });
      expect(on.json.enabled).toBe(true);
      expect(await latestAudit(api, a.id)).toMatchObject({ action: "database.enable", outcome: "success" });
    });

    it("404, 401, 403, 422, 400", async () => {
      const a = await managed(dbA);
      const before = await api.snapshot();
      const patch = (body: unknown, as?: "viewer" | "nobody", id = a.id) =>
        api.call("PATCH", `/api/databases/${id}`, { body, ...(as ? { as } : {}) });
      expectError(await patch({ enabled: false }, undefined, unknownId), 404, "not_found");
      expectError(await patch({ enabled: false }, "viewer"), 403, "forbidden");
      expectError(await patch({ enabled: false }, "nobody"), 401, "unauthenticated");
      expectInvalid(await patch({ enabled: "no" }), "enabled");
      expectInvalid(await patch({}), "enabled");
      expectInvalid(await patch({ enabled: false, name: "x" }), "name", /unknown field/);
      expectError(await api.call("PATCH", `/api/databases/${a.id}`, malformed), 400, "malformed_request");
      expect(await api.snapshot()).toEqual(before);
    });
  });

  describe("DELETE /api/databases/{id}", () => {
    it("stops managing it (audited); a sync finds it again", async () => {
      const b = await managed(dbB);
      const reply = await api.call("DELETE", `/api/databases/${b.id}`);
      expect(reply.status, reply.text).toBe(200);
      expect(reply.json).toEqual({ deleted: b.id });
      expectError(await api.call("GET", `/api/databases/${b.id}`), 404, "not_found");
      expect(await latestAudit(api, b.id)).toMatchObject({
        actor: "local-operator",
        action: "database.delete",
        target_type: "database",
        target_id: b.id,
        outcome: "success",
        details: { name: dbB },
      });
      expectError(await api.call("DELETE", `/api/databases/${b.id}`), 404, "not_found");
      const sync = await api.call("POST", "/api/databases/sync", { body: { server_id: server.id } });
      expect(sync.json.results[0].added).toContain(dbB);
      expect((await managed(dbB)).id).not.toBe(b.id);
    });

    it("404, 401, 403", async () => {
      const a = await managed(dbA);
      expectError(await api.call("DELETE", `/api/databases/${unknownId}`), 404, "not_found");
      expectError(await api.call("DELETE", `/api/databases/${a.id}`, { as: "viewer" }), 403, "forbidden");
      expectError(
        await api.call("DELETE", `/api/databases/${a.id}`, { as: "nobody" }),
        401,
        "unauthenticated",
      );
      expect((await api.call("GET", `/api/databases/${a.id}`)).status).toBe(200);
    });
  });
});
