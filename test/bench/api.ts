// API: latency of the first page of GET /api/backups (the app built as local mode and Lambda build
// it, called in-process with app.request) with 10,000 and with 100,000 backup records, on DynamoDB
// (moto) and on the local file store, alternating. Records are loaded with the stores' bulk import.
// Also measured, to explain the numbers: on DynamoDB the items each page read (Query ScannedCount)
// and moto's own cost per Query at that table size (a Query of an empty partition of the same
// table); on the local store, a page right after another process changed the file, and that change.
// And GET /api/stats (the dashboard) at each size, with the items DynamoDB returned for it (Query
// ScannedCount and BatchGet responses): read from counters, it must not grow with the history.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createMetadataTable, DynamoDbMetadataStore } from "#adapters/aws/dynamodb-metadata-store.ts";
import { HttpWebhookSender } from "#adapters/http-webhook.ts";
import { EncryptedFileSecretStore } from "#adapters/local/encrypted-file-secret-store.ts";
import { FileBlobStore } from "#adapters/local/file-blob-store.ts";
import { FileMetadataStore } from "#adapters/local/file-metadata-store.ts";
import { SignedLinkDownloads } from "#adapters/local/signed-link-downloads.ts";
import { LogEventBus } from "#adapters/log/log-event-bus.ts";
import { entitySpecs } from "#adapters/metadata-rules.ts";
import { MongoDriverInspector } from "#adapters/mongo-driver-inspector.ts";
import type { Backup } from "#core/entities.ts";
import { newId } from "#core/ids.ts";
import type { MetadataStore } from "#core/ports.ts";
import { createApp } from "#functions/api/app.ts";
import { bearerTokenAuth } from "#functions/api/auth.ts";
import { createLogger } from "#functions/logger.ts";
import { bulkLoadDynamoDb, bulkLoadFiles } from "#test/support/bulk-load.ts";
import { makeBackup } from "#test/support/fixtures.ts";
import { alternate, median, since } from "./stats.ts";
import { awsClientConfig } from "./world.ts";

export type ApiStoreKind = "dynamodb" | "local";

export interface ApiStepResult {
  records: number;
  seedMs: Record<ApiStoreKind, number>;
  listMs: Record<ApiStoreKind, number[]>;
  /** DynamoDB: items Query read for one first page. */
  dynamodbItemsRead: number;
  /** DynamoDB: median latency of a page from an empty partition (moto's cost per Query). */
  dynamodbEmptyPageMs: number;
  /** Local: median latency of a first page right after another process changed the file. */
  localAfterForeignWriteMs: number;
  /** Local: median duration of that change (one record updated, the file rewritten). */
  localWriteMs: number;
  /** GET /api/stats latencies. */
  statsMs: Record<ApiStoreKind, number[]>;
  /** DynamoDB: items read for one GET /api/stats. */
  dynamodbStatsItemsRead: number;
}

const servers = Array.from({ length: 20 }, () => newId());
const databases = [
  "shop",
  "analytics",
  "billing",
  "users",
  "events",
  "catalog",
  "audit",
  "crm",
  "ops",
  "logs",
];

/** A completed (1 in 20 failed) backup record, as the engine leaves one. */
function backupRecord(i: number): Backup {
  const at = new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString();
  const failed = i % 20 === 0;
  const server = servers[i % servers.length] as string;
  const database = databases[i % databases.length] as string;
  const id = newId();
  return makeBackup({
    id,
    server_id: server,
    database,
    status: failed ? "failed" : "completed",
    trigger: i % 3 === 0 ? "manual" : "schedule",
    schedule_id: i % 3 === 0 ? null : (servers[(i + 1) % servers.length] as string),
    created_by: "bench",
    created_at: at,
    started_at: at,
    finished_at: at,
    duration_ms: 40_000 + (i % 1000),
    blob_key: failed ? null : `backups/${server}/${database}/${id}.archive.zst`,
    size_bytes: failed ? null : 50_000_000 + i,
    sha256: failed ? null : randomBytes(32).toString("hex"),
    compression: "zstd",
    tool_version: "100.12.2",
    collections: failed ? null : { orders: 1000 + (i % 500), customers: 200, events: 5000 },
    error: failed ? "mongodump exited with code 1: server unreachable" : null,
    runner_ref: `local:${1000 + (i % 5000)}`,
  });
}

function appOver(store: MetadataStore, dir: string) {
  const quiet = createLogger("bench-api", { level: "silent" });
  const token = randomBytes(16).toString("hex");
  const app = createApp({
    store,
    secrets: new EncryptedFileSecretStore({
      file: join(dir, "secrets.enc"),
      keyFile: join(dir, "secret.key"),
    }),
    blobs: new FileBlobStore({ dir: join(dir, "blobs") }),
    inspector: new MongoDriverInspector(),
    runner: null,
    scheduler: null,
    alerts: { bus: new LogEventBus(quiet), notifiers: [], webhook: new HttpWebhookSender() },
    authenticate: bearerTokenAuth({ operator: token }),
    downloads: new SignedLinkDownloads({ baseUrl: "http://127.0.0.1:1" }),
    log: quiet,
  });
  /** Time of one GET, the reply checked. */
  return async (path: string, expectItems: number): Promise<number> => {
    const start = performance.now();
    const res = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { items?: unknown[]; backups?: { total?: number } };
    const ms = since(start);
    // A list returns its page; the stats count every backup (expectItems: the records loaded).
    const got = path === "/api/stats" ? body.backups?.total : body.items?.length;
    if (res.status !== 200 || got !== expectItems) {
      throw new Error(`GET ${path}: ${res.status}, ${got} where ${expectItems} were expected`);
    }
    return ms;
  };
}

export async function benchApi(options: {
  awsEndpoint: string;
  scratch: string;
  counts: readonly number[];
  runs: number;
}): Promise<ApiStepResult[]> {
  const dir = join(options.scratch, "api");
  const client = new DynamoDBClient(awsClientConfig(options.awsEndpoint));
  let scanned = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      const output = out.output as
        | { ScannedCount?: number; Responses?: Record<string, unknown[]> }
        | undefined;
      if (typeof output?.ScannedCount === "number") scanned += output.ScannedCount;
      for (const items of Object.values(output?.Responses ?? {})) scanned += items.length;
      return out;
    },
    { step: "initialize", name: "countScanned" },
  );
  const tableName = `bench-api-${newId().slice(-8)}`;
  await createMetadataTable(client, tableName);
  const dynamo = new DynamoDbMetadataStore({ client, tableName });
  const local = new FileMetadataStore({ dir: join(dir, "metadata") });
  // Another process's store on the same directory: its writes replace the file under the first.
  const foreign = new FileMetadataStore({ dir: join(dir, "metadata") });
  const get = { dynamodb: appOver(dynamo, dir), local: appOver(local, dir) };

  const steps: ApiStepResult[] = [];
  let loaded = 0;
  try {
    for (const count of options.counts) {
      const batch = Array.from({ length: count - loaded }, (_, k) => backupRecord(loaded + k));
      loaded = count;
      let start = performance.now();
      await bulkLoadDynamoDb({ client, tableName }, entitySpecs.backups, batch);
      const dynamoSeed = since(start);
      start = performance.now();
      await bulkLoadFiles({ dir: join(dir, "metadata") }, entitySpecs.backups, batch);
      const localSeed = since(start);
      for (const kind of ["dynamodb", "local"] as const) await get[kind]("/api/backups", 25); // warm-up
      const listMs = await alternate(options.runs, {
        dynamodb: () => get.dynamodb("/api/backups", 25),
        local: () => get.local("/api/backups", 25),
      });
      scanned = 0;
      await get.dynamodb("/api/backups", 25);
      const itemsRead = scanned;
      const empty: number[] = [];
      for (let i = 0; i < 5; i++) empty.push(await get.dynamodb("/api/backups?status=queued", 0));
      const afterWrite: number[] = [];
      const writes: number[] = [];
      const last = batch.at(-1) as Backup;
      for (let i = 0; i < 5; i++) {
        start = performance.now();
        await foreign.backups.update(last.id, { notes: `touched ${i}` });
        writes.push(since(start));
        afterWrite.push(await get.local("/api/backups", 25));
      }
      for (const kind of ["dynamodb", "local"] as const) await get[kind]("/api/stats", count); // warm-up
      const statsMs = await alternate(options.runs, {
        dynamodb: () => get.dynamodb("/api/stats", count),
        local: () => get.local("/api/stats", count),
      });
      scanned = 0;
      await get.dynamodb("/api/stats", count);
      const statsItemsRead = scanned;
      steps.push({
        statsMs,
        dynamodbStatsItemsRead: statsItemsRead,
        records: count,
        seedMs: { dynamodb: dynamoSeed, local: localSeed },
        listMs,
        dynamodbItemsRead: itemsRead,
        dynamodbEmptyPageMs: median(empty),
        localAfterForeignWriteMs: median(afterWrite),
        localWriteMs: median(writes),
      });
    }
  } finally {
    client.destroy();
  }
  return steps;
}
