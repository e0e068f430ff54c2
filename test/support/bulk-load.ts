// Bulk loads of metadata records for the benchmark (100,000 backups) and its contract test. Test
// code, not a store method: production never writes without the store's conditions, so the loaders
// live here, over the shared spec table (entitySpecs) and each store's exported encoding (the
// DynamoDB item, the collection file), which keeps them writing exactly what the stores write.
// Unconditional: an item whose id exists is replaced; no transitions, no audit. Every item is
// validated with the entity's schema before anything is written.
import { mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { addToCounters, tableItem } from "#adapters/aws/dynamodb-metadata-store.ts";
import { withFileLock } from "#adapters/local/file-lock.ts";
import {
  collectionFile,
  collectionFileText,
  parseCollectionFile,
} from "#adapters/local/file-metadata-store.ts";
import { isErrno, writeFileAtomically } from "#adapters/local/fs-durable.ts";
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
 * One rewrite of the collection's file under its lock, as a FileMetadataStore on `dir` writes it; a
 * store with a snapshot of the file sees the new file on its next read.
 */
export async function bulkLoadFiles<T extends { id: string }>(
  target: { dir: string },
  spec: EntitySpec<T>,
  items: readonly T[],
): Promise<void> {
  const valid = items.map((item) => validate(spec.schema, spec.entity, item));
  const dir = resolve(target.dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, collectionFile(spec));
  await withFileLock(path, async () => {
    let existing: T[] = [];
    try {
      existing = parseCollectionFile<T>(path, await readFile(path, "utf8"));
    } catch (error) {
      if (!isErrno(error, "ENOENT")) throw error;
    }
    const byId = new Map(existing.map((item) => [item.id, item]));
    for (const item of valid) byId.set(item.id, item);
    await writeFileAtomically(path, collectionFileText(byId.values()));
  });
}
