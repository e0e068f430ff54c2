// DynamoDB adapter of the metadata store.
//
// Table design: one table (`metadataTableDefinition`), every entity kind in it.
//   pk = "<KIND>#<id>", sk = "<KIND>"   KIND: SERVER DATABASE BACKUP SCHEDULE RESTORE AUDIT
//   pk = sk = "SETTINGS"                the one settings document: no index keys, so no list sees it
//   gsi1..gsi5 are generic: partition gsiNpk = "<KIND>[#<LABEL>#<value>]...", sort gsiNsk = id, projection
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
// Settings are replaced whole by a plain Put (no read-modify-write, so no `_v`; the last put wins)
// and read with a consistent Get.

import { setTimeout as sleep } from "node:timers/promises";
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  DynamoDBServiceException,
  ResourceInUseException,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import type { z } from "zod";
import {
  AuditEntry,
  Backup,
  type JobStatus,
  ManagedDatabase,
  Restore,
  Schedule,
  Server,
  Settings,
} from "#core/entities.ts";
import { ConflictError, NotFoundError, ValidationError } from "#core/errors.ts";
import type {
  AuditFilter,
  BackupFilter,
  DatabaseFilter,
  EntityStore,
  JobStore,
  MetadataStore,
  Page,
  PageRequest,
  RestoreFilter,
  ScheduleFilter,
  ServerFilter,
  SettingsStore,
} from "#core/ports.ts";
import { activeStatuses, assertTransition, statusesAllowedBefore } from "#core/state-machine.ts";
import {
  applyPatch,
  checkLimit,
  checkTargetStatus,
  decodeCursor,
  encodeCursor,
  isId,
  rejectStatusPatch,
  validate,
} from "../metadata-rules.ts";

type Gsi = "gsi1" | "gsi2" | "gsi3" | "gsi4" | "gsi5";
const GSIS: readonly Gsi[] = ["gsi1", "gsi2", "gsi3", "gsi4", "gsi5"];
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

type FilterValue = string | boolean;
/** Partition key layout of an index: the entity fields it encodes, each behind a label. */
type KeyLayout = readonly (readonly [label: string, field: string])[];

interface CollectionSpec<T> {
  entity: string;
  kind: string;
  schema: z.ZodType<T>;
  indexes: Partial<Record<Gsi, KeyLayout>>;
  /** Index choice for a filter, most selective first; the first whose fields are all given wins. */
  plans: readonly { gsi: Gsi; when?: (filter: Record<string, FilterValue>) => boolean }[];
  filterFields: readonly string[];
  /** Filter fields that only make sense together with another one. */
  requires?: Readonly<Record<string, string>>;
}

const transient = (f: Record<string, FilterValue>) => activeStatuses.some((s) => s === f.status);

const serverSpec: CollectionSpec<Server> = {
  entity: "server",
  kind: "SERVER",
  schema: Server,
  indexes: { gsi1: [] },
  plans: [{ gsi: "gsi1" }],
  filterFields: [],
};

const databaseSpec: CollectionSpec<ManagedDatabase> = {
  entity: "database",
  kind: "DATABASE",
  schema: ManagedDatabase,
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
  filterFields: ["server_id", "name", "enabled"],
  requires: { name: "server_id" },
};

const backupSpec: CollectionSpec<Backup> = {
  entity: "backup",
  kind: "BACKUP",
  schema: Backup,
  indexes: {
    gsi1: [],
    gsi2: [["SERVER", "server_id"]],
    gsi3: [
      ["SERVER", "server_id"],
      ["DB", "database"],
    ],
    gsi4: [["STATUS", "status"]],
    gsi5: [["SCHEDULE", "schedule_id"]],
  },
  plans: [
    { gsi: "gsi3" },
    { gsi: "gsi5" },
    { gsi: "gsi4", when: transient },
    { gsi: "gsi2" },
    { gsi: "gsi4" },
    { gsi: "gsi1" },
  ],
  filterFields: ["server_id", "database", "status", "schedule_id"],
  requires: { database: "server_id" },
};

const scheduleSpec: CollectionSpec<Schedule> = {
  entity: "schedule",
  kind: "SCHEDULE",
  schema: Schedule,
  indexes: { gsi1: [], gsi2: [["ENABLED", "enabled"]] },
  plans: [{ gsi: "gsi2" }, { gsi: "gsi1" }],
  filterFields: ["enabled"],
};

const restoreSpec: CollectionSpec<Restore> = {
  entity: "restore",
  kind: "RESTORE",
  schema: Restore,
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
  filterFields: ["backup_id", "status", "target_server_id"],
};

const auditSpec: CollectionSpec<AuditEntry> = {
  entity: "audit entry",
  kind: "AUDIT",
  schema: AuditEntry,
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
  filterFields: ["actor", "target_type", "target_id"],
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

// ---------------------------------------------------------------------------------------------
// The stores.
// ---------------------------------------------------------------------------------------------

class DynamoDbEntityStore<T extends { id: string }, F> implements EntityStore<T, F> {
  protected readonly doc: DynamoDBDocumentClient;
  protected readonly tableName: string;
  protected readonly spec: CollectionSpec<T>;

  constructor(doc: DynamoDBDocumentClient, tableName: string, spec: CollectionSpec<T>) {
    this.doc = doc;
    this.tableName = tableName;
    this.spec = spec;
  }

  async create(item: T): Promise<T> {
    const valid = validate(this.spec.schema, this.spec.entity, item);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...valid, ...this.keysOf(valid), _v: 1 },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConflictError(`${this.spec.entity} ${valid.id} already exists`, { cause: error });
      }
      throw this.translate(error);
    }
    return valid;
  }

  async get(id: string): Promise<T | undefined> {
    const raw = await this.read(id);
    return raw ? this.fromItem(raw) : undefined;
  }

  /**
   * Writes many items at once, unconditionally: BatchWriteItem, 25 items a request, `concurrency`
   * requests at a time, resending whatever DynamoDB leaves unprocessed. For bulk loads (a migration,
   * the benchmark's 100,000 backups); an item whose id exists replaces it.
   */
  async importMany(items: readonly T[], concurrency = 4): Promise<void> {
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < items.length; i += 25) {
      batches.push(
        items.slice(i, i + 25).map((item) => {
          const valid = validate(this.spec.schema, this.spec.entity, item);
          return { PutRequest: { Item: { ...valid, ...this.keysOf(valid), _v: 1 } } };
        }),
      );
    }
    let next = 0;
    const worker = async () => {
      for (let batch = batches[next++]; batch; batch = batches[next++]) {
        for (let attempt = 1; batch.length > 0; attempt++) {
          if (attempt > MAX_ATTEMPTS) throw new Error(`${this.spec.entity} import: items left unprocessed`);
          const out = await this.doc.send(
            new BatchWriteCommand({ RequestItems: { [this.tableName]: batch } }),
          );
          batch = (out.UnprocessedItems?.[this.tableName] ?? []) as Record<string, unknown>[];
          if (batch.length > 0) await sleep(10 * 2 ** attempt);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  }

  async update(id: string, patch: Partial<Omit<T, "id">>): Promise<T> {
    if (Object.hasOwn(patch, "id")) throw new ValidationError("id", "cannot be changed");
    return await this.rewrite(id, (current) => applyPatch(current, patch));
  }

  async delete(id: string): Promise<boolean> {
    if (!isId(id)) return false;
    const out = await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: this.primaryKey(id), ReturnValues: "ALL_OLD" }),
    );
    return out.Attributes !== undefined;
  }

  async list(filter: F, page: PageRequest): Promise<Page<T>> {
    const limit = checkLimit(page.limit);
    const { gsi, partition, rest } = this.plan(filter);
    const after =
      page.cursor === undefined ? undefined : decodeCursor(page.cursor, { e: this.spec.entity, x: gsi });

    const names: Record<string, string> = { "#pk": `${gsi}pk` };
    const values: Record<string, FilterValue> = { ":pk": partition };
    const conditions = rest.map(([field, value], i) => {
      names[`#f${i}`] = field;
      values[`:f${i}`] = value;
      return `#f${i} = :f${i}`;
    });

    const items: T[] = [];
    let more = false;
    let startKey: Record<string, unknown> | undefined =
      after === undefined
        ? undefined
        : { ...this.primaryKey(after), [`${gsi}pk`]: partition, [`${gsi}sk`]: after };
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
        if (items.length === limit) {
          more = true;
          break;
        }
        items.push(this.fromItem(raw));
      }
      if (more || out.LastEvaluatedKey === undefined) break;
      startKey = out.LastEvaluatedKey;
    }
    const last = items.at(-1);
    return {
      items,
      next_cursor: more && last ? encodeCursor({ e: this.spec.entity, x: gsi }, last.id) : null,
    };
  }

  /**
   * Reads the item, computes the new one and puts it if nobody wrote in between (`_v`) and, for a
   * transition, if the status still allows it. A lost race is retried with a fresh read, where
   * `compute` throws if the move is no longer legal.
   */
  protected async rewrite(
    id: string,
    compute: (current: T) => unknown,
    allowedStatuses?: readonly JobStatus[],
  ): Promise<T> {
    if (!isId(id)) throw new NotFoundError(this.spec.entity, String(id));
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const raw = await this.read(id);
      if (!raw) throw new NotFoundError(this.spec.entity, id);
      const next = validate(this.spec.schema, this.spec.entity, compute(this.fromItem(raw)));
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
      if (allowedStatuses) {
        names["#status"] = "status";
        const placeholders = allowedStatuses.map((status, i) => {
          values[`:s${i}`] = status;
          return `:s${i}`;
        });
        condition += ` AND #status IN (${placeholders.join(", ")})`;
      }
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...next, ...this.keysOf(next), _v: (typeof version === "number" ? version : 0) + 1 },
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: Object.keys(values).length > 0 ? values : undefined,
          }),
        );
        return next;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw this.translate(error);
        await sleep(Math.random() * 5 * attempt);
      }
    }
    throw new ConflictError(`${this.spec.entity} ${id} is changing too often; try again`);
  }

  private async read(id: string): Promise<Record<string, unknown> | undefined> {
    if (!isId(id)) return undefined;
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: this.primaryKey(id), ConsistentRead: true }),
    );
    return out.Item;
  }

  private primaryKey(id: string): { pk: string; sk: string } {
    return { pk: `${this.spec.kind}#${id}`, sk: this.spec.kind };
  }

  /** Primary and index keys of an item; an index whose fields are not all set leaves the item out. */
  private keysOf(item: T): Record<string, string> {
    const fields = item as unknown as Record<string, unknown>;
    const keys: Record<string, string> = this.primaryKey(item.id);
    for (const gsi of GSIS) {
      const layout = this.spec.indexes[gsi];
      if (!layout) continue;
      const parts = [this.spec.kind];
      let complete = true;
      for (const [label, field] of layout) {
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
    return keys;
  }

  private fromItem(raw: Record<string, unknown>): T {
    const item: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (!INTERNAL.has(key)) item[key] = value;
    }
    return item as T;
  }

  /** The index to query for a filter, its partition, and the filter fields left to a FilterExpression. */
  private plan(filter: F): { gsi: Gsi; partition: string; rest: [string, FilterValue][] } {
    const given: Record<string, FilterValue> = {};
    for (const [field, value] of Object.entries(filter as object)) {
      if (value === undefined) continue;
      if (!this.spec.filterFields.includes(field)) {
        throw new ValidationError(field, `is not a filter of ${this.spec.entity} lists`);
      }
      if (typeof value !== "string" && typeof value !== "boolean") {
        throw new ValidationError(field, `must be a string or a boolean, got ${typeof value}`);
      }
      given[field] = value;
    }
    for (const [field, needed] of Object.entries(this.spec.requires ?? {})) {
      if (given[field] !== undefined && given[needed] === undefined) {
        throw new ValidationError(field, `can only be used together with ${needed}`);
      }
    }
    for (const { gsi, when } of this.spec.plans) {
      const layout = this.spec.indexes[gsi] ?? [];
      if (!layout.every(([, field]) => given[field] !== undefined)) continue;
      if (when && !when(given)) continue;
      const parts = [this.spec.kind];
      for (const [label, field] of layout) parts.push(label, escapeKeyPart(String(given[field])));
      const used = new Set(layout.map(([, field]) => field));
      const rest = Object.entries(given).filter(([field]) => !used.has(field));
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
class DynamoDbSettingsStore implements SettingsStore {
  private static readonly key = { pk: "SETTINGS", sk: "SETTINGS" } as const;
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(doc: DynamoDBDocumentClient, tableName: string) {
    this.doc = doc;
    this.tableName = tableName;
  }

  async get(): Promise<Settings | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: DynamoDbSettingsStore.key, ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const settings: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(out.Item)) {
      if (!INTERNAL.has(key)) settings[key] = value;
    }
    return settings as Settings;
  }

  async put(settings: Settings): Promise<Settings> {
    const valid = validate(Settings, "settings", settings);
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { ...valid, ...DynamoDbSettingsStore.key } }),
    );
    return valid;
  }
}

class DynamoDbJobStore<T extends { id: string; status: JobStatus }, F>
  extends DynamoDbEntityStore<T, F>
  implements JobStore<T, F>
{
  override async update(id: string, patch: Partial<Omit<T, "id">>): Promise<T> {
    rejectStatusPatch(this.spec.entity, id, patch);
    return await super.update(id, patch);
  }

  async transition(id: string, to: JobStatus, patch: Partial<Omit<T, "id" | "status">> = {}): Promise<T> {
    checkTargetStatus(to);
    const allowed = statusesAllowedBefore(to);
    return await this.rewrite(
      id,
      (current) => {
        assertTransition(this.spec.entity, id, current.status, to);
        return { ...applyPatch(current, patch), status: to };
      },
      allowed,
    );
  }
}

export class DynamoDbMetadataStore implements MetadataStore {
  readonly servers: EntityStore<Server, ServerFilter>;
  readonly databases: EntityStore<ManagedDatabase, DatabaseFilter>;
  readonly backups: JobStore<Backup, BackupFilter>;
  readonly schedules: EntityStore<Schedule, ScheduleFilter>;
  readonly restores: JobStore<Restore, RestoreFilter>;
  readonly audit: Pick<EntityStore<AuditEntry, AuditFilter>, "create" | "get" | "list">;
  readonly settings: SettingsStore;
  readonly #backups: DynamoDbJobStore<Backup, BackupFilter>;

  constructor({ client, tableName }: { client?: DynamoDBClient; tableName: string }) {
    const doc = DynamoDBDocumentClient.from(client ?? new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.servers = new DynamoDbEntityStore(doc, tableName, serverSpec);
    this.databases = new DynamoDbEntityStore(doc, tableName, databaseSpec);
    this.#backups = new DynamoDbJobStore(doc, tableName, backupSpec);
    this.backups = this.#backups;
    this.schedules = new DynamoDbEntityStore(doc, tableName, scheduleSpec);
    this.restores = new DynamoDbJobStore(doc, tableName, restoreSpec);
    const audit = new DynamoDbEntityStore<AuditEntry, AuditFilter>(doc, tableName, auditSpec);
    // Append-only: only these three operations exist on the audit log.
    this.audit = {
      create: (entry) => audit.create(entry),
      get: (id) => audit.get(id),
      list: (filter, page) => audit.list(filter, page),
    };
    this.settings = new DynamoDbSettingsStore(doc, tableName);
  }

  /** Bulk load of backup records (see importMany): no conditions, no transitions, no audit. */
  async importBackups(backups: readonly Backup[]): Promise<void> {
    await this.#backups.importMany(backups);
  }
}
