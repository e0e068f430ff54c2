// What issue 7 added to the metadata stores: bulk import (both adapters, test/support/bulk-load.ts),
// and for the local store that every reader sees each change another store (another process) makes
// and no caller's edit of a returned item reaches what is stored. (The JSON-file store kept an
// in-memory snapshot that had to be shown to follow the file; its SQLite successor reads the
// database each time, and these tests keep it that way.)
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { createMetadataTable, DynamoDbMetadataStore } from "#adapters/aws/dynamodb-metadata-store.ts";
import { localDatabase } from "#adapters/local/local-data-dir.ts";
import { SqliteMetadataStore } from "#adapters/local/sqlite-metadata-store.ts";
import { entitySpecs } from "#adapters/metadata-rules.ts";
import type { Backup } from "#core/entities.ts";
import { newId } from "#core/ids.ts";
import { bulkLoadDynamoDb, bulkLoadSqlite } from "#test/support/bulk-load.ts";
import { awsClientConfig, scratchDir, uniqueName } from "#test/support/env.ts";
import { makeBackup } from "#test/support/fixtures.ts";

const dynamo = new DynamoDBClient(awsClientConfig("dynamodb"));
afterAll(() => dynamo.destroy());

/** A data dir under the run's scratch directory (removed with it). */
const dataDir = () => join(scratchDir("bulk-"), "data");
const sqliteStore = (dir: string) => new SqliteMetadataStore({ database: localDatabase(dir) });

describe.each(["DynamoDB", "SQLite"] as const)("bulk import of backups (%s)", (kind) => {
  it("stores every record, newest first through the lists and their filters, and replaces an existing id", async () => {
    let store: DynamoDbMetadataStore | SqliteMetadataStore;
    let importBackups: (backups: readonly Backup[]) => Promise<void>;
    if (kind === "DynamoDB") {
      const tableName = uniqueName("bulk");
      await createMetadataTable(dynamo, tableName);
      store = new DynamoDbMetadataStore({ client: dynamo, tableName });
      importBackups = (backups) =>
        bulkLoadDynamoDb({ client: dynamo, tableName }, entitySpecs.backups, backups);
    } else {
      const sqlite = sqliteStore(dataDir());
      store = sqlite;
      importBackups = (backups) =>
        bulkLoadSqlite({ database: sqlite.database }, entitySpecs.backups, backups);
    }
    const server = newId();
    const backups = Array.from({ length: 60 }, (_, i) =>
      makeBackup({ server_id: server, status: i % 3 === 0 ? "failed" : "completed" }),
    );
    await importBackups(backups);
    const first = await store.backups.list({}, { limit: 25 });
    expect(first.items.map((b) => b.id)).toEqual(
      backups
        .map((b) => b.id)
        .reverse()
        .slice(0, 25),
    );
    const failed = await store.backups.list({ server_id: server, status: "failed" }, { limit: 100 });
    expect(failed.items).toHaveLength(20);
    await importBackups([{ ...(backups[0] as (typeof backups)[0]), notes: "again" }]);
    expect((await store.backups.get(backups[0]?.id ?? ""))?.notes).toBe("again");
    await expect(
      importBackups([{ ...(backups[1] as (typeof backups)[0]), status: "nope" as "failed" }]),
    ).rejects.toThrow(/status/);
  });
});

describe("SqliteMetadataStore reads", () => {
  it("sees each change another store makes to the database, including through a cursor", async () => {
    const dir = dataDir();
    const reader = sqliteStore(dir);
    const writer = sqliteStore(dir);
    const a = await writer.backups.create(makeBackup());
    expect((await reader.backups.list({}, { limit: 10 })).items.map((b) => b.id)).toEqual([a.id]);
    const b = await writer.backups.create(makeBackup());
    const page = await reader.backups.list({}, { limit: 1 });
    expect(page.items.map((x) => x.id)).toEqual([b.id]);
    await writer.backups.update(a.id, { notes: "changed elsewhere" });
    const next = await reader.backups.list({}, { limit: 1, cursor: page.next_cursor ?? "" });
    expect(next.items).toEqual([{ ...a, notes: "changed elsewhere" }]);
    expect(next.next_cursor).toBeNull();
    await writer.backups.delete(b.id);
    expect(await reader.backups.get(b.id)).toBeUndefined();
  });

  it("hands out copies: editing a returned item changes nothing stored", async () => {
    const store = sqliteStore(dataDir());
    const created = await store.backups.create(makeBackup({ notes: "kept" }));
    created.notes = "edited by a caller";
    const got = await store.backups.get(created.id);
    if (got) got.notes = "edited too";
    const listed = (await store.backups.list({}, { limit: 1 })).items[0];
    if (listed) listed.notes = "and again";
    expect((await store.backups.get(created.id))?.notes).toBe("kept");
  });
});
