// The one-time migration of a data dir made by the JSON-file stores (test/fixtures/json-data-dir,
// written by that version) into SQLite: everything arrives, the old files are set aside under a dated
// name, a half-done migration is finished or repeated, and a data dir with two histories is refused.

import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localDatabase } from "#adapters/local/local-data-dir.ts";
import type { LocalDatabase } from "#adapters/local/sqlite-database.ts";
import { SqliteMetadataStore } from "#adapters/local/sqlite-metadata-store.ts";
import { SqliteSecretStore } from "#adapters/local/sqlite-secret-store.ts";
import { countersOf } from "#core/backup-counters.ts";
import type { Backup } from "#core/entities.ts";
import { listAll } from "#core/use-cases/deps.ts";
import { scratchDir } from "#test/support/env.ts";
import { makeServer } from "#test/support/fixtures.ts";

const fixture = join(import.meta.dirname, "../fixtures/json-data-dir");
const collections = ["servers", "databases", "backups", "schedules", "restores", "audit"] as const;

/** A copy of the fixture, its key file 0600 again (git keeps no modes). */
function oldDataDir(): string {
  const dir = join(scratchDir("migrate-"), "data");
  cpSync(fixture, dir, { recursive: true });
  chmodSync(join(dir, "secret.key"), 0o600);
  return dir;
}

function fixtureItems(collection: string): { id: string }[] {
  return (
    JSON.parse(readFileSync(join(fixture, "metadata", `${collection}.json`), "utf8")) as {
      items: { id: string }[];
    }
  ).items;
}

function open(dir: string, migrated: unknown[] = []) {
  const database = localDatabase(dir, { migrated: (report) => migrated.push(report) });
  return {
    database,
    store: new SqliteMetadataStore({ database }),
    secrets: new SqliteSecretStore({ database, keyFile: join(dir, "secret.key") }),
  };
}

async function everything(
  store: SqliteMetadataStore,
): Promise<Record<string, unknown[]> & { settings: unknown }> {
  const all: Record<string, unknown[]> = {};
  for (const name of collections) {
    const entity = store[name] as { list: SqliteMetadataStore["servers"]["list"] };
    all[name] = await listAll((f, p) => entity.list(f, p), {});
  }
  return { ...all, settings: await store.settings.get() } as Record<string, unknown[]> & {
    settings: unknown;
  };
}

const rowCount = (database: LocalDatabase, table: string) =>
  database.read((db) => Number(db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get()?.n));

describe("migration of a JSON-file data dir", () => {
  it("imports every record, the settings and the sealed secrets, then sets the old files aside under a dated name", async () => {
    const dir = oldDataDir();
    const migrated: unknown[] = [];
    const { store, secrets } = open(dir, migrated);

    const stored = await everything(store);
    for (const name of collections) expect(stored[name], name).toEqual(fixtureItems(name));
    expect(stored.settings).toEqual(
      JSON.parse(readFileSync(join(fixture, "metadata", "settings.json"), "utf8")),
    );
    // The dashboard's counters, which the JSON version did not keep, are counted from the import.
    const recount = countersOf(fixtureItems("backups") as Backup[]);
    expect(Object.fromEntries(await store.counters.read([...recount.keys()]))).toEqual(
      Object.fromEntries(recount),
    );
    const servers = fixtureItems("servers") as { id: string; name: string }[];
    for (const server of servers) {
      expect(await secrets.get(server.id)).toBe(`password-of-${server.name}`);
    }
    expect(migrated).toEqual([
      {
        counts: {
          servers: 3,
          databases: 6,
          backups: 40,
          schedules: 1,
          restores: 3,
          audit: 12,
          settings: 1,
          secrets: 3,
        },
        renamed: [
          expect.stringMatching(/\/metadata\.json-migrated-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/),
          expect.stringMatching(/\/secrets\.json\.enc\.migrated-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/),
        ],
      },
    ]);
    const files = readdirSync(dir).sort();
    expect(files).not.toContain("metadata");
    expect(files).not.toContain("secrets.json.enc");
    expect(files).toEqual(expect.arrayContaining(["metadata.sqlite", "secret.key", "api-token"]));
    // The set-aside copies are the old files, byte for byte: going back is renaming them back.
    const aside = files.find((f) => f.startsWith("metadata.json-migrated-")) ?? "";
    expect(readFileSync(join(dir, aside, "backups.json"), "utf8")).toBe(
      readFileSync(join(fixture, "metadata", "backups.json"), "utf8"),
    );

    // The next start finds nothing to do, and the store works as any other.
    const again: unknown[] = [];
    const next = open(dir, again);
    await next.store.servers.create(makeServer({ name: "after" }));
    expect(again).toEqual([]);
    expect((await next.store.servers.list({}, { limit: 100 })).items).toHaveLength(4);
  });

  it("finishes a migration that crashed after its commit: the old files are only set aside", async () => {
    const dir = oldDataDir();
    const first = open(dir);
    const before = await everything(first.store);
    first.database.close();
    // As if the process died between COMMIT and the renames: the old files are where they were.
    const aside = readdirSync(dir).filter((f) => f.includes("migrated-"));
    for (const name of aside)
      renameSync(join(dir, name), join(dir, name.replace(/\.json-migrated-.*|\.migrated-.*/, "")));
    expect(existsSync(join(dir, "metadata", "backups.json"))).toBe(true);

    const migrated: unknown[] = [];
    const second = open(dir, migrated);
    expect(await everything(second.store)).toEqual(before);
    expect(migrated).toEqual([]); // no second import
    expect(rowCount(second.database, "c_backups")).toBe(40);
    expect(existsSync(join(dir, "metadata"))).toBe(false);
    expect(existsSync(join(dir, "secrets.json.enc"))).toBe(false);
  });

  it("repeats a migration that failed before its commit, leaving nothing half imported", async () => {
    const dir = oldDataDir();
    const audit = join(dir, "metadata", "audit.json");
    const good = readFileSync(audit, "utf8");
    writeFileSync(audit, good.slice(0, good.length / 2)); // torn: the import fails after the backups
    const failed = open(dir);
    await expect(failed.store.servers.list({}, { limit: 10 })).rejects.toThrow(
      /migrating the data dir: metadata\/audit\.json is not valid JSON/,
    );
    // Nothing was committed: no table has a row, the old files are all still there.
    const { DatabaseSync } = process.getBuiltinModule("node:sqlite");
    const raw = new DatabaseSync(join(dir, "metadata.sqlite"), { readOnly: true });
    expect(raw.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name LIKE 'c_%'").get()?.n).toBe(0);
    raw.close();
    expect(existsSync(join(dir, "metadata", "backups.json"))).toBe(true);
    expect(existsSync(join(dir, "secrets.json.enc"))).toBe(true);

    writeFileSync(audit, good);
    const migrated: unknown[] = [];
    const { store } = open(dir, migrated);
    expect((await everything(store)).audit).toEqual(fixtureItems("audit"));
    expect(migrated).toHaveLength(1);
  });

  it("refuses a data dir whose JSON files changed after they were imported, saying what to do", async () => {
    const dir = oldDataDir();
    const first = open(dir);
    await first.store.servers.list({}, { limit: 1 });
    first.database.close();
    // Someone went back to the old version (renamed the files back) and wrote with it.
    const aside = readdirSync(dir).find((f) => f.startsWith("metadata.json-migrated-")) ?? "";
    renameSync(join(dir, aside), join(dir, "metadata"));
    writeFileSync(join(dir, "metadata", "servers.json"), JSON.stringify({ items: [] }));
    await expect(open(dir).store.servers.list({}, { limit: 1 })).rejects.toThrow(
      /metadata\/servers\.json differ from what was imported then.*remove metadata\.sqlite/,
    );
  });

  it("refuses to merge JSON files into a database that has data of its own", async () => {
    const dir = join(scratchDir("migrate-"), "data");
    const fresh = open(dir);
    await fresh.store.servers.create(makeServer());
    fresh.database.close();
    cpSync(join(fixture, "metadata"), join(dir, "metadata"), { recursive: true });
    await expect(open(dir).store.servers.list({}, { limit: 1 })).rejects.toThrow(
      /holds both a SQLite database with data and the JSON files/,
    );
  });
});
