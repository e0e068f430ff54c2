// The metadata store contract: what every adapter of the MetadataStore port must do. Run against each
// adapter by metadata-store.test.ts. One store serves the entity tests, so each scopes its lists by
// fresh ids (a new server, backup or actor) or checks only membership of the items it made. The
// settings tests each get fresh, empty data (there is one settings document per store).
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { z } from "zod";
import { AuditEntry, Backup, ManagedDatabase, Restore, Schedule, Server, Settings } from "#core/entities.ts";
import { ConflictError, NotFoundError, ValidationError } from "#core/errors.ts";
import { newId, nowIso } from "#core/ids.ts";
import type { EntityStore, MetadataStore, Page, PageRequest } from "#core/ports.ts";
import {
  makeAudit,
  makeBackup,
  makeDatabase,
  makeRestore,
  makeSchedule,
  makeServer,
  makeSettings,
} from "#test/support/fixtures.ts";

type ErrorClass<E> = abstract new (...args: never[]) => E;

async function rejection<E>(promise: Promise<unknown>, type: ErrorClass<E>): Promise<E> {
  const outcome = await promise.then(
    (value: unknown) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in outcome)) throw new Error(`expected ${type.name}, but it resolved`);
  expect(outcome.error).toBeInstanceOf(type);
  return outcome.error as E;
}

/** Every page of a list, checking that only the last one has no next cursor and none is empty. */
async function allPages<T>(
  list: (page: PageRequest) => Promise<Page<T>>,
  limit: number,
): Promise<{ items: T[]; sizes: number[] }> {
  const items: T[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const page = await list({ limit, cursor });
    items.push(...page.items);
    sizes.push(page.items.length);
    if (page.next_cursor === null) return { items, sizes };
    expect(page.items).toHaveLength(limit);
    cursor = page.next_cursor;
  }
  throw new Error("list did not end");
}

const idsOf = (items: readonly { id: string }[]) => items.map((item) => item.id);
const newestFirst = (ids: readonly string[]) => [...ids].sort().reverse();

/** Exactly the entity's fields: no pk, sk, gsi keys or version counter. */
function expectShape(schema: z.ZodObject, item: unknown) {
  expect(Object.keys(item as object).sort()).toEqual(Object.keys(schema.shape).sort());
  expect(schema.safeParse(item).success).toBe(true);
}

/**
 * Makes fresh, empty data for a store (a DynamoDB table, a data directory) and returns how to open a
 * store on it; each call of the returned function is a separate store instance on the same data.
 */
export type FreshStoreData = () => Promise<() => MetadataStore>;

/** `value` without `key`, to make an object that lacks a required field. */
function without(value: object, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== key));
}

export function metadataStoreContract(name: string, freshData: FreshStoreData) {
  describe(`metadata store contract: ${name}`, () => {
    let store: MetadataStore;
    beforeAll(async () => {
      store = (await freshData())();
    });

    function crud<T extends { id: string }>(
      label: string,
      schema: z.ZodObject,
      pick: (s: MetadataStore) => EntityStore<T, unknown>,
      make: () => T,
      patch: Partial<Omit<T, "id">>,
    ) {
      describe(label, () => {
        it("creates, gets, updates and deletes", async () => {
          const s = pick(store);
          const item = make();
          const created = await s.create(item);
          expect(created).toEqual(item);
          expectShape(schema, created);
          const got = await s.get(item.id);
          expect(got).toEqual(item);
          expectShape(schema, got);

          const updated = await s.update(item.id, patch);
          expect(updated).toEqual({ ...item, ...patch });
          expectShape(schema, updated);
          expect(await s.get(item.id)).toEqual(updated);

          expect(await s.delete(item.id)).toBe(true);
          expect(await s.get(item.id)).toBeUndefined();
          expect(await s.delete(item.id)).toBe(false);
        });

        it("refuses to create an existing id, leaving the first item", async () => {
          const s = pick(store);
          const item = make();
          await s.create(item);
          const again = { ...make(), id: item.id };
          await rejection(s.create(again), ConflictError);
          expect(await s.get(item.id)).toEqual(item);
        });

        it("reports a missing id: get undefined, update NotFoundError, delete false", async () => {
          const s = pick(store);
          const id = newId();
          expect(await s.get(id)).toBeUndefined();
          const error = await rejection(s.update(id, patch), NotFoundError);
          expect(error.id).toBe(id);
          expect(await s.delete(id)).toBe(false);
          expect(await s.get(id)).toBeUndefined();
        });

        it("rejects an item that does not match the entity's schema", async () => {
          const s = pick(store);
          const item = { ...make(), created_by: 42, at: 42, discovered_at: 42, created_at: 42 };
          await rejection(s.create(item), ValidationError);
        });
      });
    }

    crud("servers", Server, (s) => s.servers, makeServer, { name: "renamed", port: 27018, tls: false });
    crud("databases", ManagedDatabase, (s) => s.databases, makeDatabase, { enabled: false, size_on_disk: 1 });
    crud("backups", Backup, (s) => s.backups, makeBackup, { name: "before migration", notes: "keep" });
    crud("schedules", Schedule, (s) => s.schedules, makeSchedule, { enabled: false, keep_last: 7 });
    crud("restores", Restore, (s) => s.restores, makeRestore, { error: "note" });

    describe("audit", () => {
      it("creates and gets entries, refuses a duplicate id and has no update or delete", async () => {
        const entry = makeAudit();
        expect(await store.audit.create(entry)).toEqual(entry);
        const got = await store.audit.get(entry.id);
        expect(got).toEqual(entry);
        expectShape(AuditEntry, got);
        await rejection(store.audit.create({ ...makeAudit(), id: entry.id }), ConflictError);
        const audit = store.audit as Record<string, unknown>;
        expect(audit.update).toBeUndefined();
        expect(audit.delete).toBeUndefined();
      });

      it("lists by actor, target type, target id and their combinations", async () => {
        const actor = `ops-${newId()}`;
        const targetType = `type-${newId().slice(-12)}`;
        const targetId = newId();
        const a = await store.audit.create(
          makeAudit({ actor, target_type: targetType, target_id: targetId }),
        );
        const b = await store.audit.create(makeAudit({ actor, target_type: targetType, target_id: newId() }));
        const c = await store.audit.create(makeAudit({ actor: `other-${newId()}`, target_type: targetType }));
        const d = await store.audit.create(
          makeAudit({ actor, target_type: `other-${newId()}`, target_id: targetId }),
        );
        const e = await store.audit.create(makeAudit({ actor, target_type: targetType, target_id: null }));
        const list = async (filter: Parameters<MetadataStore["audit"]["list"]>[0]) =>
          idsOf((await store.audit.list(filter, { limit: 100 })).items);

        expect(await list({ actor })).toEqual(newestFirst(idsOf([a, b, d, e])));
        expect(await list({ target_type: targetType })).toEqual(newestFirst(idsOf([a, b, c, e])));
        expect(await list({ target_type: targetType, target_id: targetId })).toEqual([a.id]);
        expect(await list({ target_id: targetId })).toEqual(newestFirst(idsOf([a, d])));
        expect(await list({ actor, target_type: targetType })).toEqual(newestFirst(idsOf([a, b, e])));
        const everything = await allPages((page) => store.audit.list({}, page), 100);
        expect(idsOf(everything.items)).toEqual(expect.arrayContaining(idsOf([a, b, c, d, e])));
        for (const item of everything.items) expectShape(AuditEntry, item);
      });
    });

    describe("lists", () => {
      it("lists newest first", async () => {
        const made: Server[] = [];
        for (let i = 0; i < 3; i++) made.push(await store.servers.create(makeServer({ name: `s${i}` })));
        const page = await store.servers.list({}, { limit: 3 });
        expect(idsOf(page.items)).toEqual(idsOf(made).reverse());
        for (const item of page.items) expectShape(Server, item);
      });

      it("pages through 25 items with limit 10: every item once, in order, then a null cursor", async () => {
        const serverId = newId();
        const made: string[] = [];
        for (let i = 0; i < 25; i++)
          made.push((await store.backups.create(makeBackup({ server_id: serverId }))).id);
        const { items, sizes } = await allPages(
          (page) => store.backups.list({ server_id: serverId }, page),
          10,
        );
        expect(sizes).toEqual([10, 10, 5]);
        expect(idsOf(items)).toEqual(made.reverse());
        for (const item of items) expectShape(Backup, item);
      });

      it("ends with a null cursor when the last page is exactly full", async () => {
        const serverId = newId();
        for (let i = 0; i < 20; i++) await store.backups.create(makeBackup({ server_id: serverId }));
        const { sizes } = await allPages((page) => store.backups.list({ server_id: serverId }, page), 10);
        expect(sizes).toEqual([10, 10]);
        const empty = await store.backups.list({ server_id: newId() }, { limit: 10 });
        expect(empty).toEqual({ items: [], next_cursor: null });
      });

      it("pages through a whole unfiltered collection without repeating or skipping", async () => {
        const made: string[] = [];
        for (let i = 0; i < 25; i++) made.push((await store.schedules.create(makeSchedule())).id);
        const { items } = await allPages((page) => store.schedules.list({}, page), 10);
        const ids = idsOf(items);
        expect(ids).toEqual(newestFirst(ids));
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toEqual(expect.arrayContaining(made));
      });

      it("pages exactly through a filter that skips interleaved items (status + server_id)", async () => {
        const server = newId();
        const other = newId();
        const completed: string[] = [];
        const queued: string[] = [];
        for (let i = 0; i < 25; i++) {
          completed.push(
            (await store.backups.create(makeBackup({ server_id: server, status: "completed" }))).id,
          );
          await store.backups.create(makeBackup({ server_id: server, status: "failed" }));
          if (i % 2 === 0) {
            queued.push((await store.backups.create(makeBackup({ server_id: server }))).id);
            await store.backups.create(makeBackup({ server_id: other }));
          }
        }
        const done = await allPages(
          (page) => store.backups.list({ server_id: server, status: "completed" }, page),
          10,
        );
        expect(done.sizes).toEqual([10, 10, 5]);
        expect(idsOf(done.items)).toEqual(completed.reverse());
        const waiting = await allPages(
          (page) => store.backups.list({ status: "queued", server_id: server }, page),
          5,
        );
        expect(waiting.sizes).toEqual([5, 5, 3]);
        expect(idsOf(waiting.items)).toEqual(queued.reverse());
      });

      it("rejects a limit outside 1..100", async () => {
        for (const limit of [0, 101, 2.5, -1]) {
          const error = await rejection(store.servers.list({}, { limit }), ValidationError);
          expect(error.field).toBe("limit");
        }
      });

      it("rejects a malformed or foreign cursor with a ValidationError naming the cursor", async () => {
        const serverId = newId();
        for (let i = 0; i < 3; i++) await store.backups.create(makeBackup({ server_id: serverId }));
        const page = await store.backups.list({ server_id: serverId }, { limit: 1 });
        expect(page.next_cursor).toEqual(expect.any(String));
        const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
        const bad = [
          "",
          "not a cursor!",
          "%%%",
          "eyJ",
          b64(null),
          b64(42),
          b64({ id: 5 }),
          b64({ id: "x".repeat(500) }),
          `${page.next_cursor}!`,
        ];
        for (const cursor of bad) {
          const error = await rejection(
            store.backups.list({ server_id: serverId }, { limit: 1, cursor }),
            ValidationError,
          );
          expect(error.field).toBe("cursor");
        }
        // A backups cursor is not a restores cursor.
        const foreign = await rejection(
          store.restores.list({}, { limit: 1, cursor: page.next_cursor ?? "" }),
          ValidationError,
        );
        expect(foreign.field).toBe("cursor");
      });
    });

    describe("backup filters", () => {
      it("filters by server_id, server_id + database, status, schedule_id and combinations", async () => {
        const a = newId();
        const b = newId();
        const schedule = newId();
        const a1 = await store.backups.create(
          makeBackup({ server_id: a, database: "shop", status: "completed" }),
        );
        const a2 = await store.backups.create(
          makeBackup({
            server_id: a,
            database: "shop",
            status: "failed",
            trigger: "schedule",
            schedule_id: schedule,
          }),
        );
        const a3 = await store.backups.create(
          makeBackup({ server_id: a, database: "crm", status: "completed" }),
        );
        const b1 = await store.backups.create(
          makeBackup({
            server_id: b,
            database: "shop",
            status: "completed",
            trigger: "schedule",
            schedule_id: schedule,
          }),
        );
        const b2 = await store.backups.create(
          makeBackup({ server_id: b, database: "crm", status: "running" }),
        );
        const list = async (filter: Parameters<MetadataStore["backups"]["list"]>[0]) =>
          idsOf((await store.backups.list(filter, { limit: 100 })).items);

        expect(await list({ server_id: a })).toEqual(newestFirst(idsOf([a1, a2, a3])));
        expect(await list({ server_id: a, database: "shop" })).toEqual(newestFirst(idsOf([a1, a2])));
        expect(await list({ server_id: b, database: "shop" })).toEqual([b1.id]);
        expect(await list({ server_id: a, database: "nope" })).toEqual([]);
        expect(await list({ schedule_id: schedule })).toEqual(newestFirst(idsOf([a2, b1])));
        expect(await list({ schedule_id: schedule, server_id: b })).toEqual([b1.id]);
        expect(await list({ schedule_id: schedule, status: "failed" })).toEqual([a2.id]);
        expect(await list({ server_id: a, status: "completed" })).toEqual(newestFirst(idsOf([a1, a3])));
        expect(await list({ server_id: a, database: "shop", status: "completed" })).toEqual([a1.id]);
        expect(await list({ server_id: b, status: "running" })).toEqual([b2.id]);

        const completed = idsOf(
          (await allPages((page) => store.backups.list({ status: "completed" }, page), 100)).items,
        );
        expect(completed).toEqual(expect.arrayContaining(idsOf([a1, a3, b1])));
        expect(completed).not.toContain(a2.id);
        expect(completed).not.toContain(b2.id);
        const all = idsOf((await allPages((page) => store.backups.list({}, page), 100)).items);
        expect(all).toEqual(expect.arrayContaining(idsOf([a1, a2, a3, b1, b2])));
      });

      it("finds an import by its source key, and only that import", async () => {
        const server = newId();
        const key = `imports/${newId()}/shop#1%.archive.gz`;
        const imported = await store.backups.create(
          makeBackup({ server_id: server, trigger: "import", imported_from: key, status: "completed" }),
        );
        const neighbour = await store.backups.create(
          makeBackup({ server_id: server, trigger: "import", imported_from: `${key}.2` }),
        );
        await store.backups.create(makeBackup({ server_id: server, status: "completed" }));
        const list = async (filter: Parameters<MetadataStore["backups"]["list"]>[0]) =>
          idsOf((await store.backups.list(filter, { limit: 100 })).items);
        expect(await list({ imported_from: key })).toEqual([imported.id]);
        expect(await list({ imported_from: `${key}.2` })).toEqual([neighbour.id]);
        expect(await list({ imported_from: `imports/${newId()}` })).toEqual([]);
        expect(await list({ imported_from: key, server_id: server, status: "completed" })).toEqual([
          imported.id,
        ]);
        expect(await list({ imported_from: key, status: "failed" })).toEqual([]);
        // The record moves through its transitions and stays findable.
        await store.backups.delete(imported.id);
        expect(await list({ imported_from: key })).toEqual([]);
      });

      it("rejects database without server_id", async () => {
        const error = await rejection(
          store.backups.list({ database: "shop" }, { limit: 10 }),
          ValidationError,
        );
        expect(error.field).toBe("database");
      });

      it("moves a backup between status filters when its status changes", async () => {
        const serverId = newId();
        const backup = await store.backups.create(makeBackup({ server_id: serverId }));
        const inStatus = async (status: Backup["status"]) =>
          idsOf((await store.backups.list({ server_id: serverId, status }, { limit: 10 })).items);
        const globally = async (status: Backup["status"]) =>
          idsOf((await allPages((page) => store.backups.list({ status }, page), 100)).items);
        expect(await inStatus("queued")).toEqual([backup.id]);
        expect(await globally("queued")).toContain(backup.id);

        await store.backups.transition(backup.id, "running");
        expect(await inStatus("queued")).toEqual([]);
        expect(await inStatus("running")).toEqual([backup.id]);
        expect(await globally("queued")).not.toContain(backup.id);
        expect(await globally("running")).toContain(backup.id);

        await store.backups.transition(backup.id, "completed");
        expect(await inStatus("running")).toEqual([]);
        expect(await inStatus("completed")).toEqual([backup.id]);
        expect(await globally("running")).not.toContain(backup.id);
      });
    });

    describe("database, schedule and restore filters", () => {
      it("filters databases by server_id, server_id + name, enabled and server_id + enabled", async () => {
        const a = newId();
        const b = newId();
        const shop = await store.databases.create(makeDatabase({ server_id: a, name: "shop" }));
        const crm = await store.databases.create(makeDatabase({ server_id: a, name: "crm", enabled: false }));
        const other = await store.databases.create(
          makeDatabase({ server_id: b, name: "shop", enabled: false }),
        );
        const list = async (filter: Parameters<MetadataStore["databases"]["list"]>[0]) =>
          idsOf((await store.databases.list(filter, { limit: 100 })).items);

        expect(await list({ server_id: a })).toEqual(newestFirst(idsOf([shop, crm])));
        expect(await list({ server_id: a, name: "shop" })).toEqual([shop.id]);
        expect(await list({ server_id: b, name: "shop" })).toEqual([other.id]);
        expect(await list({ server_id: a, name: "shop", enabled: false })).toEqual([]);
        expect(await list({ server_id: a, enabled: true })).toEqual([shop.id]);
        expect(await list({ server_id: a, enabled: false })).toEqual([crm.id]);

        const disabled = idsOf(
          (await allPages((p) => store.databases.list({ enabled: false }, p), 100)).items,
        );
        expect(disabled).toEqual(expect.arrayContaining([crm.id, other.id]));
        expect(disabled).not.toContain(shop.id);

        await store.databases.update(crm.id, { enabled: true });
        expect(await list({ server_id: a, enabled: true })).toEqual(newestFirst(idsOf([shop, crm])));
        expect(await list({ server_id: a, enabled: false })).toEqual([]);
        const enabled = idsOf((await allPages((p) => store.databases.list({ enabled: true }, p), 100)).items);
        expect(enabled).toEqual(expect.arrayContaining([shop.id, crm.id]));
        expect(enabled).not.toContain(other.id);

        const error = await rejection(store.databases.list({ name: "shop" }, { limit: 10 }), ValidationError);
        expect(error.field).toBe("name");
      });

      it("filters schedules by enabled, following toggles", async () => {
        const on = await store.schedules.create(makeSchedule({ enabled: true }));
        const off = await store.schedules.create(makeSchedule({ enabled: false }));
        const ids = async (enabled: boolean) =>
          idsOf((await allPages((p) => store.schedules.list({ enabled }, p), 100)).items);
        expect(await ids(true)).toContain(on.id);
        expect(await ids(true)).not.toContain(off.id);
        expect(await ids(false)).toContain(off.id);
        expect(await ids(false)).not.toContain(on.id);

        await store.schedules.update(on.id, { enabled: false });
        expect(await ids(true)).not.toContain(on.id);
        expect(await ids(false)).toEqual(expect.arrayContaining([on.id, off.id]));
      });

      it("filters restores by backup_id, status, target_server_id and combinations", async () => {
        const backupId = newId();
        const target = newId();
        const r1 = await store.restores.create(makeRestore({ backup_id: backupId }));
        const r2 = await store.restores.create(makeRestore({ backup_id: backupId, status: "failed" }));
        const r3 = await store.restores.create(
          makeRestore({ target_server_id: target, status: "completed" }),
        );
        const r4 = await store.restores.create(
          makeRestore({ backup_id: backupId, target_server_id: target }),
        );
        const list = async (filter: Parameters<MetadataStore["restores"]["list"]>[0]) =>
          idsOf((await store.restores.list(filter, { limit: 100 })).items);

        expect(await list({ backup_id: backupId })).toEqual(newestFirst(idsOf([r1, r2, r4])));
        expect(await list({ backup_id: backupId, status: "queued" })).toEqual(newestFirst(idsOf([r1, r4])));
        expect(await list({ target_server_id: target })).toEqual(newestFirst(idsOf([r3, r4])));
        expect(await list({ target_server_id: target, status: "completed" })).toEqual([r3.id]);
        expect(await list({ target_server_id: target, status: "queued" })).toEqual([r4.id]);
        expect(await list({ backup_id: backupId, target_server_id: target })).toEqual([r4.id]);

        const failed = idsOf(
          (await allPages((p) => store.restores.list({ status: "failed" }, p), 100)).items,
        );
        expect(failed).toContain(r2.id);
        expect(failed).not.toContain(r1.id);

        await store.restores.transition(r1.id, "running");
        expect(await list({ backup_id: backupId, status: "queued" })).toEqual([r4.id]);
        expect(await list({ backup_id: backupId, status: "running" })).toEqual([r1.id]);
        const all = idsOf((await allPages((p) => store.restores.list({}, p), 100)).items);
        expect(all).toEqual(expect.arrayContaining(idsOf([r1, r2, r3, r4])));
      });
    });

    describe("transitions", () => {
      it("moves a backup queued -> running -> completed, applying each patch", async () => {
        const backup = await store.backups.create(makeBackup());
        const startedAt = nowIso();
        const running = await store.backups.transition(backup.id, "running", {
          started_at: startedAt,
          runner_ref: "local:1234",
        });
        expect(running).toEqual({
          ...backup,
          status: "running",
          started_at: startedAt,
          runner_ref: "local:1234",
        });
        expectShape(Backup, running);

        const finishedAt = nowIso();
        const completed = await store.backups.transition(backup.id, "completed", {
          finished_at: finishedAt,
          size_bytes: 1024,
          sha256: "a".repeat(64),
          collections: { orders: 10, users: 2 },
        });
        expect(completed).toEqual({
          ...running,
          status: "completed",
          finished_at: finishedAt,
          size_bytes: 1024,
          sha256: "a".repeat(64),
          collections: { orders: 10, users: 2 },
        });
        expect(await store.backups.get(backup.id)).toEqual(completed);
        expectShape(Backup, await store.backups.get(backup.id));
      });

      it("refuses moves the state machine does not allow, leaving the job unchanged", async () => {
        const illegal: [Backup["status"], Backup["status"]][] = [
          ["completed", "running"],
          ["queued", "completed"],
          ["queued", "queued"],
          ["running", "queued"],
          ["running", "running"],
          ["failed", "cancelled"],
          ["cancelled", "running"],
          ["completed", "failed"],
        ];
        for (const [from, to] of illegal) {
          const backup = await store.backups.create(makeBackup({ status: from }));
          const error = await rejection(
            store.backups.transition(backup.id, to, { error: "x" }),
            ConflictError,
          );
          expect(error.message).toContain(from);
          expect(error.message).toContain(to);
          expect(await store.backups.get(backup.id)).toEqual(backup);
        }
      });

      it("allows cancel from queued and running, and fail from either", async () => {
        for (const [from, to] of [
          ["queued", "cancelled"],
          ["running", "cancelled"],
          ["queued", "failed"],
          ["running", "failed"],
        ] as const) {
          const backup = await store.backups.create(makeBackup({ status: from }));
          expect((await store.backups.transition(backup.id, to, { error: "stopped" })).status).toBe(to);
          expect(await store.backups.get(backup.id)).toEqual({ ...backup, status: to, error: "stopped" });
        }
      });

      it("applies the same rules to restores", async () => {
        const restore = await store.restores.create(makeRestore());
        await rejection(store.restores.transition(restore.id, "completed"), ConflictError);
        expect((await store.restores.transition(restore.id, "running")).status).toBe("running");
        const done = await store.restores.transition(restore.id, "completed", { duration_ms: 5 });
        expect(done).toEqual({ ...restore, status: "completed", duration_ms: 5 });
        expectShape(Restore, done);
        await rejection(store.restores.transition(restore.id, "running"), ConflictError);
      });

      it("reports a missing job with NotFoundError", async () => {
        await rejection(store.backups.transition(newId(), "running"), NotFoundError);
        await rejection(store.restores.transition(newId(), "cancelled"), NotFoundError);
      });

      it("refuses a status change through update", async () => {
        const backup = await store.backups.create(makeBackup());
        await rejection(store.backups.update(backup.id, { status: "running", notes: "x" }), ConflictError);
        expect(await store.backups.get(backup.id)).toEqual(backup);
        const restore = await store.restores.create(makeRestore());
        await rejection(store.restores.update(restore.id, { status: "cancelled" }), ConflictError);
        expect(await store.restores.get(restore.id)).toEqual(restore);
      });

      it("lets exactly one of 10 concurrent transitions win", async () => {
        const backup = await store.backups.create(makeBackup());
        const outcomes = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            store.backups.transition(backup.id, "running", { runner_ref: `r${i}` }),
          ),
        );
        const won = outcomes.filter((o) => o.status === "fulfilled");
        const lost = outcomes.filter((o) => o.status === "rejected");
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(9);
        for (const o of lost) expect(o.reason).toBeInstanceOf(ConflictError);
        const stored = await store.backups.get(backup.id);
        expect(stored?.status).toBe("running");
        expect(stored?.runner_ref).toBe(won[0]?.value.runner_ref);
      });

      it("lands every one of 10 concurrent updates of different fields", async () => {
        const backup = await store.backups.create(makeBackup());
        const patches: Partial<Backup>[] = [
          { name: "n" },
          { notes: "notes" },
          { blob_key: "k" },
          { size_bytes: 7 },
          { sha256: "b".repeat(64) },
          { tool_version: "100.17.0" },
          { error: "e" },
          { expires_at: nowIso() },
          { runner_ref: "local:1" },
          { duration_ms: 3 },
        ];
        await Promise.all(patches.map((patch) => store.backups.update(backup.id, patch)));
        expect(await store.backups.get(backup.id)).toEqual(Object.assign({ ...backup }, ...patches));
      });

      it("lands an update racing a transition", async () => {
        const backup = await store.backups.create(makeBackup());
        await Promise.all([
          store.backups.update(backup.id, { notes: "annotated" }),
          store.backups.transition(backup.id, "running", { started_at: backup.created_at }),
          store.backups.update(backup.id, { name: "named" }),
        ]);
        expect(await store.backups.get(backup.id)).toEqual({
          ...backup,
          status: "running",
          started_at: backup.created_at,
          notes: "annotated",
          name: "named",
        });
      });
    });

    describe("settings", () => {
      let open: () => MetadataStore;
      beforeEach(async () => {
        open = await freshData();
      });

      /** Invalid settings and the field each ValidationError must name. */
      const invalid = (): [field: string, value: unknown][] => [
        ["keep_last", makeSettings({ keep_last: 0 })],
        ["webhook_url", makeSettings({ webhook_url: "ftp://x" })],
        ["concurrency", without(makeSettings(), "concurrency")],
        ["concurrency.per_server", makeSettings({ concurrency: { per_server: 0, total: 10 } })],
        ["retention_days", makeSettings({ retention_days: 2.5 })],
        ["updated_at", makeSettings({ updated_at: "yesterday" })],
      ];

      it("is undefined until first saved", async () => {
        const s = open();
        expect(await s.settings.get()).toBeUndefined();
        expect(await open().settings.get()).toBeUndefined();
      });

      it("round-trips a put: exactly the settings' fields, nested and null ones included", async () => {
        const s = open();
        const settings = makeSettings({
          retention_days: 90,
          keep_last: 5,
          concurrency: { per_server: 1, total: 4 },
          webhook_url: "https://hooks.example.com/services/T000/B000",
        });
        expect(await s.settings.put(settings)).toEqual(settings);
        const got = await s.settings.get();
        expect(got).toEqual(settings);
        expectShape(Settings, got);

        const defaults = makeSettings();
        expect(defaults.webhook_url).toBeNull();
        await s.settings.put(defaults);
        expect(await s.settings.get()).toEqual(defaults);
      });

      it("replaces the whole document on a second put", async () => {
        const s = open();
        await s.settings.put(
          makeSettings({ keep_last: 9, webhook_url: "https://hooks.example.com/a", retention_days: 7 }),
        );
        const second = makeSettings({ concurrency: { per_server: 3, total: 30 } });
        expect(await s.settings.put(second)).toEqual(second);
        const got = await s.settings.get();
        expect(got).toEqual(second);
        expectShape(Settings, got);
      });

      it("keeps only the settings' fields of what it is given", async () => {
        const s = open();
        const settings = makeSettings();
        const extra = { ...settings, pk: "SERVER#x", items: [], surprise: 1 } as Settings;
        expect(await s.settings.put(extra)).toEqual(settings);
        const got = await s.settings.get();
        expect(got).toEqual(settings);
        expectShape(Settings, got);
      });

      it("rejects invalid settings with a ValidationError naming the field, changing nothing", async () => {
        const s = open();
        for (const [field, value] of invalid()) {
          const error = await rejection(s.settings.put(value as Settings), ValidationError);
          expect(error.field).toBe(field);
          expect(await s.settings.get()).toBeUndefined();
        }
        const saved = await s.settings.put(makeSettings({ keep_last: 4 }));
        for (const [field, value] of invalid()) {
          const error = await rejection(s.settings.put(value as Settings), ValidationError);
          expect(error.field).toBe(field);
          expect(await s.settings.get()).toEqual(saved);
        }
        await rejection(s.settings.put(null as unknown as Settings), ValidationError);
        expect(await s.settings.get()).toEqual(saved);
      });

      it("is seen by a second store instance on the same data", async () => {
        const one = open();
        const two = open();
        const first = await one.settings.put(makeSettings({ keep_last: 6 }));
        expect(await two.settings.get()).toEqual(first);
        const second = await two.settings.put(makeSettings({ webhook_url: "http://hooks.internal/x" }));
        expect(await one.settings.get()).toEqual(second);
        expect(await open().settings.get()).toEqual(second);
      });

      it("keeps one whole document when puts race", async () => {
        const one = open();
        const two = open();
        const puts = Array.from({ length: 10 }, (_, i) =>
          makeSettings({ keep_last: i + 1, concurrency: { per_server: i + 1, total: 50 + i } }),
        );
        await Promise.all(puts.map((settings, i) => (i % 2 ? one : two).settings.put(settings)));
        const got = await one.settings.get();
        expect(puts).toContainEqual(got);
        expect(await two.settings.get()).toEqual(got);
      });
    });
  });
}
