// /api/schedules through the real app over both stores: defaults from settings, the next five runs
// (checked against the wall clock of the schedule's zone, not against croner), update, toggle,
// delete, validation naming the field, unknown scopes, and paging.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Schedule } from "#core/entities.ts";
import { newId } from "#core/ids.ts";
import { expectError, expectInvalid, latestAudit } from "#test/support/api-expect.ts";
import { type ApiWorld, addTestServer, apiWorld, type Reply } from "#test/support/api-harness.ts";
import { makeDatabase } from "#test/support/fixtures.ts";

/** A schedule as the API shows it: the entity's snake_case fields plus next_runs. */
function expectScheduleView(value: unknown) {
  const { next_runs, ...schedule } = value as { next_runs: unknown };
  Schedule.strict().parse(schedule);
  expect(Array.isArray(next_runs)).toBe(true);
  for (const key of Object.keys(value as object)) expect(key).toMatch(/^[a-z][a-z0-9_]*$/);
}

/** The wall clock of `iso` in `timeZone`: weekday, hour and minute. */
function wallClock(iso: string, timeZone: string) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  return { weekday: parts.weekday, time: `${parts.hour}:${parts.minute}:${parts.second}` };
}

/** Five ISO UTC times, strictly increasing, all in the future. */
function expectFiveRuns(runs: string[], before = Date.now()) {
  expect(runs).toHaveLength(5);
  for (const run of runs) expect(run).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const times = runs.map((r) => Date.parse(r));
  expect(times[0]).toBeGreaterThan(before - 1000);
  for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]!);
}

const malformed = { body: '{"name": "x",}', headers: { "content-type": "application/json" } };
const HOUR = 3_600_000;

describe.each(["local", "aws"] as const)("schedules API (%s)", (kind) => {
  let api: ApiWorld;
  let server: { id: string };
  const unknownId = newId();
  const create = (body: unknown, as?: "viewer" | "nobody") =>
    api.call("POST", "/api/schedules", { body, ...(as ? { as } : {}) });

  beforeAll(async () => {
    api = await apiWorld(kind);
    server = await addTestServer(api, "schedules");
    await api.deps.store.databases.create(makeDatabase({ server_id: server.id, name: "shop" }));
  });
  afterAll(async () => {
    await api?.close();
  });

  describe("POST /api/schedules", () => {
    it("defaults: timezone UTC, enabled, retention/keep_last from settings; audited", async () => {
      const before = Date.now();
      const reply = await create({ name: "nightly", cron_expression: "0 3 * * *" });
      expect(reply.status, reply.text).toBe(201);
      expectScheduleView(reply.json);
      expect(reply.json).toMatchObject({
        name: "nightly",
        cron_expression: "0 3 * * *",
        timezone: "UTC",
        server_id: null,
        database: null,
        retention_days: 30,
        keep_last: 3,
        enabled: true,
        last_run: null,
      });
      expectFiveRuns(reply.json.next_runs, before);
      for (const run of reply.json.next_runs) expect(run).toMatch(/T03:00:00\.000Z$/);
      expect(Date.parse(reply.json.next_runs[0]) - before).toBeLessThanOrEqual(24 * HOUR);
      expect(await latestAudit(api, reply.json.id)).toMatchObject({
        actor: "local-operator",
        action: "schedule.create",
        target_type: "schedule",
        target_id: reply.json.id,
        outcome: "success",
        details: { name: "nightly" },
      });

      const settings = await api.call("PUT", "/api/settings", { body: { retention_days: 9, keep_last: 4 } });
      expect(settings.status).toBe(200);
      const withSettings = await create({ name: "after settings", cron_expression: "0 3 * * *" });
      expect(withSettings.json).toMatchObject({ retention_days: 9, keep_last: 4 });
      const explicit = await create({
        name: "explicit",
        cron_expression: "0 3 * * *",
        retention_days: 100,
        keep_last: 1,
        enabled: false,
      });
      expect(explicit.json).toMatchObject({
        retention_days: 100,
        keep_last: 1,
        enabled: false,
        next_runs: [],
      });
      await api.call("PUT", "/api/settings", { body: { retention_days: 30, keep_last: 3 } });
    });

    it("next_runs are the zone's wall clock: 03:00 in Europe/Paris, five days in a row", async () => {
      const before = Date.now();
      const reply = await create({
        name: "paris",
        cron_expression: " 0   3 * * * ",
        timezone: "Europe/Paris",
      });
      expect(reply.status, reply.text).toBe(201);
      expect(reply.json.cron_expression).toBe("0 3 * * *");
      const runs: string[] = reply.json.next_runs;
      expectFiveRuns(runs, before);
      for (const run of runs) expect(wallClock(run, "Europe/Paris").time).toBe("03:00:00");
      // Paris is UTC+1 or +2: 03:00 there is 01:00 or 02:00 UTC.
      for (const run of runs) expect(run).toMatch(/T0[12]:00:00\.000Z$/);
      expect(Date.parse(runs[0]!) - before).toBeLessThanOrEqual(25 * HOUR);
      for (let i = 1; i < runs.length; i++) {
        const gap = Date.parse(runs[i]!) - Date.parse(runs[i - 1]!);
        expect([23 * HOUR, 24 * HOUR, 25 * HOUR]).toContain(gap);
      }
    });

    it("scoped to a server, and to one of its databases", async () => {
      const reply = await create({
        name: "scoped",
        cron_expression: "15 2 * * 0",
        timezone: "Asia/Tokyo",
        server_id: server.id,
        database: "shop",
      });
      expect(reply.status, reply.text).toBe(201);
      expect(reply.json).toMatchObject({ server_id: server.id, database: "shop" });
      for (const run of reply.json.next_runs) {
        expect(wallClock(run, "Asia/Tokyo")).toEqual({ weekday: "Sun", time: "02:15:00" });
      }
      const unknownDb = await create({
        name: "scoped",
        cron_expression: "15 2 * * 0",
        server_id: server.id,
        database: "not_synced",
      });
      expectError(unknownDb, 404, "not_found");
      expect(unknownDb.json.error.details).toMatchObject({ entity: "database" });
    });

    it("422 naming the field: cron, timezone, database without server, bad values; 400 malformed", async () => {
      const before = await api.snapshot();
      const base = { name: "bad", cron_expression: "0 3 * * *" };
      expectInvalid(await create({ ...base, cron_expression: "61 * * * *" }), "cron_expression", /minute/);
      expectInvalid(await create({ ...base, cron_expression: "0 3 * *" }), "cron_expression", /5 fields/);
      expectInvalid(await create({ ...base, cron_expression: "@daily" }), "cron_expression");
      expectInvalid(await create({ ...base, cron_expression: "0 0 30 2 *" }), "cron_expression", /never/);
      expectInvalid(await create({ ...base, cron_expression: "" }), "cron_expression");
      expectInvalid(await create({ ...base, timezone: "Mars/Olympus_Mons" }), "timezone");
      expectInvalid(await create({ ...base, timezone: "+05:00" }), "timezone");
      expectInvalid(await create({ ...base, server_id: null, database: "shop" }), "database", /server_id/);
      expectInvalid(await create({ ...base, retention_days: 0 }), "retention_days");
      expectInvalid(await create({ ...base, keep_last: 1.5 }), "keep_last");
      expectInvalid(await create({ ...base, database: "bad/name", server_id: server.id }), "database");
      expectInvalid(await create({ cron_expression: "0 3 * * *" }), "name");
      expectInvalid(await create({ ...base, every: "day" }), "every", /unknown field/);
      expectError(await api.call("POST", "/api/schedules", malformed), 400, "malformed_request");
      expect(await api.snapshot()).toEqual(before);
    });

    // A database needs its server: without one, the schedule would back up every enabled database.
    it("422: a database with server_id left out", async () => {
      const before = await api.snapshot();
      const reply = await create({ name: "bad", cron_expression: "0 3 * * *", database: "shop" });
      expectInvalid(reply, "database", /server_id/);
      expect(await api.snapshot()).toEqual(before);
    });

    it("404 unknown server_id; 401; 403 for a viewer", async () => {
      const before = await api.snapshot();
      const unknown = await create({ name: "x", cron_expression: "0 3 * * *", server_id: unknownId });
      expectError(unknown, 404, "not_found");
      expect(unknown.json.error.details).toEqual({ entity: "server", id: unknownId });
      expectError(await create({ name: "x", cron_expression: "0 3 * * *" }, "viewer"), 403, "forbidden");
      expectError(
        await create({ name: "x", cron_expression: "0 3 * * *" }, "nobody"),
        401,
        "unauthenticated",
      );
      expect(await api.snapshot()).toEqual(before);
    });
  });

  describe("GET /api/schedules and /api/schedules/{id}", () => {
    it("gets one with its next runs (viewers too); 404 unknown; 401", async () => {
      const created = (await create({ name: "get me", cron_expression: "*/30 * * * *" })).json;
      const reply = await api.call("GET", `/api/schedules/${created.id}`, { as: "viewer" });
      expect(reply.status).toBe(200);
      expectScheduleView(reply.json);
      const { next_runs, ...rest } = reply.json;
      const { next_runs: _created, ...createdRest } = created;
      expect(rest).toEqual(createdRest);
      expectFiveRuns(next_runs);
      for (let i = 1; i < 5; i++)
        expect(Date.parse(next_runs[i]) - Date.parse(next_runs[i - 1])).toBe(HOUR / 2);
      const unknown = await api.call("GET", `/api/schedules/${unknownId}`);
      expectError(unknown, 404, "not_found");
      expect(unknown.json.error.details).toEqual({ entity: "schedule", id: unknownId });
      expectError(
        await api.call("GET", `/api/schedules/${created.id}`, { as: "nobody" }),
        401,
        "unauthenticated",
      );
    });

    it("lists newest first in pages of 2 until next_cursor is null; filters by enabled", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const reply = await create({
          name: `page ${i}`,
          cron_expression: `${i} 4 * * *`,
          enabled: i % 2 === 0,
        });
        ids.push(reply.json.id);
      }
      const all = (await api.call("GET", "/api/schedules?limit=100")).json.items.map(
        (s: { id: string }) => s.id,
      );
      const seen: string[] = [];
      let pages = 0;
      let cursor: string | null = null;
      do {
        const page: Reply = await api.call(
          "GET",
          `/api/schedules?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
          {
            as: "viewer",
          },
        );
        expect(page.status, page.text).toBe(200);
        expect(Object.keys(page.json).sort()).toEqual(["items", "next_cursor"]);
        expect(page.json.items.length).toBeLessThanOrEqual(2);
        for (const item of page.json.items) {
          expectScheduleView(item);
          expect(item.next_runs).toHaveLength(item.enabled ? 5 : 0);
        }
        seen.push(...page.json.items.map((s: { id: string }) => s.id));
        cursor = page.json.next_cursor;
        pages++;
        expect(pages).toBeLessThan(50);
      } while (cursor);
      expect(pages).toBeGreaterThan(2);
      expect(seen).toEqual(all);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.slice(0, 5)).toEqual([...ids].reverse());

      const enabled = await api.call("GET", "/api/schedules?enabled=true&limit=100");
      const disabled = await api.call("GET", "/api/schedules?enabled=false&limit=100");
      expect(enabled.json.items.every((s: { enabled: boolean }) => s.enabled)).toBe(true);
      expect(disabled.json.items.every((s: { enabled: boolean }) => !s.enabled)).toBe(true);
      const enabledIds = enabled.json.items.map((s: { id: string }) => s.id);
      const disabledIds = disabled.json.items.map((s: { id: string }) => s.id);
      expect(enabledIds).toEqual(expect.arrayContaining([ids[0], ids[2], ids[4]]));
      expect(disabledIds).toEqual(expect.arrayContaining([ids[1], ids[3]]));
      expect(enabledIds.length + disabledIds.length).toBe(all.length);

      expectError(await api.call("GET", "/api/schedules", { as: "nobody" }), 401, "unauthenticated");
      expectInvalid(await api.call("GET", "/api/schedules?enabled=1"), "enabled");
      expectInvalid(await api.call("GET", "/api/schedules?limit=-1"), "limit");
    });
  });

  describe("PUT /api/schedules/{id}", () => {
    it("changes the fields present; next_runs follow; audited with the field names", async () => {
      const created = (await create({ name: "to update", cron_expression: "0 3 * * *" })).json;
      const reply = await api.call("PUT", `/api/schedules/${created.id}`, {
        body: { cron_expression: "30 4 * * 1", timezone: "America/New_York", keep_last: 7 },
      });
      expect(reply.status, reply.text).toBe(200);
      expectScheduleView(reply.json);
      expect(reply.json).toMatchObject({
        id: created.id,
        name: "to update",
        cron_expression: "30 4 * * 1",
        timezone: "America/New_York",
        keep_last: 7,
        retention_days: created.retention_days,
        created_at: created.created_at,
      });
      expectFiveRuns(reply.json.next_runs);
      for (const run of reply.json.next_runs) {
        expect(wallClock(run, "America/New_York")).toEqual({ weekday: "Mon", time: "04:30:00" });
      }
      expect((await api.call("GET", `/api/schedules/${created.id}`)).json).toMatchObject({
        cron_expression: "30 4 * * 1",
        keep_last: 7,
      });
      expect(await latestAudit(api, created.id)).toMatchObject({
        actor: "local-operator",
        action: "schedule.update",
        target_id: created.id,
        outcome: "success",
        details: { fields: ["cron_expression", "timezone", "keep_last"] },
      });

      const scoped = await api.call("PUT", `/api/schedules/${created.id}`, {
        body: { server_id: server.id, database: "shop" },
      });
      expect(scoped.json).toMatchObject({ server_id: server.id, database: "shop" });
      const unscoped = await api.call("PUT", `/api/schedules/${created.id}`, { body: { server_id: null } });
      expect(unscoped.json).toMatchObject({ server_id: null, database: null });
    });

    it("404, 401, 403, 422, 400; nothing changes", async () => {
      const created = (await create({ name: "update errors", cron_expression: "0 3 * * *" })).json;
      const before = await api.snapshot();
      const put = (body: unknown, as?: "viewer" | "nobody", id = created.id) =>
        api.call("PUT", `/api/schedules/${id}`, { body, ...(as ? { as } : {}) });
      expectError(await put({ name: "x" }, undefined, unknownId), 404, "not_found");
      expectError(await put({ server_id: unknownId }), 404, "not_found");
      expectError(await put({ name: "x" }, "viewer"), 403, "forbidden");
      expectError(await put({ name: "x" }, "nobody"), 401, "unauthenticated");
      expectInvalid(await put({ cron_expression: "* * * * * *" }), "cron_expression");
      expectInvalid(await put({ timezone: "Nowhere/Land" }), "timezone");
      expectInvalid(await put({ server_id: null, database: "shop" }), "database");
      expectInvalid(await put({ keep_last: 0 }), "keep_last");
      expectInvalid(await put({ id: "x" }), "id", /unknown field/);
      expectError(await api.call("PUT", `/api/schedules/${created.id}`, malformed), 400, "malformed_request");
      expect(await api.snapshot()).toEqual(before);
    });
  });

  it("PUT 422: a database on a schedule that has no server", async () => {
    const created = (await create({ name: "no server", cron_expression: "0 3 * * *" })).json;
    const reply = await api.call("PUT", `/api/schedules/${created.id}`, { body: { database: "shop" } });
    expectInvalid(reply, "database", /server_id/);
    expect((await api.call("GET", `/api/schedules/${created.id}`)).json.database).toBeNull();
  });

  describe("POST /api/schedules/{id}/toggle", () => {
    it("flips enabled; next_runs empty while disabled; audited as schedule.disable / schedule.enable", async () => {
      const created = (await create({ name: "toggle", cron_expression: "0 3 * * *" })).json;
      const off = await api.call("POST", `/api/schedules/${created.id}/toggle`);
      expect(off.status, off.text).toBe(200);
      expectScheduleView(off.json);
      expect(off.json).toMatchObject({ id: created.id, enabled: false, next_runs: [] });
      expect((await api.call("GET", `/api/schedules/${created.id}`)).json).toMatchObject({
        enabled: false,
        next_runs: [],
      });
      expect(await latestAudit(api, created.id)).toMatchObject({
        actor: "local-operator",
        action: "schedule.disable",
        target_id: created.id,
        outcome: "success",
      });
      const on = await api.call("POST", `/api/schedules/${created.id}/toggle`);
      expect(on.json.enabled).toBe(true);
      expectFiveRuns(on.json.next_runs);
      expect(await latestAudit(api, created.id)).toMatchObject({
        action: "schedule.enable",
        outcome: "success",
      });
    });

    it("404, 401, 403", async () => {
      const created = (await create({ name: "toggle errors", cron_expression: "0 3 * * *" })).json;
      expectError(await api.call("POST", `/api/schedules/${unknownId}/toggle`), 404, "not_found");
      expectError(
        await api.call("POST", `/api/schedules/${created.id}/toggle`, { as: "viewer" }),
        403,
        "forbidden",
      );
      expectError(
        await api.call("POST", `/api/schedules/${created.id}/toggle`, { as: "nobody" }),
        401,
        "unauthenticated",
      );
      expect((await api.call("GET", `/api/schedules/${created.id}`)).json.enabled).toBe(true);
    });
  });

  describe("DELETE /api/schedules/{id}", () => {
    it("deletes (audited); then 404", async () => {
      const created = (await create({ name: "to delete", cron_expression: "0 3 * * *" })).json;
      expectError(
        await api.call("DELETE", `/api/schedules/${created.id}`, { as: "viewer" }),
        403,
        "forbidden",
      );
      expectError(
        await api.call("DELETE", `/api/schedules/${created.id}`, { as: "nobody" }),
        401,
        "unauthenticated",
      );
      const reply = await api.call("DELETE", `/api/schedules/${created.id}`);
      expect(reply.status, reply.text).toBe(200);
      expect(reply.json).toEqual({ deleted: created.id });
      expectError(await api.call("GET", `/api/schedules/${created.id}`), 404, "not_found");
      expect(await latestAudit(api, created.id)).toMatchObject({
        actor: "local-operator",
        action: "schedule.delete",
        target_type: "schedule",
        target_id: created.id,
        outcome: "success",
      });
      expectError(await api.call("DELETE", `/api/schedules/${created.id}`), 404, "not_found");
      expectError(await api.call("DELETE", `/api/schedules/${unknownId}`), 404, "not_found");
    });
  });
});
