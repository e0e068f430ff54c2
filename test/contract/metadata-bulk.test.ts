// What issue 7 added to the metadata stores: bulk import (both adapters, test/support/bulk-load.ts) and the file store's
// in-memory snapshot, which must see every change another store (another process) makes to the
// file and must never let a caller's edit of a returned item reach it.
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { createMetadataTable, DynamoDbMetadataStore } from "#adapters/aws/dynamodb-metadata-store.ts";
import { FileMetadataStore } from "#adapters/local/file-metadata-store.ts";
import { entitySpecs } from "#adapters/metadata-rules.ts";
import type { Backup } from "#core/entities.ts";
import { newId } from "#core/ids.ts";
import { bulkLoadDynamoDb, bulkLoadFiles } from "#test/support/bulk-load.ts";
import { awsClientConfig, scratchDir, uniqueName } from "#test/support/env.ts";
import { makeBackup } from "#test/support/fixtures.ts";

const dynamo = new DynamoDBClient(awsClientConfig("dynamodb"));
afterAll(() => dynamo.destroy());

/** A metadata folder under the run's scratch directory (removed with it). */
const fileStoreDir = () => join(scratchDir("bulk-"), "metadata");

describe.each(["DynamoDB", "file"] as const)("bulk import of backups (%s)", (kind) => {
  it("stores every record, newest first through the lists and their filters, and replaces an existing id", async () => {
    let store: DynamoDbMetadataStore | FileMetadataStore;
    let importBackups: (backups: readonly Backup[]) => Promise<void>;
    if (kind === "DynamoDB") {
      const tableName = uniqueName("bulk");
      await createMetadataTable(dynamo, tableName);
      store = new DynamoDbMetadataStore({ client: dynamo, tableName });
      importBackups = (backups) =>
        bulkLoadDynamoDb({ client: dynamo, tableName }, entitySpecs.backups, backups);
    } else {
      const dir = fileStoreDir();
      store = new FileMetadataStore({ dir });
      importBackups = (backups) => bulkLoadFiles({ dir }, entitySpecs.backups, backups);
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

describe("FileMetadataStore snapshot", () => {
  it("sees each change another store makes to the file, including through a cursor", async () => {
    const dir = fileStoreDir();
    const reader = new FileMetadataStore({ dir });
    const writer = new FileMetadataStore({ dir });
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
    const store = new FileMetadataStore({ dir: fileStoreDir() });
    const created = await store.backups.create(makeBackup({ notes: "kept" }));
    created.notes = "edited by a caller";
    const got = await store.backups.get(created.id);
    if (got) got.notes = "edited too";
    const listed = (await store.backups.list({}, { limit: 1 })).items[0];
    if (listed) listed.notes = "and again";
    expect((await store.backups.get(created.id))?.notes).toBe("kept");
  });
});
