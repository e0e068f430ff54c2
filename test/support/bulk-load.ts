// Bulk loads of metadata records for the benchmark (100,000 backups) and its contract test. Test
// code, not a store method: production never writes without the store's conditions, so the loaders
// live here, over the shared spec table (entitySpecs) and each store's exported encoding (the
// DynamoDB item, the SQLite row), which keeps them writing exactly what the stores write.
// Unconditional: an item whose id exists is replaced; no transitions, no audit. Every item is
// validated with the entity's schema before anything is written.
import { setTimeout as sleep } from "node:timers/promises";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { addToCounters, tableItem } from "#adapters/aws/dynamodb-metadata-store.ts";
import type { LocalDatabase } from "#adapters/local/sqlite-database.ts";
import { addCounters, collectionTable, documentText } from "#adapters/local/sqlite-metadata-store.ts";
import { type EntitySpec, validate } from "#adapters/metadata-rules.ts";
import { countersOf } from "#core/backup-counters.ts";
import type { Backup } from "#core/entities.ts";

/** Each BatchWriteItem left unprocessed is resent after a backoff, this many times at most. */
const MAX_ATTEMPTS = 10;

/**
 * BatchWriteItem, 25 items a request, `concurrency` requests at a time, resending whatever DynamoDB
 * leaves unprocessed.
 */
export async function bulkLoadDynamoDb<T extends { id: string }>(
  target: { client: DynamoDBClient; tableName: string },
  spec: EntitySpec<T>,
  items: readonly T[],
  concurrency = 4,
): Promise<void> {
  const doc = DynamoDBDocumentClient.from(target.client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) {
    batches.push(
      items.slice(i, i + 25).map((item) => ({
        PutRequest: { Item: tableItem(spec, validate(spec.schema, spec.entity, item)) },
      })),
    );
  }
  let next = 0;
  const worker = async () => {
    for (let batch = batches[next++]; batch; batch = batches[next++]) {
      for (let attempt = 1; batch.length > 0; attempt++) {
        if (attempt > MAX_ATTEMPTS) throw new Error(`${spec.entity} bulk load: items left unprocessed`);
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [target.tableName]: batch } }));
        batch = (out.UnprocessedItems?.[target.tableName] ?? []) as Record<string, unknown>[];
        if (batch.length > 0) await sleep(10 * 2 ** attempt);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  // The store counts backups as it writes them; these went around it. New ids are assumed (the
  // loaders' callers make fresh ones): replacing existing backups would need a rebuild instead.
  if (spec.collection === "backups") {
    await addToCounters(target.client, target.tableName, countersOf(items as unknown as Backup[]));
  }
}

/**
 * One transaction of INSERTs through one prepared statement (an existing id is replaced, its
 * version counted up as the store's replace does): a million rows take seconds, not a million
 * commits.
 */
export async function bulkLoadSqlite<T extends { id: string }>(
  target: { database: LocalDatabase },
  spec: EntitySpec<T>,
  items: readonly T[],
): Promise<void> {
  const valid = items.map((item) => validate(spec.schema, spec.entity, item));
  const { database } = target;
  database.write((db) => {
    const insert = db.prepare(
      `INSERT INTO ${collectionTable(spec)} (id, version, doc) VALUES (?, 1, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, version = version + 1`,
    );
    for (const item of valid) insert.run(item.id, documentText(item));
    // As for DynamoDB: new ids assumed; the counters get what the loaded backups add.
    if (spec.collection === "backups") addCounters(database, db, countersOf(valid as unknown as Backup[]));
  });
}
