// Local mode's metadata store on SQLite (sqlite-database.ts): a table per collection of entitySpecs,
// each row the item's JSON (`doc`) under its id, with a write counter (`version`), and each of the
// spec's filter fields as a virtual column over the JSON with an index (field, id); the fields a
// spec requires together (database needs server_id) get one index over both. A new collection or
// filter field in entitySpecs gets its table, column and index on the next open.
//
// - insert: INSERT ... ON CONFLICT DO NOTHING; replace: in one IMMEDIATE transaction, read, compute,
//   then UPDATE ... WHERE id = ? AND version = ? (and the status among `onlyFrom` for a transition),
//   so two writers can never both win, whatever process they are in.
// - page: the index walked newest first (ORDER BY id DESC) after the cursor's id, limit + 1 rows.
//   Any index answers from any id, so cursors carry no index (cursorScope is empty).
// - settings: one row of the settings table.
// - counters (core/backup-counters.ts): a row per counter document (`counters`: key, JSON fields),
//   changed by each insert, replace and remove of a backup in the same transaction as the backup's
//   own write, so they cannot disagree with the rows they count.
//
// The checks, errors and cursors are the shared rules (metadata-collections.ts over
// metadata-rules.ts); this file is only the storage.
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import {
  applyDelta,
  type CounterDelta,
  type CounterFields,
  type CounterKey,
  counterDelta,
} from "#core/backup-counters.ts";
import type { Backup, JobStatus, Settings } from "#core/entities.ts";
import { ConflictError, NotFoundError } from "#core/errors.ts";
import {
  CheckedMetadataStore,
  type CollectionStorage,
  type CounterStorage,
  type SettingsStorage,
} from "../metadata-collections.ts";
import { type CheckedFilter, type EntitySpec, entitySpecs } from "../metadata-rules.ts";
import { ident, type LocalDatabase } from "./sqlite-database.ts";

/** The table of a collection. */
export const collectionTable = (spec: EntitySpec<unknown>) => ident(`c_${spec.collection}`);
const filterColumn = (field: string) => ident(`f_${field}`);

/** The SQL value a filter compares with: JSON booleans come out of json_extract as 1 and 0. */
const filterValue = (value: string | boolean): SQLInputValue =>
  typeof value === "boolean" ? (value ? 1 : 0) : value;

/** Creates what the specs need and is missing: tables, filter columns, their indexes. */
export function createMetadataSchema(db: DatabaseSync): void {
  db.exec("CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL)");
  db.exec("CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL)");
  for (const spec of Object.values(entitySpecs) as EntitySpec<unknown>[]) {
    const table = collectionTable(spec);
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (id TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, doc TEXT NOT NULL)`,
    );
    const columns = new Set(
      db
        .prepare(`SELECT name FROM pragma_table_xinfo('c_${spec.collection}')`)
        .all()
        .map((row) => String(row.name)),
    );
    for (const field of spec.filterFields) {
      if (!columns.has(`f_${field}`)) {
        // A JSON path of a plain field name; filter fields are identifiers (entitySpecs).
        db.exec(
          `ALTER TABLE ${table} ADD COLUMN ${filterColumn(field)} GENERATED ALWAYS AS (json_extract(doc, '$.${field}')) VIRTUAL`,
        );
      }
      db.exec(
        `CREATE INDEX IF NOT EXISTS ${ident(`i_${spec.collection}_${field}`)} ON ${table} (${filterColumn(field)}, id)`,
      );
    }
    for (const [field, needed] of Object.entries(spec.requires ?? {})) {
      db.exec(
        `CREATE INDEX IF NOT EXISTS ${ident(`i_${spec.collection}_${needed}_${field}`)} ON ${table} (${filterColumn(needed)}, ${filterColumn(field)}, id)`,
      );
    }
  }
}

/** The document text of an item as stored. */
export const documentText = (item: unknown) => JSON.stringify(item);

class SqliteCollection<T extends { id: string }> implements CollectionStorage<T> {
  readonly #spec: EntitySpec<T>;
  readonly #database: LocalDatabase;
  readonly #table: string;

  constructor(database: LocalDatabase, spec: EntitySpec<T>) {
    this.#spec = spec;
    this.#database = database;
    this.#table = collectionTable(spec);
  }

  /** Backups carry counters: each of their writes adds its delta in the same transaction. */
  get #counted(): boolean {
    return this.#spec.collection === "backups";
  }

  #count(db: DatabaseSync, before: T | undefined, after: T | undefined): void {
    if (this.#counted) {
      addCounters(
        this.#database,
        db,
        counterDelta(before as Backup | undefined, after as Backup | undefined),
      );
    }
  }

  async insert(item: T): Promise<boolean> {
    return this.#database.write((db) => {
      const inserted =
        this.#database.run(
          db,
          `INSERT INTO ${this.#table} (id, version, doc) VALUES (?, 1, ?) ON CONFLICT (id) DO NOTHING`,
          item.id,
          documentText(item),
        ).changes === 1;
      if (inserted) this.#count(db, undefined, item);
      return inserted;
    });
  }

  async read(id: string): Promise<T | undefined> {
    return this.#database.read((db) => {
      const row = this.#database.statement(db, `SELECT doc FROM ${this.#table} WHERE id = ?`).get(id);
      return row === undefined ? undefined : (JSON.parse(String(row.doc)) as T);
    });
  }

  async replace(id: string, compute: (current: T) => T, onlyFrom?: readonly JobStatus[]): Promise<T> {
    return this.#database.write((db) => {
      const row = this.#database
        .statement(db, `SELECT version, doc FROM ${this.#table} WHERE id = ?`)
        .get(id);
      if (row === undefined) throw new NotFoundError(this.#spec.entity, id);
      const next = compute(JSON.parse(String(row.doc)) as T);
      // Inside the IMMEDIATE transaction nobody else can write, so the condition holds; it is what
      // keeps the rule if this code ever runs outside one.
      const statuses = onlyFrom ?? [];
      const condition =
        statuses.length === 0
          ? ""
          : ` AND json_extract(doc, '$.status') IN (${statuses.map(() => "?").join(", ")})`;
      const { changes } = this.#database.run(
        db,
        `UPDATE ${this.#table} SET doc = ?, version = version + 1 WHERE id = ? AND version = ?${condition}`,
        documentText(next),
        id,
        row.version as number,
        ...statuses,
      );
      if (changes !== 1) throw new ConflictError(`${this.#spec.entity} ${id} changed meanwhile: try again`);
      this.#count(db, JSON.parse(String(row.doc)) as T, next);
      return next;
    });
  }

  async remove(id: string): Promise<boolean> {
    return this.#database.write((db) => {
      const row = this.#counted
        ? this.#database.statement(db, `SELECT doc FROM ${this.#table} WHERE id = ?`).get(id)
        : undefined;
      const removed = this.#database.run(db, `DELETE FROM ${this.#table} WHERE id = ?`, id).changes === 1;
      if (removed && row) this.#count(db, JSON.parse(String(row.doc)) as T, undefined);
      return removed;
    });
  }

  cursorScope(): Record<string, string> {
    return {};
  }

  async page(
    filter: CheckedFilter,
    limit: number,
    after: string | undefined,
  ): Promise<{ items: T[]; more: boolean }> {
    const fields = Object.keys(filter).sort();
    const conditions = fields.map((field) => `${filterColumn(field)} = ?`);
    const params: SQLInputValue[] = fields.map((field) => filterValue(filter[field] as string | boolean));
    if (after !== undefined) {
      conditions.push("id < ?");
      params.push(after);
    }
    const where = conditions.length > 0 ? ` WHERE ${conditions.join(" AND ")}` : "";
    const sql = `SELECT doc FROM ${this.#table}${where} ORDER BY id DESC LIMIT ?`;
    const rows = this.#database.read((db) => this.#database.statement(db, sql).all(...params, limit + 1));
    const items = rows.slice(0, limit).map((row) => JSON.parse(String(row.doc)) as T);
    return { items, more: rows.length > limit };
  }
}

class SqliteSettings implements SettingsStorage {
  readonly #database: LocalDatabase;

  constructor(database: LocalDatabase) {
    this.#database = database;
  }

  async read(): Promise<Settings | undefined> {
    return this.#database.read((db) => {
      const row = this.#database.statement(db, "SELECT doc FROM settings WHERE key = 'settings'").get();
      return row === undefined ? undefined : (JSON.parse(String(row.doc)) as Settings);
    });
  }

  async write(settings: Settings): Promise<void> {
    this.#database.write((db) =>
      this.#database.run(
        db,
        "INSERT INTO settings (key, doc) VALUES ('settings', ?) ON CONFLICT (key) DO UPDATE SET doc = excluded.doc",
        documentText(settings),
      ),
    );
  }
}

/** Adds `delta` to the counter rows, inside the caller's write transaction. */
export function addCounters(database: LocalDatabase, db: DatabaseSync, delta: CounterDelta): void {
  if (delta.size === 0) return;
  const select = database.statement(db, "SELECT doc FROM counters WHERE key = ?");
  for (const [key, fields] of delta) {
    const row = select.get(key);
    const current = new Map<CounterKey, CounterFields>([
      [key, row === undefined ? {} : (JSON.parse(String(row.doc)) as CounterFields)],
    ]);
    applyDelta(current, new Map([[key, fields]]));
    const next = current.get(key);
    if (next === undefined) database.run(db, "DELETE FROM counters WHERE key = ?", key);
    else
      database.run(
        db,
        "INSERT INTO counters (key, doc) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET doc = excluded.doc",
        key,
        JSON.stringify(next),
      );
  }
}

/** Replaces every counter row, inside the caller's write transaction (a rebuild, the JSON migration). */
export function replaceCounterRows(db: DatabaseSync, counters: Map<CounterKey, CounterFields>): void {
  db.prepare("DELETE FROM counters").run();
  const insert = db.prepare("INSERT INTO counters (key, doc) VALUES (?, ?)");
  for (const [key, fields] of counters) insert.run(key, JSON.stringify(fields));
}

class SqliteCounters implements CounterStorage {
  readonly #database: LocalDatabase;

  constructor(database: LocalDatabase) {
    this.#database = database;
  }

  async read(keys: readonly CounterKey[]): Promise<Map<CounterKey, CounterFields>> {
    return this.#database.read((db) => {
      const select = this.#database.statement(db, "SELECT doc FROM counters WHERE key = ?");
      const result = new Map<CounterKey, CounterFields>();
      for (const key of new Set(keys)) {
        const row = select.get(key);
        if (row !== undefined) result.set(key, JSON.parse(String(row.doc)) as CounterFields);
      }
      return result;
    });
  }

  async replaceAll(counters: Map<CounterKey, CounterFields>): Promise<void> {
    this.#database.write((db) => replaceCounterRows(db, counters));
  }
}

/** The metadata store in a local database (local-data-dir.ts opens one with every schema in place). */
export class SqliteMetadataStore extends CheckedMetadataStore {
  readonly database: LocalDatabase;

  constructor({ database }: { database: LocalDatabase }) {
    super(
      (spec) => new SqliteCollection(database, spec),
      new SqliteSettings(database),
      new SqliteCounters(database),
    );
    this.database = database;
  }
}
