// Runs the metadata store contract against DynamoDB (on moto) and against local mode's SQLite store,
// plus what only one adapter can show: no Scan on DynamoDB list paths, no table scan in SQLite's
// query plans, several stores and processes on one SQLite file.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetadataTable, DynamoDbMetadataStore } from "#adapters/aws/dynamodb-metadata-store.ts";
import { localDatabase } from "#adapters/local/local-data-dir.ts";
import { collectionTable, SqliteMetadataStore } from "#adapters/local/sqlite-metadata-store.ts";
import { type EntitySpec, entitySpecs } from "#adapters/metadata-rules.ts";
import { newId } from "#core/ids.ts";
import { awsClientConfig, uniqueName } from "#test/support/env.ts";
import { makeBackup, makeDatabase, makeRestore, makeServer, makeSettings } from "#test/support/fixtures.ts";
import { metadataStoreContract } from "./metadata-store.contract.ts";

const tableName = uniqueName("meta");
const dynamo = new DynamoDBClient(awsClientConfig("dynamodb"));
const tempDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "mbm-meta-"));
  tempDirs.push(dir);
  return dir;
}

beforeAll(async () => {
  await createMetadataTable(dynamo, tableName);
});

afterAll(async () => {
  dynamo.destroy();
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

metadataStoreContract("DynamoDB", async () => {
  const table = uniqueName("meta");
  await createMetadataTable(dynamo, table);
  return () => new DynamoDbMetadataStore({ client: dynamo, tableName: table });
});
metadataStoreContract("SQLite", async () => {
  const dir = join(await tempDir(), "data");
  // A new connection each time, as another process would open the database.
  return () => new SqliteMetadataStore({ database: localDatabase(dir) });
});

describe("DynamoDbMetadataStore", () => {
  it("answers every list path with Query only, never Scan", async () => {
    const client = new DynamoDBClient(awsClientConfig("dynamodb"));
    const sent: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(context.commandName ?? "unknown");
        return await next(args);
      },
      { step: "initialize", name: "recordCommandNames" },
    );
    const store = new DynamoDbMetadataStore({ client, tableName });
    const serverId = newId();
    for (let i = 0; i < 12; i++) {
      await store.backups.create(makeBackup({ server_id: serverId, status: i % 2 ? "completed" : "failed" }));
    }
    await store.restores.create(makeRestore());
    await store.databases.create(makeDatabase({ server_id: serverId }));

    sent.length = 0;
    const page = { limit: 5 };
    await store.servers.list({}, page);
    await store.databases.list({}, page);
    await store.databases.list({ server_id: serverId }, page);
    await store.databases.list({ server_id: serverId, name: "shop" }, page);
    await store.databases.list({ server_id: serverId, enabled: true }, page);
    await store.databases.list({ enabled: false }, page);
    await store.databases.list({ server_id: serverId, name: "shop", enabled: true }, page);
    const first = await store.backups.list({ server_id: serverId, status: "completed" }, page);
    await store.backups.list(
      { server_id: serverId, status: "completed" },
      { limit: 5, cursor: first.next_cursor ?? "" },
    );
    await store.backups.list({}, page);
    await store.backups.list({ server_id: serverId }, page);
    await store.backups.list({ server_id: serverId, database: "shop" }, page);
    await store.backups.list({ status: "queued" }, page);
    await store.backups.list({ status: "queued", server_id: serverId }, page);
    await store.backups.list({ schedule_id: newId(), status: "failed" }, page);
    await store.schedules.list({}, page);
    await store.schedules.list({ enabled: true }, page);
    await store.restores.list({}, page);
    await store.restores.list({ backup_id: newId() }, page);
    await store.restores.list({ status: "queued" }, page);
    await store.restores.list({ target_server_id: newId(), status: "failed" }, page);
    await store.audit.list({}, page);
    await store.audit.list({ actor: "alice@example.com" }, page);
    await store.audit.list({ target_type: "server", target_id: newId() }, page);
    await store.audit.list({ target_id: newId() }, page);
    await store.audit.list({ target_type: "server" }, page);

    expect(sent.length).toBeGreaterThanOrEqual(26);
    expect(new Set(sent)).toEqual(new Set(["QueryCommand"]));
    client.destroy();
  });

  it("keeps its internal attributes out of returned items", async () => {
    const store = new DynamoDbMetadataStore({ client: dynamo, tableName });
    const server = await store.servers.create(makeServer());
    const updated = await store.servers.update(server.id, { name: "renamed" });
    expect(Object.keys(updated).some((key) => key === "pk" || key === "_v" || key.startsWith("gsi"))).toBe(
      false,
    );
  });
});

describe("SqliteMetadataStore", () => {
  const open = (dir: string) => new SqliteMetadataStore({ database: localDatabase(dir) });

  it("creates its directory with mode 0700 and the database with mode 0600", async () => {
    const dir = join(await tempDir(), "nested", "data");
    const store = open(dir);
    await store.servers.create(makeServer());
    await store.settings.put(makeSettings());
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(["metadata.sqlite", "metadata.sqlite-shm", "metadata.sqlite-wal"]);
    for (const file of files) expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);
  });

  it("answers every list path from an index, never by scanning a table", async () => {
    const dir = await tempDir();
    const store = open(dir);
    await store.backups.create(makeBackup());
    const plans: string[] = [];
    const scans: string[] = [];
    const database = store.database;
    const filters: Array<[EntitySpec<unknown>, Record<string, string | boolean>]> = [
      [entitySpecs.servers, {}],
      [entitySpecs.databases, { server_id: "s" }],
      [entitySpecs.databases, { server_id: "s", name: "shop" }],
      [entitySpecs.databases, { enabled: true }],
      [entitySpecs.databases, { server_id: "s", name: "shop", enabled: true }],
      [entitySpecs.backups, {}],
      [entitySpecs.backups, { server_id: "s" }],
      [entitySpecs.backups, { server_id: "s", database: "shop" }],
      [entitySpecs.backups, { status: "queued" }],
      [entitySpecs.backups, { status: "queued", server_id: "s" }],
      [entitySpecs.backups, { schedule_id: "x", status: "failed" }],
      [entitySpecs.schedules, { enabled: true }],
      [entitySpecs.restores, { target_server_id: "t", status: "failed" }],
      [entitySpecs.drills, { backup_id: "b" }],
      [entitySpecs.audit, { target_type: "server", target_id: "x" }],
      [entitySpecs.audit, { actor: "alice@example.com" }],
    ];
    for (const [spec, filter] of filters) {
      const fields = Object.keys(filter).sort();
      const where = [...fields.map((f) => `"f_${f}" = ?`), "id < ?"].join(" AND ");
      const sql = `EXPLAIN QUERY PLAN SELECT doc FROM ${collectionTable(spec)} WHERE ${where} ORDER BY id DESC LIMIT ?`;
      const params = [
        ...fields.map((f) => (typeof filter[f] === "boolean" ? 1 : String(filter[f]))),
        "z",
        26,
      ];
      const details = database.read((db) => db.prepare(sql).all(...params)).map((row) => String(row.detail));
      plans.push(`${spec.collection} ${JSON.stringify(filter)}: ${details.join(" | ")}`);
      // "SCAN <table>" alone reads every row, a temp b-tree sorts them; a filtered list must walk a
      // filter field's index, not the id index (which would read every row to find few matches).
      const unindexed =
        fields.length > 0 && !details.some((d) => d.includes(`USING INDEX i_${spec.collection}_`));
      if (unindexed || details.some((d) => /^SCAN \S+$/.test(d) || /TEMP B-TREE/.test(d))) {
        scans.push(plans.at(-1) ?? "");
      }
    }
    expect(scans, plans.join("\n")).toEqual([]);
  });

  it("shares one database between two stores without losing writes", async () => {
    const dir = await tempDir();
    const one = open(dir);
    const two = open(dir);
    const serverId = newId();
    const made = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? one : two).backups.create(makeBackup({ server_id: serverId })),
      ),
    );
    const seen = await two.backups.list({ server_id: serverId }, { limit: 100 });
    expect(seen.items.map((b) => b.id)).toEqual(
      made
        .map((b) => b.id)
        .sort()
        .reverse(),
    );

    const first = made[0];
    if (!first) throw new Error("nothing made");
    const outcomes = await Promise.allSettled([
      one.backups.transition(first.id, "running"),
      two.backups.transition(first.id, "running"),
      one.backups.update(first.id, { notes: "one" }),
      two.backups.update(first.id, { name: "two" }),
    ]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(3);
    expect(await one.backups.get(first.id)).toEqual({
      ...first,
      status: "running",
      notes: "one",
      name: "two",
    });
  });

  it("loses no write when several processes write one database at once", async () => {
    const dir = await tempDir();
    const store = open(dir);
    const serverId = newId();
    const writer = join(import.meta.dirname, "../support/sqlite-store-writer.ts");
    const exits = await Promise.all(
      Array.from({ length: 4 }, () => {
        const child = spawn(process.execPath, [writer, dir, serverId, "25"], {
          stdio: ["ignore", "ignore", "inherit"],
        });
        return new Promise<number | null>((resolve) => child.once("close", resolve));
      }),
    );
    expect(exits).toEqual([0, 0, 0, 0]);
    const page = await store.backups.list({ server_id: serverId }, { limit: 100 });
    expect(page.items).toHaveLength(100);
    expect(page.next_cursor).toBeNull();
  });
});
