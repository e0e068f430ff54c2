// /api/health, /api/stats, /api/settings and /api/audit through the real app over both stores:
// health with passing and failing checks, dashboard counts over backups seeded in the store, the
// settings document's partial merge, and the audit log's pages and filters.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEntry, Settings } from "#core/entities.ts";
import { newId } from "#core/ids.ts";
import { recordDrillOutcome } from "#core/use-cases/drill-outcome.ts";
import { createApp } from "#functions/api/app.ts";
import { bearerTokenAuth } from "#functions/api/auth.ts";
import { createLogger } from "#functions/logger.ts";
import { expectError, expectInvalid } from "#test/support/api-expect.ts";
import { type ApiWorld, apiWorld, type Reply } from "#test/support/api-harness.ts";
import {
  makeAudit,
  makeBackup,
  makeDatabase,
  makeDrill,
  makeServer,
  makeVerification,
} from "#test/support/fixtures.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

describe.each(["local", "aws"] as const)("system API (%s)", (kind) => {
  let api: ApiWorld;

  beforeAll(async () => {
    api = await apiWorld(kind);
  });
  afterAll(async () => {
    await api?.close();
  });

  describe("GET /api/health", () => {
    it("200 with checks.metadata_store ok, to viewers too; 401 without a token", async () => {
      const reply = await api.call("GET", "/api/health", { as: "viewer" });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.json.ok).toBe(true);
      expect(reply.json.checks.metadata_store).toEqual({ ok: true, detail: "reachable" });
      expect(Object.keys(reply.json.checks).sort()).toEqual([
        "alerts_event_bus",
        "metadata_store",
        "runner",
        "scheduler",
      ]);
      for (const check of Object.values(reply.json.checks)) {
        expect(check).toEqual({ ok: true, detail: expect.any(String) });
      }
      expectError(await api.call("GET", "/api/health", { as: "nobody" }), 401, "unauthenticated");
    });

    it("503 when a check fails (or throws), naming it", async () => {
      const app = createApp({
        ...api.deps,
        authenticate: bearerTokenAuth({ operator: "health-token" }),
        downloads: {
          link: async () => ({ url: "http://127.0.0.1:1/", expires_at: new Date().toISOString() }),
        },
        healthProbes: {
          tools: async () => ({ ok: false, detail: "mongodump not found" }),
          exploding: async () => {
            throw new Error("probe blew up");
          },
          fine: async () => ({ ok: true, detail: "fine" }),
        },
        log: createLogger("health-test", { level: "silent" }),
      });
      const res = await app.request("/api/health", { headers: { authorization: "Bearer health-token" } });
      expect(res.status).toBe(503);
      const body = (await res.json()) as { ok: boolean; checks: Record<string, unknown> };
      expect(body.ok).toBe(false);
      expect(body.checks).toMatchObject({
        metadata_store: { ok: true },
        tools: { ok: false, detail: "mongodump not found" },
        exploding: { ok: false, detail: "probe blew up" },
        fine: { ok: true, detail: "fine" },
      });
    });
  });

  describe("GET /api/me", () => {
    it("says who is calling and with which role", async () => {
      const operator = await api.call("GET", "/api/me");
      expect(operator.status, operator.text).toBe(200);
      expect(operator.json).toEqual({ id: expect.any(String), role: "operator" });
      const viewer = await api.call("GET", "/api/me", { as: "viewer" });
      expect(viewer.json).toMatchObject({ role: "viewer" });
      expectError(await api.call("GET", "/api/me", { as: "nobody" }), 401, "unauthenticated");
    });
  });

  describe("GET /api/stats", () => {
    it("counts, bytes stored and success rates over seeded backups", async () => {
      const empty = await api.call("GET", "/api/stats", { as: "viewer" });
      expect(empty.status, empty.text).toBe(200);
      const { history: emptyHistory, ...emptyRest } = empty.json;
      // 30 UTC days, oldest first, ending today, all zero.
      expect(emptyHistory).toHaveLength(30);
      expect(emptyHistory.at(-1)).toEqual({
        date: new Date().toISOString().slice(0, 10),
        completed: 0,
        failed: 0,
        bytes_written: 0,
        bytes_stored: 0,
      });
      expect(emptyRest).toEqual({
        servers: 0,
        databases: { total: 0, enabled: 0 },
        backups: { by_status: { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 }, total: 0 },
        bytes_stored: 0,
        success_rate: {
          last_24h: { completed: 0, failed: 0, rate: null },
          last_7d: { completed: 0, failed: 0, rate: null },
        },
        schedules: { enabled: 0 },
        next_runs: [],
        drills: {
          proven_databases: 0,
          managed_databases: 0,
          share: null,
          oldest_proof_at: null,
          databases: [],
        },
      });

      const store = api.deps.store;
      const server = await store.servers.create(makeServer());
      await store.databases.create(makeDatabase({ server_id: server.id, name: "a" }));
      await store.databases.create(makeDatabase({ server_id: server.id, name: "b" }));
      await store.databases.create(makeDatabase({ server_id: server.id, name: "c", enabled: false }));
      const finished = (status: "completed" | "failed", at: number, size: number | null = null) =>
        makeBackup({
          server_id: server.id,
          status,
          created_at: ago(at + HOUR),
          started_at: ago(at + HOUR),
          finished_at: ago(at),
          size_bytes: size,
          blob_key: status === "completed" ? `k/${newId()}` : null,
          error: status === "failed" ? "boom" : null,
        });
      for (const backup of [
        finished("failed", 10 * DAY), // outside both windows
        finished("completed", 3 * DAY, 250), // last 7 days only
        finished("completed", HOUR, 100), // last 24h
        finished("failed", 2 * HOUR), // last 24h
        finished("completed", 30 * 60_000, null), // last 24h, no size recorded
        makeBackup({ server_id: server.id, status: "queued" }),
        makeBackup({ server_id: server.id, status: "running", started_at: ago(60_000) }),
        makeBackup({ server_id: server.id, status: "cancelled", finished_at: ago(60_000) }),
      ]) {
        await store.backups.create(backup);
      }
      const nightly = await api.call("POST", "/api/schedules", {
        body: { name: "nightly", cron_expression: "0 3 * * *" },
      });
      const hourly = await api.call("POST", "/api/schedules", {
        body: { name: "hourly", cron_expression: "0 * * * *" },
      });
      await api.call("POST", "/api/schedules", {
        body: { name: "off", cron_expression: "0 4 * * *", enabled: false },
      });

      const reply = await api.call("GET", "/api/stats", { as: "viewer" });
      expect(reply.status, reply.text).toBe(200);
      const { next_runs, history, ...rest } = reply.json;
      type Day = {
        date: string;
        completed: number;
        failed: number;
        bytes_written: number;
        bytes_stored: number;
      };
      const days = history as Day[];
      const total = (key: "completed" | "failed" | "bytes_written") => days.reduce((n, d) => n + d[key], 0);
      // Every finished backup falls in the 30-day window; stored bytes only grow and end at the total.
      expect([total("completed"), total("failed"), total("bytes_written")]).toEqual([3, 2, 350]);
      expect(days.at(-1)?.bytes_stored).toBe(350);
      expect(days.every((d, i) => i === 0 || d.bytes_stored >= (days[i - 1]?.bytes_stored ?? 0))).toBe(true);
      const dayOf = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().slice(0, 10);
      expect(days.find((d) => d.date === dayOf(10 * DAY))).toMatchObject({ failed: 1, completed: 0 });
      expect(days.find((d) => d.date === dayOf(3 * DAY))).toMatchObject({ completed: 1, bytes_written: 250 });
      expect(rest).toEqual({
        servers: 1,
        databases: { total: 3, enabled: 2 },
        backups: { by_status: { queued: 1, running: 1, completed: 3, failed: 2, cancelled: 1 }, total: 8 },
        bytes_stored: 350,
        success_rate: {
          last_24h: { completed: 2, failed: 1, rate: 2 / 3 },
          last_7d: { completed: 3, failed: 1, rate: 0.75 },
        },
        schedules: { enabled: 2 },
        // Databases a and b have no backup (the ones above are of shop); c is disabled.
        drills: {
          proven_databases: 0,
          managed_databases: 2,
          share: 0,
          oldest_proof_at: null,
          databases: ["a", "b"].map((database) => ({
            server_id: server.id,
            database,
            status: "no_backup",
            last_verified_at: null,
            recovery_ms: null,
          })),
        },
      });
      // The soonest run of each enabled schedule, soonest first.
      expect(next_runs).toEqual([
        { schedule_id: hourly.json.id, name: "hourly", at: hourly.json.next_runs[0] },
        { schedule_id: nightly.json.id, name: "nightly", at: nightly.json.next_runs[0] },
      ]);
      expectError(await api.call("GET", "/api/stats", { as: "nobody" }), 401, "unauthenticated");
    });
  });

  describe("GET /api/stats: restore drills", () => {
    it("the share of enabled databases whose newest completed backup passed a drill, the oldest such proof, each one's recovery time", async () => {
      const store = api.deps.store;
      const before = (await api.call("GET", "/api/stats", { as: "viewer" })).json.drills;
      const server = await store.servers.create(makeServer({ name: "drilled" }));
      const db = (name: string, enabled = true) =>
        store.databases.create(makeDatabase({ server_id: server.id, name, enabled }));
      await Promise.all([
        db("proven"),
        db("lapsed"),
        db("undrilled"),
        db("failing"),
        db("empty"),
        db("off", false),
      ]);
      // Each drill's end is recorded as a drill's task records it (drill-outcome.ts): the proof on
      // the backup and, for a pass, the database's last_verified.
      const completed = async (
        database: string,
        finishedAgo: number,
        drill?: { ago: number; ms: number; failed?: boolean },
      ) => {
        const backup = await store.backups.create(
          makeBackup({
            server_id: server.id,
            database,
            status: "completed",
            created_at: ago(finishedAgo + HOUR),
            started_at: ago(finishedAgo + HOUR),
            finished_at: ago(finishedAgo),
            blob_key: `k/${newId()}`,
            verification: drill
              ? makeVerification({
                  status: drill.failed ? "failed" : "passed",
                  at: ago(drill.ago),
                  duration_ms: drill.ms,
                  error: drill.failed ? "counts differ" : null,
                })
              : null,
          }),
        );
        if (backup.verification) {
          const result = backup.verification;
          await recordDrillOutcome(
            api.deps,
            makeDrill({
              backup_id: backup.id,
              server_id: server.id,
              database,
              status: "completed",
              result,
              created_by: "stats-test",
            }),
          );
        }
        return backup;
      };
      // proven: its newest completed passed; an older backup's pass ran later but the newest is what counts
      // for the share, and the last measured recovery is the pass that ran last.
      await completed("proven", 5 * DAY, { ago: HOUR, ms: 900 });
      const provenNewest = await completed("proven", DAY, { ago: 20 * HOUR, ms: 1200 });
      await store.backups.create(
        makeBackup({ server_id: server.id, database: "proven", status: "failed", finished_at: ago(60_000) }),
      );
      // lapsed: passed long ago, then a newer backup not yet drilled.
      await completed("lapsed", 10 * DAY, { ago: 10 * DAY, ms: 3000 });
      await completed("lapsed", 2 * DAY);
      // undrilled: never drilled. failing: its newest drill failed, an older one passed.
      await completed("undrilled", DAY);
      const failingOld = await completed("failing", 3 * DAY, { ago: 3 * DAY, ms: 4000 });
      await completed("failing", DAY, { ago: 12 * HOUR, ms: 100, failed: true });
      // a proven backup of a disabled database counts nowhere.
      await completed("off", DAY, { ago: HOUR, ms: 1 });
      // oldest proof among the proven: a second proven database, proven longer ago.
      await db("steady");
      const steady = await completed("steady", 4 * DAY, { ago: 4 * DAY, ms: 2500 });

      const reply = await api.call("GET", "/api/stats", { as: "viewer" });
      expect(reply.status, reply.text).toBe(200);
      const drills = reply.json.drills;
      const mine = drills.databases.filter((d: { server_id: string }) => d.server_id === server.id);
      const row = (database: string, status: string, proof: { at: string; ms: number } | null) => ({
        server_id: server.id,
        database,
        status,
        last_verified_at: proof?.at ?? null,
        recovery_ms: proof?.ms ?? null,
      });
      const proofOf = (b: { verification: { at: string; duration_ms: number | null } | null }) => ({
        at: b.verification!.at,
        ms: b.verification!.duration_ms!,
      });
      const provenOld = (
        await store.backups.list({ server_id: server.id, database: "proven" }, { limit: 10 })
      ).items
        .filter((b) => b.status === "completed")
        .at(-1)!;
      const lapsedOld = (
        await store.backups.list({ server_id: server.id, database: "lapsed" }, { limit: 10 })
      ).items.at(-1)!;
      // Sorted by database name.
      expect(mine).toEqual([
        row("empty", "no_backup", null),
        row("failing", "failed", proofOf(failingOld)),
        row("lapsed", "not_yet", proofOf(lapsedOld)),
        row("proven", "passed", proofOf(provenOld)),
        row("steady", "passed", proofOf(steady)),
        row("undrilled", "not_yet", null),
      ]);
      expect(drills.proven_databases - before.proven_databases).toBe(2);
      expect(drills.managed_databases - before.managed_databases).toBe(6);
      expect(drills.share).toBeCloseTo(drills.proven_databases / drills.managed_databases, 10);
      // The oldest proof among the proven ones: steady's (4 days), not proven's newest (20 hours).
      expect(drills.oldest_proof_at).toBe(steady.verification!.at);
      expect(provenNewest.verification!.at > drills.oldest_proof_at).toBe(true);
    });
  });

  describe("GET/PUT /api/settings", () => {
    it("defaults until saved; PUT merges the fields present; audited", async () => {
      const initial = await api.call("GET", "/api/settings", { as: "viewer" });
      expect(initial.status, initial.text).toBe(200);
      Settings.strict().parse(initial.json);
      expect(initial.json).toMatchObject({
        retention_days: 30,
        keep_last: 3,
        concurrency: { per_server: 2, total: 10 },
        webhook_url: null,
      });

      const before = Date.now();
      const keep = await api.call("PUT", "/api/settings", { body: { keep_last: 7 } });
      expect(keep.status, keep.text).toBe(200);
      Settings.strict().parse(keep.json);
      expect(keep.json).toMatchObject({
        retention_days: 30,
        keep_last: 7,
        concurrency: { per_server: 2, total: 10 },
        webhook_url: null,
      });
      expect(Date.parse(keep.json.updated_at)).toBeGreaterThanOrEqual(before - 1000);
      expect((await api.call("GET", "/api/settings")).json).toEqual(keep.json);

      const nested = await api.call("PUT", "/api/settings", {
        body: { concurrency: { total: 20 }, webhook_url: "https://hooks.example.com/x" },
      });
      expect(nested.json).toMatchObject({
        keep_last: 7,
        concurrency: { per_server: 2, total: 20 },
        webhook_url: "https://hooks.example.com/x",
      });
      // The URL's path is its secret: operators see it whole, viewers only where it goes.
      expect((await api.call("GET", "/api/settings")).json.webhook_url).toBe("https://hooks.example.com/x");
      expect((await api.call("GET", "/api/settings", { as: "viewer" })).json.webhook_url).toBe(
        "https://hooks.example.com/…",
      );
      const cleared = await api.call("PUT", "/api/settings", {
        body: { webhook_url: null, retention_days: 14 },
      });
      expect(cleared.json).toMatchObject({
        retention_days: 14,
        keep_last: 7,
        concurrency: { per_server: 2, total: 20 },
        webhook_url: null,
      });

      const audit = await api.call("GET", "/api/audit?target_type=settings&limit=100");
      expect(audit.json.items.slice(0, 3)).toEqual([
        expect.objectContaining({
          actor: "local-operator",
          action: "settings.update",
          target_type: "settings",
          target_id: null,
          outcome: "success",
          details: { fields: expect.arrayContaining(["webhook_url", "retention_days"]) },
        }),
        expect.objectContaining({
          action: "settings.update",
          details: { fields: expect.arrayContaining(["concurrency", "webhook_url"]) },
        }),
        expect.objectContaining({ action: "settings.update", details: { fields: ["keep_last"] } }),
      ]);
    });

    it("422 naming the field, 400 malformed, 403 viewer, 401; nothing changes", async () => {
      const before = await api.snapshot();
      const put = (body: unknown, as?: "viewer" | "nobody") =>
        api.call("PUT", "/api/settings", { body, ...(as ? { as } : {}) });
      expectInvalid(await put({ retention_days: 0 }), "retention_days");
      expectInvalid(await put({ retention_days: 36501 }), "retention_days");
      expectInvalid(await put({ keep_last: "3" }), "keep_last");
      expectInvalid(await put({ concurrency: { per_server: 51 } }), "concurrency.per_server");
      expectInvalid(await put({ concurrency: { total: 0 } }), "concurrency.total");
      expectInvalid(await put({ concurrency: { max: 1 } }), "concurrency.max", /unknown field/);
      expectInvalid(await put({ webhook_url: "ftp://hooks.example.com" }), "webhook_url", /http/);
      expectInvalid(await put({ webhook_url: "not a url" }), "webhook_url");
      expectInvalid(await put({}), "retention_days", /at least one/);
      expectInvalid(await put({ updated_at: "2020-01-01T00:00:00Z" }), "updated_at", /unknown field/);
      expectError(
        await api.call("PUT", "/api/settings", {
          body: "{",
          headers: { "content-type": "application/json" },
        }),
        400,
        "malformed_request",
      );
      expectError(await put({ keep_last: 5 }, "viewer"), 403, "forbidden");
      expectError(await put({ keep_last: 5 }, "nobody"), 401, "unauthenticated");
      expectError(await api.call("GET", "/api/settings", { as: "nobody" }), 401, "unauthenticated");
      expect(await api.snapshot()).toEqual(before);
    });
  });

  describe("GET /api/audit", () => {
    it("pages newest first until next_cursor is null; filters by actor, target_type, target_id", async () => {
      const targetId = newId();
      const seeded = [];
      for (let i = 0; i < 5; i++) {
        seeded.push(
          await api.deps.store.audit.create(
            makeAudit({
              actor: "alice@example.com",
              action: "backup.delete",
              target_type: "backup",
              target_id: i < 2 ? targetId : newId(),
            }),
          ),
        );
      }
      await api.call("PUT", "/api/settings", { body: { keep_last: 4 } });

      const seen: Array<{ id: string; at: string }> = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Reply = await api.call("GET", `/api/audit?limit=2${cursor ? `&cursor=${cursor}` : ""}`, {
          as: "viewer",
        });
        expect(page.status, page.text).toBe(200);
        expect(Object.keys(page.json).sort()).toEqual(["items", "next_cursor"]);
        expect(page.json.items.length).toBeLessThanOrEqual(2);
        for (const entry of page.json.items) AuditEntry.strict().parse(entry);
        seen.push(...page.json.items);
        cursor = page.json.next_cursor;
        pages++;
        expect(pages).toBeLessThan(100);
      } while (cursor);
      expect(pages).toBeGreaterThan(2);
      const ids = seen.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual([...ids].sort().reverse());
      expect(seen[0]).toMatchObject({ actor: "local-operator", action: "settings.update" });
      expect(ids).toEqual(expect.arrayContaining(seeded.map((e) => e.id)));

      const alice = await api.call("GET", `/api/audit?actor=${encodeURIComponent("alice@example.com")}`);
      expect(alice.json.items.map((e: { id: string }) => e.id)).toEqual(seeded.map((e) => e.id).reverse());
      const operator = await api.call("GET", "/api/audit?actor=local-operator&limit=100");
      expect(operator.json.items.length).toBeGreaterThan(0);
      expect(operator.json.items.every((e: { actor: string }) => e.actor === "local-operator")).toBe(true);
      // Other tests of this world record drills' ends against backups too: these are the seeded ones, in order.
      const backups = await api.call("GET", "/api/audit?target_type=backup&limit=100");
      expect(backups.json.items.every((e: { target_type: string }) => e.target_type === "backup")).toBe(true);
      const seededIds = new Set(seeded.map((e) => e.id));
      expect(
        backups.json.items.map((e: { id: string }) => e.id).filter((id: string) => seededIds.has(id)),
      ).toEqual(seeded.map((e) => e.id).reverse());
      const target = await api.call("GET", `/api/audit?target_id=${targetId}`);
      expect(target.json).toEqual({ items: [seeded[1], seeded[0]], next_cursor: null });
      expect((await api.call("GET", "/api/audit?actor=nobody-at-all")).json).toEqual({
        items: [],
        next_cursor: null,
      });

      // Reading the log writes nothing to it.
      const count = async () => (await api.call("GET", "/api/audit?limit=100")).json.items.length;
      const n = await count();
      expect(await count()).toBe(n);
    });

    it("401 without a token; 422 on bad query parameters; no way to write it", async () => {
      expectError(await api.call("GET", "/api/audit", { as: "nobody" }), 401, "unauthenticated");
      expectInvalid(await api.call("GET", "/api/audit?limit=1000"), "limit");
      expectInvalid(await api.call("GET", "/api/audit?cursor=a.b"), "cursor");
      expectInvalid(await api.call("GET", "/api/audit?actor="), "actor");
      expectInvalid(await api.call("GET", "/api/audit?action=x"), "action", /unknown field/);
      expectError(await api.call("POST", "/api/audit", { body: {}, as: "viewer" }), 403, "forbidden");
      // A known path, a method it does not take: 405 naming the ones it does.
      const post = await api.call("POST", "/api/audit", { body: makeAudit() });
      expectError(post, 405, "method_not_allowed");
      expect(post.headers.get("allow")).toBe("GET, HEAD");
      expectError(await api.call("DELETE", "/api/audit"), 405, "method_not_allowed");
    });
  });
});
