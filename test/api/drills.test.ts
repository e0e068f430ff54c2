// Asking for restore drills through the API, over real adapters (moto or local files): what is
// queued, the target it gets (settings default, a named sandbox), the refusals that change nothing
// (not completed, a drill already waiting, not a sandbox, a viewer), the list, one drill, cancel,
// and the schedule and settings fields that steer drills. No runner in the first part: drills stay
// queued, so what is asserted is the request's own effect; the last part runs one for real.
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allPages, expectError, expectInvalid, latestAudit } from "#test/support/api-expect.ts";
import { type ApiWorld, addTestServer, apiWorld, waitForJob } from "#test/support/api-harness.ts";
import { adminMongoClient, uniqueName } from "#test/support/env.ts";
import { makeBackup, makeDatabase, makeServer, makeSettings } from "#test/support/fixtures.ts";
import { seedSampleDatabase } from "#test/support/sample-data.ts";

describe.each(["local", "aws"] as const)("restore drills through the API (%s store)", (kind) => {
  let api: ApiWorld;
  let source: { id: string };
  let sandbox: { id: string };

  const completedBackup = async () =>
    await api.deps.store.backups.create(
      makeBackup({
        server_id: source.id,
        status: "completed",
        blob_key: "backups/x/shop/x.archive.gz",
        size_bytes: 10,
        sha256: "a".repeat(64),
        collections: { orders: 3 },
        finished_at: new Date().toISOString(),
      }),
    );

  beforeAll(async () => {
    api = await apiWorld(kind);
    source = await api.deps.store.servers.create(makeServer({ name: "production" }));
    sandbox = await api.deps.store.servers.create(makeServer({ name: "staging", sandbox: true }));
    await api.deps.store.databases.create(makeDatabase({ server_id: source.id, name: "shop" }));
  });
  afterAll(async () => {
    await api?.close();
  });

  it("queues a drill of a completed backup on the settings' default target: 202, audited", async () => {
    const backup = await completedBackup();
    const reply = await api.call("POST", `/api/backups/${backup.id}/verify`);
    expect(reply.status, reply.text).toBe(202);
    expect(reply.json).toMatchObject({
      backup_id: backup.id,
      server_id: source.id,
      database: "shop",
      target: { kind: "ephemeral" },
      scratch_database: null,
      trigger: "manual",
      status: "queued",
      created_by: "local-operator",
      result: null,
    });
    const audit = await latestAudit(api, reply.json.id);
    expect(audit).toMatchObject({ action: "backup.verify", outcome: "success", target_type: "drill" });
    expect((await api.call("GET", `/api/drills/${reply.json.id}`)).json).toEqual(reply.json);
  });

  it("refuses a second drill while one of the same backup waits (409 naming it), and changes nothing", async () => {
    const backup = await completedBackup();
    const first = await api.call("POST", `/api/backups/${backup.id}/verify`, { body: {} });
    expect(first.status, first.text).toBe(202);
    const before = await api.snapshot();
    const second = await api.call("POST", `/api/backups/${backup.id}/verify`);
    expectError(second, 409, "conflict");
    expect(second.json.error.message).toContain(first.json.id);
    // Only the refusal's own audit entry is new (a domain refusal is not audited), nothing else.
    expect(await api.snapshot()).toEqual(before);
    // Once that drill ended, another may run.
    await api.deps.store.drills.transition(first.json.id, "cancelled");
    expect((await api.call("POST", `/api/backups/${backup.id}/verify`)).status).toBe(202);
  });

  it("refuses backups that are not completed (409), unknown ones (404), and viewers (403)", async () => {
    for (const status of ["queued", "running", "failed", "cancelled"] as const) {
      const backup = await api.deps.store.backups.create(makeBackup({ server_id: source.id, status }));
      const reply = await api.call("POST", `/api/backups/${backup.id}/verify`);
      expectError(reply, 409, "conflict");
      expect(reply.json.error.message).toContain(status);
    }
    expectError(
      await api.call("POST", "/api/backups/0190f0e0-0000-7000-8000-000000000000/verify"),
      404,
      "not_found",
    );
    const backup = await completedBackup();
    expectError(
      await api.call("POST", `/api/backups/${backup.id}/verify`, { as: "viewer" }),
      403,
      "forbidden",
    );
    const page = await api.call("GET", `/api/drills?backup_id=${backup.id}`);
    expect(page.json.items).toEqual([]);
  });

  it("restores into a sandbox only when it is marked as one, into its scratch database", async () => {
    const backup = await completedBackup();
    const refused = await api.call("POST", `/api/backups/${backup.id}/verify`, {
      body: { target: { kind: "sandbox", server_id: source.id } },
    });
    expectInvalid(refused, "target.server_id", /not marked as a sandbox/);
    const unknownKind = await api.call("POST", `/api/backups/${backup.id}/verify`, {
      body: { target: { kind: "elsewhere" } },
    });
    expectError(unknownKind, 422, "invalid");
    const reply = await api.call("POST", `/api/backups/${backup.id}/verify`, {
      body: { target: { kind: "sandbox", server_id: sandbox.id } },
    });
    expect(reply.status, reply.text).toBe(202);
    expect(reply.json.target).toEqual({ kind: "sandbox", server_id: sandbox.id });
    expect(reply.json.scratch_database).toMatch(/^mbm_drill_[0-9a-f]{12}$/);
    expect(reply.json.scratch_database).toBe(`mbm_drill_${backup.id.replaceAll("-", "").slice(-12)}`);
  });

  it("lists drills by backup and status, newest first, and cancels a queued one once", async () => {
    const backup = await completedBackup();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const reply = await api.call("POST", `/api/backups/${backup.id}/verify`);
      expect(reply.status, reply.text).toBe(202);
      ids.push(reply.json.id);
      const cancelled = await api.call("POST", `/api/drills/${reply.json.id}/cancel`);
      expect(cancelled.status, cancelled.text).toBe(200);
      expect(cancelled.json).toMatchObject({ status: "cancelled", error: "cancelled by local-operator" });
    }
    const { items } = await allPages(api, `/api/drills?backup_id=${backup.id}`, 2);
    expect(items.map((d) => d.id)).toEqual([...ids].reverse());
    expectError(await api.call("POST", `/api/drills/${ids[0]}/cancel`), 409, "conflict");
    expectError(await api.call("POST", `/api/drills/${ids[0]}/cancel`, { as: "viewer" }), 403, "forbidden");
    const byStatus = await api.call("GET", `/api/drills?backup_id=${backup.id}&status=queued`);
    expect(byStatus.json.items).toEqual([]);
    expectInvalid(await api.call("GET", "/api/drills?status=sleeping"), "status");
  });

  it("takes the default target and max age from the settings, refusing a server that is not a sandbox", async () => {
    const refused = await api.call("PUT", "/api/settings", {
      body: { drills: { target: { kind: "sandbox", server_id: source.id } } },
    });
    expectInvalid(refused, "drills.target.server_id", /not marked as a sandbox/);
    expectInvalid(
      await api.call("PUT", "/api/settings", { body: { drills: { max_age_days: 0 } } }),
      "drills.max_age_days",
    );
    const saved = await api.call("PUT", "/api/settings", {
      body: { drills: { target: { kind: "sandbox", server_id: sandbox.id }, max_age_days: 14 } },
    });
    expect(saved.status, saved.text).toBe(200);
    expect(saved.json.drills).toEqual({
      target: { kind: "sandbox", server_id: sandbox.id },
      max_age_days: 14,
    });
    const backup = await completedBackup();
    const reply = await api.call("POST", `/api/backups/${backup.id}/verify`);
    expect(reply.json.target).toEqual({ kind: "sandbox", server_id: sandbox.id });
    await api.deps.store.settings.put(makeSettings());
  });

  it("gives schedules verify_every (default 1) and an optional drill target", async () => {
    const created = await api.call("POST", "/api/schedules", {
      body: { name: `drills-${kind}`, cron_expression: "0 3 * * *", server_id: source.id },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({ verify_every: 1, drill_target: null });
    expectInvalid(
      await api.call("PUT", `/api/schedules/${created.json.id}`, { body: { verify_every: -1 } }),
      "verify_every",
    );
    expectInvalid(
      await api.call("PUT", `/api/schedules/${created.json.id}`, {
        body: { drill_target: { kind: "sandbox", server_id: source.id } },
      }),
      "drill_target.server_id",
    );
    const updated = await api.call("PUT", `/api/schedules/${created.json.id}`, {
      body: { verify_every: 0, drill_target: { kind: "sandbox", server_id: sandbox.id } },
    });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.json).toMatchObject({
      verify_every: 0,
      drill_target: { kind: "sandbox", server_id: sandbox.id },
    });
  });
});

// The whole way, as an operator sees it: a real backup of the test FerretDB, a drill asked for
// through the API and run by local mode's runner as a task process (a throwaway server started from
// the configured binary), its proof on the drill, on the backup and on the dashboard.
describe.each(["local", "aws"] as const)("a restore drill run end to end (%s store)", (kind) => {
  let api: ApiWorld;
  let mongo: MongoClient;
  const source = uniqueName("api_drill").replaceAll("-", "_");

  beforeAll(async () => {
    mongo = await adminMongoClient();
    await seedSampleDatabase(mongo, source, 200);
    api = await apiWorld(kind, { runJobs: true });
  });
  afterAll(async () => {
    await api?.close();
    await mongo?.db(source).dropDatabase();
    await mongo?.close();
  });

  it("proves a completed backup restorable: passed, per collection, recorded on the backup and the dashboard", async () => {
    const server = await addTestServer(api);
    expect((await api.call("POST", "/api/databases/sync", { body: { server_id: server.id } })).status).toBe(
      200,
    );
    const triggered = await api.call("POST", "/api/backups", {
      body: { server_id: server.id, database: source },
    });
    expect(triggered.status, triggered.text).toBe(202);
    const backup = await waitForJob(api, `/api/backups/${triggered.json.items[0].id}`, 120_000);
    expect(backup, JSON.stringify(backup)).toMatchObject({ status: "completed" });

    const asked = await api.call("POST", `/api/backups/${backup.id}/verify`);
    expect(asked.status, asked.text).toBe(202);
    const drill = await waitForJob(api, `/api/drills/${asked.json.id}`, 180_000);
    expect(drill, JSON.stringify(drill)).toMatchObject({ status: "completed", error: null });
    const proof = drill.result;
    expect(proof).toMatchObject({ status: "passed", target: "ephemeral", error: null });
    expect(Object.keys(proof.collections).sort()).toEqual(Object.keys(backup.collections).sort());
    for (const [name, figures] of Object.entries(proof.collections) as [string, Record<string, unknown>][]) {
      expect(figures.expected, name).toBe(backup.collections[name]);
      expect(figures.restored, name).toBe(backup.collections[name]);
      expect(figures.indexes_restored, name).toEqual(
        expect.arrayContaining(figures.indexes_expected as string[]),
      );
    }
    expect(proof.duration_ms).toBeGreaterThan(0);
    expect((await api.call("GET", `/api/backups/${backup.id}`)).json.verification).toEqual(proof);

    const stats = (await api.call("GET", "/api/stats", { as: "viewer" })).json.drills;
    const row = stats.databases.find((d: { database: string }) => d.database === source);
    expect(row).toMatchObject({
      status: "passed",
      last_verified_at: proof.at,
      recovery_ms: proof.duration_ms,
    });
  }, 360_000);
});
