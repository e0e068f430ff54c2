// The shared rules over a storage that is only a Map: what a new store adapter (SQLite for local
// mode) gets without writing any check itself. The two real stores run the contract suite
// (test/contract/metadata-store.test.ts); this shows the rules live outside them.
import { describe, expect, it } from "vitest";
import {
  CheckedMetadataStore,
  type CollectionStorage,
  type SettingsStorage,
} from "#adapters/metadata-collections.ts";
import { type CheckedFilter, type EntitySpec, entitySpecs, newestFirst } from "#adapters/metadata-rules.ts";
import type { Settings } from "#core/entities.ts";
import { ConflictError, NotFoundError, ValidationError } from "#core/errors.ts";
import { makeBackup, makeServer, makeSettings } from "#test/support/fixtures.ts";

/** Storage with no rules at all: it records what reached it. */
class MapCollection<T extends { id: string }> implements CollectionStorage<T> {
  readonly items = new Map<string, T>();
  readonly calls: string[] = [];
  async insert(item: T) {
    this.calls.push("insert");
    if (this.items.has(item.id)) return false;
    this.items.set(item.id, item);
    return true;
  }
  async read(id: string) {
    this.calls.push("read");
    return this.items.get(id);
  }
  async replace(id: string, compute: (current: T) => T) {
    this.calls.push("replace");
    const current = this.items.get(id);
    if (!current) throw new NotFoundError("item", id);
    const next = compute(current);
    this.items.set(id, next);
    return next;
  }
  async remove(id: string) {
    this.calls.push("remove");
    return this.items.delete(id);
  }
  cursorScope() {
    return {};
  }
  async page(filter: CheckedFilter, limit: number, after: string | undefined) {
    this.calls.push("page");
    const all = [...this.items.values()]
      .sort(newestFirst)
      .filter((item) => after === undefined || item.id < after)
      .filter((item) => Object.entries(filter).every(([k, v]) => (item as Record<string, unknown>)[k] === v));
    return { items: all.slice(0, limit), more: all.length > limit };
  }
}

function mapStore() {
  const collections = new Map<string, MapCollection<{ id: string }>>();
  let settings: Settings | undefined;
  const settingsStorage: SettingsStorage = {
    read: async () => settings,
    write: async (valid) => {
      settings = valid;
    },
  };
  const store = new CheckedMetadataStore(
    <T extends { id: string }>(spec: EntitySpec<T>) => {
      const collection = new MapCollection<T>();
      collections.set(spec.collection, collection as unknown as MapCollection<{ id: string }>);
      return collection;
    },
    settingsStorage,
    {
      read: async () => new Map(),
      replaceAll: async () => undefined,
    },
  );
  return { store, collection: (name: string) => collections.get(name) as MapCollection<{ id: string }> };
}

describe("CheckedMetadataStore over a bare storage", () => {
  it("opens one storage per collection of the spec table", () => {
    const { collection } = mapStore();
    for (const name of Object.keys(entitySpecs)) expect(collection(name)).toBeDefined();
  });

  it("checks items, ids, filters, limits and cursors before the storage sees anything", async () => {
    const { store, collection } = mapStore();
    await expect(store.servers.create({ ...makeServer(), name: 7 as unknown as string })).rejects.toThrow(
      ValidationError,
    );
    expect(await store.servers.get("")).toBeUndefined();
    expect(await store.servers.delete("x".repeat(65))).toBe(false);
    await expect(store.servers.update("", { name: "n" })).rejects.toThrow(NotFoundError);
    await expect(store.databases.list({ name: "a" }, { limit: 10 })).rejects.toThrow(
      /together with server_id/,
    );
    await expect(store.backups.list({ nope: "x" } as object, { limit: 10 })).rejects.toThrow(/not a filter/);
    await expect(store.backups.list({}, { limit: 0 })).rejects.toThrow(/limit/);
    await expect(store.backups.list({}, { limit: 5, cursor: "bad!" })).rejects.toThrow(/cursor/);
    expect(collection("servers").calls).toEqual([]);
    expect(collection("databases").calls).toEqual([]);
    expect(collection("backups").calls).toEqual([]);
  });

  it("answers a duplicate create with a conflict and pages with its own cursors", async () => {
    const { store } = mapStore();
    const server = await store.servers.create(makeServer());
    await expect(store.servers.create(server)).rejects.toThrow(ConflictError);
    const backups = [makeBackup(), makeBackup(), makeBackup()];
    for (const backup of backups) await store.backups.create(backup);
    const first = await store.backups.list({}, { limit: 2 });
    expect(first.items.map((b) => b.id)).toEqual([backups[2]?.id, backups[1]?.id]);
    const rest = await store.backups.list({}, { limit: 2, cursor: first.next_cursor ?? "" });
    expect(rest).toEqual({ items: [backups[0]], next_cursor: null });
    await expect(store.schedules.list({}, { limit: 2, cursor: first.next_cursor ?? "" })).rejects.toThrow(
      /cursor/,
    );
  });

  it("keeps a job's status to transitions, and only legal ones", async () => {
    const { store } = mapStore();
    const backup = await store.backups.create(makeBackup({ status: "queued" }));
    await expect(store.backups.update(backup.id, { status: "completed" })).rejects.toThrow(ConflictError);
    await expect(store.backups.transition(backup.id, "nope" as "failed")).rejects.toThrow(/unknown status/);
    await expect(store.backups.transition(backup.id, "completed")).rejects.toThrow(ConflictError);
    expect((await store.backups.transition(backup.id, "running")).status).toBe("running");
    await expect(store.backups.update(backup.id, { id: "other" } as object)).rejects.toThrow(
      /cannot be changed/,
    );
  });

  it("validates settings before they are written", async () => {
    const { store } = mapStore();
    await expect(
      store.settings.put({ ...makeSettings(), webhook_url: 5 } as unknown as Settings),
    ).rejects.toThrow(ValidationError);
    expect(await store.settings.get()).toBeUndefined();
  });
});
