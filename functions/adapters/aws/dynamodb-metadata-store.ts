// DynamoDB adapter of the metadata store.
//
// Table design: one table (`metadataTableDefinition`), every entity kind in it.
//   pk = "<KIND>#<id>", sk = "<KIND>"   KIND: SERVER DATABASE BACKUP SCHEDULE RESTORE DRILL AUDIT
//   pk = sk = "SETTINGS"                the one settings document: no index keys, so no list sees it
//   gsi1..gsi6 are generic: partition gsiNpk = "<KIND>[#<LABEL>#<value>]...", sort gsiNsk = id, projection
//   ALL. Ids are UUIDv7, so a Query with ScanIndexForward=false is newest first. Index keys are derived
//   from the entity on every write (a status change moves a backup to another status partition); a null
//   field leaves its key out (sparse). `#` and `%` in values are escaped, so keys cannot collide.
//
//   list path                           index  partition key
//   servers                             gsi1   SERVER
//   databases                           gsi1   DATABASE
//     server_id + name                  gsi3   DATABASE#SERVER#<server_id>#NAME#<name>
//     server_id + enabled               gsi5   DATABASE#SERVER#<server_id>#ENABLED#<true|false>
//     server_id                         gsi2   DATABASE#SERVER#<server_id>
//     enabled                           gsi4   DATABASE#ENABLED#<true|false>
//   backups                             gsi1   BACKUP
//     imported_from                     gsi6   BACKUP#IMPORT#<source key>   (sparse: imports only)
//     server_id + database              gsi3   BACKUP#SERVER#<server_id>#DB#<database>
//     schedule_id                       gsi5   BACKUP#SCHEDULE#<schedule_id>
//     status (queued, running)          gsi4   BACKUP#STATUS#<status>
//     server_id                         gsi2   BACKUP#SERVER#<server_id>
//     status (terminal)                 gsi4   BACKUP#STATUS#<status>
//   schedules                           gsi1   SCHEDULE;  enabled: gsi2 SCHEDULE#ENABLED#<true|false>
//   restores                            gsi1   RESTORE
//     backup_id                         gsi2   RESTORE#BACKUP#<backup_id>
//     status (queued, running)          gsi4   RESTORE#STATUS#<status>
//     target_server_id                  gsi3   RESTORE#TARGET#<target_server_id>
//     status (terminal)                 gsi4   RESTORE#STATUS#<status>
//   drills                              gsi1   DRILL
//     backup_id                         gsi2   DRILL#BACKUP#<backup_id>
//     status                            gsi4   DRILL#STATUS#<status>
//   audit                               gsi1   AUDIT
//     target_type + target_id           gsi4   AUDIT#TARGET#<type>#ID#<id>
//     target_id                         gsi5   AUDIT#TARGETID#<id>
//     actor                             gsi2   AUDIT#ACTOR#<actor>
//     target_type                       gsi3   AUDIT#TARGET#<type>
// A filter combination uses the first row of its kind whose fields it has (the most selective; queued
// and running partitions stay small, terminal ones grow forever); the other filter fields become a
// FilterExpression, and Query is repeated until the page is full or the partition is exhausted.
// No list path scans. The cursor is base64url JSON {e: entity, x: index, id: last returned id}.
//
// Writes: create is conditional on attribute_not_exists(pk); update and transition read the item and
// put the new one conditional on the internal version `_v` (and, for a transition, on the status).
// Backups are written in a TransactWriteItems with the ADDs of their counters (core/backup-counters.ts):
//   pk = "STATS#<total|day:YYYY-MM-DD|hour:YYYY-MM-DDTHH>", sk = "STATS", gsi1pk = "STATS"
// so GET /api/stats reads 79 items (BatchGet) whatever the table holds, and a counter can never
// disagree with the write it counts (both land or neither). The rebuild lists them through gsi1.
// Settings are replaced whole by a plain Put (no read-modify-write, so no `_v`; the last put wins)
// and read with a consistent Get.
//
// The checks, errors and cursors are the shared rules (metadata-collections.ts over
// metadata-rules.ts); this file is only the storage: keys, indexes and conditional writes.

import { setTimeout as sleep } from "node:timers/promises";
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  DynamoDBServiceException,
  ResourceInUseException,
  TransactionCanceledException,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  type CounterDelta,
  type CounterFields,
  type CounterKey,
  counterDelta,
} from "#core/backup-counters.ts";
import type { Backup, JobStatus, Settings } from "#core/entities.ts";
import { ConflictError, NotFoundError, ValidationError } from "#core/errors.ts";
import { activeStatuses } from "#core/state-machine.ts";
import {
  CheckedMetadataStore,
  type CollectionStorage,
  type CounterStorage,
  type SettingsStorage,
} from "../metadata-collections.ts";
import type { CheckedFilter, CollectionName, EntitySpec, FilterValue } from "../metadata-rules.ts";

type Gsi = "gsi1" | "gsi2" | "gsi3" | "gsi4" | "gsi5" | "gsi6";
const GSIS: readonly Gsi[] = ["gsi1", "gsi2", "gsi3", "gsi4", "gsi5", "gsi6"];
const INTERNAL = new Set(["pk", "sk", "_v", ...GSIS.flatMap((g) => [`${g}pk`, `${g}sk`])]);

/** The table as data, so the CDK stack and the tests create the same one. */
export const metadataTableDefinition: Required<
  Pick<CreateTableCommandInput, "AttributeDefinitions" | "KeySchema" | "GlobalSecondaryIndexes">
> = {
  AttributeDefinitions: [
    { AttributeName: "pk", AttributeType: "S" },
    { AttributeName: "sk", AttributeType: "S" },
    ...GSIS.flatMap((g) => [
      { AttributeName: `${g}pk`, AttributeType: "S" as const },
      { AttributeName: `${g}sk`, AttributeType: "S" as const },
    ]),
  ],
  KeySchema: [
    { AttributeName: "pk", KeyType: "HASH" },
    { AttributeName: "sk", KeyType: "RANGE" },
  ],
  GlobalSecondaryIndexes: GSIS.map((g) => ({
    IndexName: g,
    KeySchema: [
      { AttributeName: `${g}pk`, KeyType: "HASH" as const },
      { AttributeName: `${g}sk`, KeyType: "RANGE" as const },
    ],
    Projection: { ProjectionType: "ALL" as const },
  })),
};

/** Creates the metadata table (on demand) and waits until it is ACTIVE; an existing table is kept. */
export async function createMetadataTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        ...metadataTableDefinition,
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists(
    { client, minDelay: 1, maxDelay: 5, maxWaitTime: 300 },
    { TableName: tableName },
  );
}

// ---------------------------------------------------------------------------------------------
// Collections: how each entity kind maps onto the indexes.
// ---------------------------------------------------------------------------------------------

/** Partition key layout of an index: the entity fields it encodes, each behind a label. */
type KeyLayout = readonly (readonly [label: string, field: string])[];

/** How one collection (metadata-rules.ts' entitySpecs) maps onto the table and its indexes. */
export interface TableLayout {
  kind: string;
  indexes: Partial<Record<Gsi, KeyLayout>>;
  /** Index choice for a filter, most selective first; the first whose fields are all given wins. */
  plans: readonly { gsi: Gsi; when?: (filter: CheckedFilter) => boolean }[];
}

const transient = (f: CheckedFilter) => activeStatuses.some((s) => s === f.status);

export const tableLayouts: Readonly<Record<CollectionName, TableLayout>> = {
  servers: { kind: "SERVER", indexes: { gsi1: [] }, plans: [{ gsi: "gsi1" }] },
  databases: {
    kind: "DATABASE",
    indexes: {
      gsi1: [],
      gsi2: [["SERVER", "server_id"]],
      gsi3: [
        ["SERVER", "server_id"],
        ["NAME", "name"],
      ],
      gsi4: [["ENABLED", "enabled"]],
      gsi5: [
        ["SERVER", "server_id"],
        ["ENABLED", "enabled"],
      ],
    },
    plans: [{ gsi: "gsi3" }, { gsi: "gsi5" }, { gsi: "gsi2" }, { gsi: "gsi4" }, { gsi: "gsi1" }],
  },
  backups: {
    kind: "BACKUP",
    indexes: {
      gsi1: [],
      gsi2: [["SERVER", "server_id"]],
      gsi3: [
        ["SERVER", "server_id"],
        ["DB", "database"],
      ],
      gsi4: [["STATUS", "status"]],
      gsi5: [["SCHEDULE", "schedule_id"]],
      gsi6: [["IMPORT", "imported_from"]],
    },
    plans: [
      { gsi: "gsi6" },
      { gsi: "gsi3" },
      { gsi: "gsi5" },
      { gsi: "gsi4", when: transient },
      { gsi: "gsi2" },
      { gsi: "gsi4" },
      { gsi: "gsi1" },
    ],
  },
  schedules: {
    kind: "SCHEDULE",
    indexes: { gsi1: [], gsi2: [["ENABLED", "enabled"]] },
    plans: [{ gsi: "gsi2" }, { gsi: "gsi1" }],
  },
  restores: {
    kind: "RESTORE",
    indexes: {
      gsi1: [],
      gsi2: [["BACKUP", "backup_id"]],
      gsi3: [["TARGET", "target_server_id"]],
      gsi4: [["STATUS", "status"]],
    },
    plans: [
      { gsi: "gsi2" },
      { gsi: "gsi4", when: transient },
      { gsi: "gsi3" },
      { gsi: "gsi4" },
      { gsi: "gsi1" },
    ],
  },
  drills: {
    kind: "DRILL",
    indexes: {
      gsi1: [],
      gsi2: [["BACKUP", "backup_id"]],
      gsi4: [["STATUS", "status"]],
    },
    plans: [{ gsi: "gsi2" }, { gsi: "gsi4" }, { gsi: "gsi1" }],
  },
  audit: {
    kind: "AUDIT",
    indexes: {
      gsi1: [],
      gsi2: [["ACTOR", "actor"]],
      gsi3: [["TARGET", "target_type"]],
      gsi4: [
        ["TARGET", "target_type"],
        ["ID", "target_id"],
      ],
      gsi5: [["TARGETID", "target_id"]],
    },
    plans: [{ gsi: "gsi4" }, { gsi: "gsi5" }, { gsi: "gsi2" }, { gsi: "gsi3" }, { gsi: "gsi1" }],
  },
};

// ---------------------------------------------------------------------------------------------
// Helpers shared by every collection.
// ---------------------------------------------------------------------------------------------

/** Each lost conditional write means another writer's write landed, so N racing writers all land. */
const MAX_ATTEMPTS = 10;
/** Items read per Query when a FilterExpression may drop some. */
const FILTERED_BATCH = 100;

const escapeKeyPart = (value: string) => value.replaceAll("%", "%25").replaceAll("#", "%23");

function isItemTooLarge(error: unknown): boolean {
  return (
    error instanceof DynamoDBServiceException &&
    error.name === "ValidationException" &&
    /item size/i.test(error.message)
  );
}

/**
 * A lost condition: a plain write's, or the entity's own in a transaction (the counters' updates
 * have none). A transaction cancelled for another reason (a conflict with a concurrent transaction
 * on a counter: TransactionConflict) is retried too, as the SDK does not retry it by itself.
 */
function isConditionFailure(error: unknown): boolean {
  if (error instanceof ConditionalCheckFailedException) return true;
  if (!(error instanceof TransactionCanceledException)) return false;
  const codes = (error.CancellationReasons ?? []).map((r) => r.Code);
  return codes[0] === "ConditionalCheckFailed" || codes.includes("TransactionConflict");
}

function versionCondition(version: unknown) {
  return typeof version === "number"
    ? {
        ConditionExpression: "#v = :v",
        ExpressionAttributeNames: { "#v": "_v" },
        ExpressionAttributeValues: { ":v": version },
      }
    : { ConditionExpression: "attribute_not_exists(#v)", ExpressionAttributeNames: { "#v": "_v" } };
}

const COUNTER_PREFIX = "STATS#";
const counterItemKey = (key: CounterKey) => ({ pk: `${COUNTER_PREFIX}${key}`, sk: "STATS" });

/** One ADD update per counter document the delta touches (the document is created by its first ADD). */
function counterUpdates(tableName: string, delta: CounterDelta): Record<string, unknown>[] {
  return [...delta].map(([key, fields]) => {
    const names: Record<string, string> = { "#g": "gsi1pk", "#gs": "gsi1sk" };
    const values: Record<string, unknown> = { ":g": "STATS", ":gs": key };
    const adds = Object.entries(fields).map(([field, n], i) => {
      names[`#a${i}`] = field;
      values[`:a${i}`] = n;
      return `#a${i} :a${i}`;
    });
    return {
      Update: {
        TableName: tableName,
        Key: counterItemKey(key),
        UpdateExpression: `SET #g = :g, #gs = :gs ADD ${adds.join(", ")}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
  });
}

const COUNTER_FIELDS = new Set([
  "queued",
  "running",
  "completed",
  "failed",
  "cancelled",
  "bytes_stored",
  "bytes",
]);

function counterFieldsOf(raw: Record<string, unknown>): CounterFields {
  const fields: CounterFields = {};
  for (const [name, value] of Object.entries(raw)) {
    if (COUNTER_FIELDS.has(name) && typeof value === "number" && value !== 0) {
      fields[name as keyof CounterFields] = value;
    }
  }
  return fields;
}

/**
 * Adds `delta` to the counters outside any entity write: for a bulk loader of new backups
 * (test/support/bulk-load.ts), which writes items around the store.
 */
export async function addToCounters(
  client: DynamoDBClient,
  tableName: string,
  delta: CounterDelta,
): Promise<void> {
  const doc = DynamoDBDocumentClient.from(client);
  for (const update of counterUpdates(tableName, delta)) {
    const { Update } = update as { Update: ConstructorParameters<typeof UpdateCommand>[0] };
    await doc.send(new UpdateCommand(Update));
  }
}

/** The counter documents: items outside the entity indexes (gsi1 partition STATS lists them). */
class DynamoDbCounters implements CounterStorage {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(doc: DynamoDBDocumentClient, tableName: string) {
    this.doc = doc;
    this.tableName = tableName;
  }

  async read(keys: readonly CounterKey[]): Promise<Map<CounterKey, CounterFields>> {
    const result = new Map<CounterKey, CounterFields>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += 100) {
      let request: Record<string, unknown>[] | undefined = unique.slice(i, i + 100).map(counterItemKey);
      for (let attempt = 0; request && request.length > 0; attempt++) {
        const out = await this.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: request, ConsistentRead: true } },
          }),
        );
        for (const raw of out.Responses?.[this.tableName] ?? []) {
          result.set(String(raw.pk).slice(COUNTER_PREFIX.length) as CounterKey, counterFieldsOf(raw));
        }
        request = out.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined;
        if (request && request.length > 0) await sleep(Math.min(1000, 50 * 2 ** attempt));
      }
    }
    return result;
  }

  async replaceAll(counters: Map<CounterKey, CounterFields>): Promise<void> {
    const existing: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :g",
          ExpressionAttributeValues: { ":g": "STATS" },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const raw of out.Items ?? []) existing.push(String(raw.pk));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    const keep = new Set([...counters.keys()].map((k) => counterItemKey(k).pk));
    for (const pk of existing) {
      if (!keep.has(pk))
        await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk, sk: "STATS" } }));
    }
    for (const [key, fields] of counters) {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...counterItemKey(key), gsi1pk: "STATS", gsi1sk: key, ...fields },
        }),
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The stores.
// ---------------------------------------------------------------------------------------------

/**
 * The item a collection's entity is stored as: the entity, its primary and index keys (an index whose
 * fields are not all set leaves the item out) and the internal version `_v`. Exported so a bulk loader
 * (test/support/bulk-load.ts) writes exactly what the store writes.
 */
export function tableItem<T extends { id: string }>(
  spec: EntitySpec<T>,
  item: T,
  version = 1,
): Record<string, unknown> {
  const layout = tableLayouts[spec.collection];
  const fields = item as unknown as Record<string, unknown>;
  const keys: Record<string, unknown> = { ...fields, ...primaryKey(layout, item.id) };
  for (const gsi of GSIS) {
    const indexLayout = layout.indexes[gsi];
    if (!indexLayout) continue;
    const parts = [layout.kind];
    let complete = true;
    for (const [label, field] of indexLayout) {
      const value = fields[field];
      if (typeof value !== "string" && typeof value !== "boolean") {
        complete = false;
        break;
      }
      parts.push(label, escapeKeyPart(String(value)));
    }
    if (!complete) continue;
    keys[`${gsi}pk`] = parts.join("#");
    keys[`${gsi}sk`] = item.id;
  }
  keys._v = version;
  return keys;
}

function primaryKey(layout: TableLayout, id: string): { pk: string; sk: string } {
  return { pk: `${layout.kind}#${id}`, sk: layout.kind };
}

function withoutInternal(raw: Record<string, unknown>): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!INTERNAL.has(key)) item[key] = value;
  }
  return item;
}

class DynamoDbCollection<T extends { id: string }> implements CollectionStorage<T> {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly spec: EntitySpec<T>;
  private readonly layout: TableLayout;

  constructor(doc: DynamoDBDocumentClient, tableName: string, spec: EntitySpec<T>) {
    this.doc = doc;
    this.tableName = tableName;
    this.spec = spec;
    this.layout = tableLayouts[spec.collection];
  }

  /** Backups carry counters: their writes go in a transaction with the counters' ADDs. */
  private get counted(): boolean {
    return this.spec.collection === "backups";
  }

  async insert(item: T): Promise<boolean> {
    const put = {
      TableName: this.tableName,
      Item: tableItem(this.spec, item),
      ConditionExpression: "attribute_not_exists(pk)",
    };
    try {
      if (this.counted) {
        await this.transact({ Put: put }, counterDelta(undefined, item as unknown as Backup));
      } else {
        await this.doc.send(new PutCommand(put));
      }
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw this.translate(error);
    }
  }

  /** The entity's own write and its counter updates, all or nothing. */
  private async transact(write: Record<string, unknown>, delta: CounterDelta): Promise<void> {
    await this.doc.send(
      new TransactWriteCommand({
        // The entity first: a cancellation's first reason is then its condition.
        TransactItems: [write, ...counterUpdates(this.tableName, delta)],
      }),
    );
  }

  async read(id: string): Promise<T | undefined> {
    const raw = await this.readRaw(id);
    return raw ? (withoutInternal(raw) as T) : undefined;
  }

  async remove(id: string): Promise<boolean> {
    if (!this.counted) {
      const out = await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: primaryKey(this.layout, id),
          ReturnValues: "ALL_OLD",
        }),
      );
      return out.Attributes !== undefined;
    }
    // The counters need what is deleted: read it, then delete that version with its counters.
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const raw = await this.readRaw(id);
      if (!raw) return false;
      const version = raw._v;
      try {
        await this.transact(
          {
            Delete: {
              TableName: this.tableName,
              Key: primaryKey(this.layout, id),
              ...versionCondition(version),
            },
          },
          counterDelta(withoutInternal(raw) as unknown as Backup, undefined),
        );
        return true;
      } catch (error) {
        if (!isConditionFailure(error)) throw this.translate(error);
        await sleep(Math.random() * 5 * attempt);
      }
    }
    throw new ConflictError(`${this.spec.entity} ${id} is changing too often; try again`);
  }

  /** A cursor walks one index: replayed on a filter that plans another, it would skip or repeat. */
  cursorScope(filter: CheckedFilter): Record<string, string> {
    return { x: this.plan(filter).gsi };
  }

  async page(
    filter: CheckedFilter,
    limit: number,
    after: string | undefined,
  ): Promise<{ items: T[]; more: boolean }> {
    const { gsi, partition, rest } = this.plan(filter);
    const names: Record<string, string> = { "#pk": `${gsi}pk` };
    const values: Record<string, FilterValue> = { ":pk": partition };
    const conditions = rest.map(([field, value], i) => {
      names[`#f${i}`] = field;
      values[`:f${i}`] = value;
      return `#f${i} = :f${i}`;
    });

    const items: T[] = [];
    let startKey: Record<string, unknown> | undefined =
      after === undefined
        ? undefined
        : { ...primaryKey(this.layout, after), [`${gsi}pk`]: partition, [`${gsi}sk`]: after };
    for (;;) {
      const need = limit + 1 - items.length;
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: gsi,
          KeyConditionExpression: "#pk = :pk",
          FilterExpression: conditions.length > 0 ? conditions.join(" AND ") : undefined,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: conditions.length > 0 ? Math.max(need, FILTERED_BATCH) : need,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const raw of out.Items ?? []) {
        if (items.length === limit) return { items, more: true };
        items.push(withoutInternal(raw) as T);
      }
      if (out.LastEvaluatedKey === undefined) return { items, more: false };
      startKey = out.LastEvaluatedKey;
    }
  }

  /**
   * Reads the item, computes the new one and puts it if nobody wrote in between (`_v`) and, for a
   * transition, if the status still allows it. A lost race is retried with a fresh read, where
   * `compute` throws if the move is no longer legal.
   */
  async replace(id: string, compute: (current: T) => T, onlyFrom?: readonly JobStatus[]): Promise<T> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const raw = await this.readRaw(id);
      if (!raw) throw new NotFoundError(this.spec.entity, id);
      const next = compute(withoutInternal(raw) as T);
      const version = raw._v;
      const names: Record<string, string> = { "#v": "_v" };
      const values: Record<string, unknown> = {};
      let condition: string;
      if (typeof version === "number") {
        condition = "#v = :v";
        values[":v"] = version;
      } else {
        condition = "attribute_not_exists(#v)";
      }
      if (onlyFrom) {
        names["#status"] = "status";
        const placeholders = onlyFrom.map((status, i) => {
          values[`:s${i}`] = status;
          return `:s${i}`;
        });
        condition += ` AND #status IN (${placeholders.join(", ")})`;
      }
      const put = {
        TableName: this.tableName,
        Item: tableItem(this.spec, next, (typeof version === "number" ? version : 0) + 1),
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: Object.keys(values).length > 0 ? values : undefined,
      };
      try {
        if (this.counted) {
          const before = withoutInternal(raw) as unknown as Backup;
          await this.transact({ Put: put }, counterDelta(before, next as unknown as Backup));
        } else {
          await this.doc.send(new PutCommand(put));
        }
        return next;
      } catch (error) {
        if (!isConditionFailure(error)) throw this.translate(error);
        await sleep(Math.random() * 5 * attempt);
      }
    }
    throw new ConflictError(`${this.spec.entity} ${id} is changing too often; try again`);
  }

  private async readRaw(id: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: primaryKey(this.layout, id), ConsistentRead: true }),
    );
    return out.Item;
  }

  /** The index to query for a filter, its partition, and the filter fields left to a FilterExpression. */
  private plan(filter: CheckedFilter): { gsi: Gsi; partition: string; rest: [string, FilterValue][] } {
    for (const { gsi, when } of this.layout.plans) {
      const layout = this.layout.indexes[gsi] ?? [];
      if (!layout.every(([, field]) => filter[field] !== undefined)) continue;
      if (when && !when(filter)) continue;
      const parts = [this.layout.kind];
      for (const [label, field] of layout) parts.push(label, escapeKeyPart(String(filter[field])));
      const used = new Set(layout.map(([, field]) => field));
      const rest = Object.entries(filter).filter(([field]) => !used.has(field));
      return { gsi, partition: parts.join("#"), rest };
    }
    throw new Error(`no index answers this ${this.spec.entity} filter`);
  }

  private translate(error: unknown): unknown {
    if (isItemTooLarge(error)) {
      return new ValidationError(this.spec.entity, "is larger than the store's 400 KB item limit", {
        cause: error,
      });
    }
    return error;
  }
}

/** The one settings document, a single item outside every index. */
class DynamoDbSettings implements SettingsStorage {
  private static readonly key = { pk: "SETTINGS", sk: "SETTINGS" } as const;
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(doc: DynamoDBDocumentClient, tableName: string) {
    this.doc = doc;
    this.tableName = tableName;
  }

  async read(): Promise<Settings | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: DynamoDbSettings.key, ConsistentRead: true }),
    );
    return out.Item ? (withoutInternal(out.Item) as Settings) : undefined;
  }

  async write(settings: Settings): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { ...settings, ...DynamoDbSettings.key } }),
    );
  }
}

export class DynamoDbMetadataStore extends CheckedMetadataStore {
  constructor({ client, tableName }: { client?: DynamoDBClient; tableName: string }) {
    const doc = DynamoDBDocumentClient.from(client ?? new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
    super(
      (spec) => new DynamoDbCollection(doc, tableName, spec),
      new DynamoDbSettings(doc, tableName),
      new DynamoDbCounters(doc, tableName),
    );
  }
}
