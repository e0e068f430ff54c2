// Runs the metadata store contract against DynamoDB (on moto) and against the local file store, plus
// what only one adapter can show: no Scan on DynamoDB list paths, atomic files for the file store.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetadataTable, DynamoDbMetadataStore } from "#adapters/aws/dynamodb-metadata-store.ts";
import { FileMetadataStore } from "#adapters/local/file-metadata-store.ts";
import { Settings } from "#core/entities.ts";
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
metadataStoreContract("file", async () => {
  const dir = join(await tempDir(), "data");
  return () => new FileMetadataStore({ dir });
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

describe("FileMetadataStore", () => {
  it("creates its directory with mode 0700 and files with mode 0600", async () => {
    const fresh = join(await tempDir(), "settings-first", "data");
    await new FileMetadataStore({ dir: fresh }).settings.put(makeSettings());
    expect((await stat(fresh)).mode & 0o777).toBe(0o700);

    const dir = join(await tempDir(), "nested", "data");
    const store = new FileMetadataStore({ dir });
    await store.servers.create(makeServer());
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, "servers.json"))).mode & 0o777).toBe(0o600);
    await store.settings.put(makeSettings());
    expect((await stat(join(dir, "settings.json"))).mode & 0o777).toBe(0o600);
  });

  it("leaves valid JSON and no temp files after every write, sequential or concurrent", async () => {
    const dir = await tempDir();
    const store = new FileMetadataStore({ dir });
    const check = async () => {
      const files = await readdir(dir);
      expect(files.every((file) => file.endsWith(".json") && !file.startsWith("."))).toBe(true);
      for (const file of files) {
        const data = JSON.parse(await readFile(join(dir, file), "utf8")) as { items: unknown[] };
        if (file === "settings.json") expect(Settings.safeParse(data).success).toBe(true);
        else expect(Array.isArray(data.items)).toBe(true);
      }
    };
    const backup = await store.backups.create(makeBackup());
    await check();
    await store.backups.update(backup.id, { notes: "a" });
    await check();
    await store.backups.transition(backup.id, "running");
    await check();
    await store.backups.delete(backup.id);
    await check();
    await Promise.all(Array.from({ length: 20 }, () => store.backups.create(makeBackup())));
    await Promise.all(Array.from({ length: 10 }, () => store.servers.create(makeServer())));
    await check();
    await store.settings.put(makeSettings());
    await check();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.settings.put(makeSettings({ keep_last: i + 1 }))),
    );
    await check();
    const data = JSON.parse(await readFile(join(dir, "backups.json"), "utf8")) as { items: unknown[] };
    expect(data.items).toHaveLength(20);
  });

  it("shares one directory between two stores without losing writes", async () => {
    const dir = await tempDir();
    const one = new FileMetadataStore({ dir });
    const two = new FileMetadataStore({ dir });
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

  it("loses no write when several processes write one directory at once", async () => {
    const dir = await tempDir();
    const store = new FileMetadataStore({ dir });
    const serverId = newId();
    const writer = join(import.meta.dirname, "../support/file-store-writer.ts");
    const exits = await Promise.all(
      Array.from({ length: 4 }, () => {
        const child = spawn(process.execPath, [writer, dir, serverId, "25"], { stdio: "inherit" });
        return new Promise<number | null>((resolve) => child.once("close", resolve));
      }),
    );
    expect(exits).toEqual([0, 0, 0, 0]);
    const page = await store.backups.list({ server_id: serverId }, { limit: 100 });
    expect(page.items).toHaveLength(100);
    expect(page.next_cursor).toBeNull();
    expect(await readdir(dir)).not.toContain(expect.stringMatching(/\.tmp$|\.lock$/));
  });
});
