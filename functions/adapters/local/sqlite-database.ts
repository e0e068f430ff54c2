// Local mode's database: one SQLite file in the data directory (DATA_DIR/metadata.sqlite), shared by
// local mode's server and its task processes, through Node's built-in node:sqlite (no native build).
// The metadata store, the secret store and the server's claim on the data dir all live in it.
//
// - WAL: readers never wait for the writer, and the server and its tasks write the same file; a
//   writer waits up to `busy_timeout` for another process's write to finish. Writes are short (one
//   item), so the wait is short too; it blocks this process's event loop while it lasts (the API is
//   synchronous), which is why the timeout is seconds, not minutes.
// - synchronous=FULL: every acknowledged commit is on disk (one fsync of the WAL per commit), as the
//   JSON files were. NORMAL would survive a killed process too (the WAL is in the OS cache), but a
//   power cut could lose the last commits; the metadata records which archives exist, so FULL.
// - Every write is one transaction begun IMMEDIATE (the write lock up front), so a read-compute-write
//   inside it cannot interleave with another process's write.
//
// Any SQLite or file-system failure that means "the data dir cannot take this" (disk full, read-only,
// cannot open, damaged) becomes a StorageUnavailableError naming the file (HTTP 503 at the request
// that hit it); the transaction is rolled back, so nothing is half written.
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { StorageUnavailableError } from "#core/errors.ts";
import { loadSqlite } from "./sqlite-module.ts";

/** The database file's name in the data directory. */
export const databaseFileName = "metadata.sqlite";

/** How long a write waits for another process's write to finish. */
const BUSY_TIMEOUT_MS = 5_000;

/** Primary result codes (https://sqlite.org/rescode.html) and what they mean for the data dir. */
const sqliteCauses: Record<number, string> = {
  3: "permission denied",
  5: "busy: another process held the write lock too long",
  8: "read-only: the data dir or the database file cannot be written",
  10: "I/O error",
  11: "the database file is damaged",
  13: "disk full",
  14: "the database file cannot be opened",
  26: "not a database file",
};

const fsCauses: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "read-only file system",
  ENOSPC: "disk full",
  EDQUOT: "disk quota exceeded",
  EIO: "I/O error",
};

/** A StorageUnavailableError for an error that means the file cannot be used; undefined otherwise. */
export function storageFailure(file: string, error: unknown): StorageUnavailableError | undefined {
  if (error instanceof StorageUnavailableError) return error;
  if (!(error instanceof Error)) return undefined;
  const { errcode, code } = error as Error & { errcode?: number; code?: string };
  let cause: string | undefined;
  if (code === "ERR_SQLITE_ERROR" && typeof errcode === "number") cause = sqliteCauses[errcode & 0xff];
  else if (code !== undefined) cause = fsCauses[code];
  if (cause === undefined) return undefined;
  return new StorageUnavailableError(`local data dir ${dirname(file)}: ${cause} (${file})`, {
    cause: error,
  });
}

export interface LocalDatabaseOptions {
  /** The database file; its directory is created (0700) when missing. */
  file: string;
  /**
   * Runs once per open, inside the opening transaction, after the schema is in place (the metadata
   * store's tables, the migration of an older data dir). May run again on a later open.
   */
  prepare?: ReadonlyArray<(db: DatabaseSync) => void>;
  /** Runs once per open after that transaction committed (renames that must follow the commit). */
  afterOpen?: ReadonlyArray<(db: DatabaseSync) => void>;
  /** Caps the file at this many pages (`PRAGMA max_page_count`); tests reach "disk full" with it. */
  maxPageCount?: number;
}

/** The statements each part prepares once per connection. */
type StatementCache = Map<string, StatementSync>;

/**
 * One connection to the database file, opened on first use (so composing local mode touches no
 * disk), and opened again on the next use after a failed open (a data dir fixed by the operator).
 */
export class LocalDatabase {
  readonly file: string;
  readonly #prepare: ReadonlyArray<(db: DatabaseSync) => void>;
  readonly #afterOpen: ReadonlyArray<(db: DatabaseSync) => void>;
  readonly #maxPageCount: number | undefined;
  #db: DatabaseSync | undefined;
  readonly #statements: StatementCache = new Map();

  constructor({ file, prepare = [], afterOpen = [], maxPageCount }: LocalDatabaseOptions) {
    this.file = resolve(file);
    this.#prepare = prepare;
    this.#afterOpen = afterOpen;
    this.#maxPageCount = maxPageCount;
  }

  /** Runs `work` in one write transaction (BEGIN IMMEDIATE ... COMMIT); rolled back if it throws. */
  write<R>(work: (db: DatabaseSync) => R): R {
    return this.#guard(() => {
      const db = this.#open();
      return inTransaction(db, () => work(db));
    });
  }

  /** Runs `work` outside a write transaction (a read sees the last commit). */
  read<R>(work: (db: DatabaseSync) => R): R {
    return this.#guard(() => work(this.#open()));
  }

  /** A statement prepared once per connection. */
  statement(db: DatabaseSync, sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs one statement with its parameters. */
  run(db: DatabaseSync, sql: string, ...params: SQLInputValue[]) {
    return this.statement(db, sql).run(...params);
  }

  close(): void {
    this.#statements.clear();
    this.#db?.close();
    this.#db = undefined;
  }

  #guard<R>(work: () => R): R {
    try {
      return work();
    } catch (error) {
      throw storageFailure(this.file, error) ?? error;
    }
  }

  #open(): DatabaseSync {
    if (this.#db) return this.#db;
    const { DatabaseSync } = loadSqlite();
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    // Created 0600 before SQLite sees it: SQLite gives its -wal and -shm files the file's mode.
    closeSync(openSync(this.file, "a", 0o600));
    const db = new DatabaseSync(this.file, { timeout: BUSY_TIMEOUT_MS });
    try {
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      if (this.#maxPageCount !== undefined) db.exec(`PRAGMA max_page_count = ${this.#maxPageCount}`);
      inTransaction(db, () => {
        for (const step of this.#prepare) step(db);
      });
      for (const step of this.#afterOpen) step(db);
    } catch (error) {
      db.close();
      throw error;
    }
    this.#db = db;
    return db;
  }
}

function inTransaction<R>(db: DatabaseSync, work: () => R): R {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    // A failed COMMIT (disk full) may already have rolled back; then there is nothing to undo.
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/** A quoted SQL identifier. */
export const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
