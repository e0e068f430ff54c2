// File-backed metadata store for local mode: one JSON file per collection (servers.json,
// backups.json, ...) in a data directory, each `{ "items": [...] }` newest first, and settings.json
// holding the one settings document (absent until first saved).
//
// Every write replaces the file atomically (fs-durable.ts: temp file in the same directory, fsync,
// rename, fsync of the directory), so a reader sees the old or the new file, never a torn one.
// Mutations of a collection run one at a time under a lock on the file, held within this process
// and across processes (file-lock.ts), and re-read the file inside it, so two stores on one
// directory, in one process or in several (local mode's server and its task processes), never lose
// a write. Semantics match the DynamoDB adapter: same errors, same transition rules, newest first
// by id, an opaque cursor that resumes after the last id.
//
// Reads are answered from a snapshot of the file kept in memory (its items by id and newest first),
// valid while the file is the same one: the same inode, size, mtime and ctime, checked with one fstat
// per read. Any write, from this process or another, renames a new file into place, so the next read
// sees a different file and parses it again. Between writes a page costs its own items: a list walks
// the newest-first array from the cursor's position (a binary search) until the page is full,
// instead of parsing and sorting the whole collection (issue 7's benchmark: 100,000 backups). Writes
// never use the snapshot: they re-read the file under its lock, as before. Callers get copies, so
// nothing they do to an item can change the snapshot.
import type { BigIntStats } from "node:fs";
import { mkdir, open, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
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
import { assertTransition } from "#core/state-machine.ts";
import {
  applyPatch,
  checkLimit,
  checkTargetStatus,
  decodeCursor,
  encodeCursor,
  isId,
  newestFirst,
  rejectStatusPatch,
  validate,
} from "../metadata-rules.ts";
import { withFileLock } from "./file-lock.ts";
import { isErrno, writeFileAtomically } from "./fs-durable.ts";

type FilterValue = string | boolean;

interface CollectionSpec<T> {
  entity: string;
  file: string;
  schema: z.ZodType<T>;
  filterFields: readonly string[];
  /** Filter fields that only make sense together with another one. */
  requires?: Readonly<Record<string, string>>;
}

const specs = {
  servers: { entity: "server", file: "servers.json", schema: Server, filterFields: [] },
  databases: {
    entity: "database",
    file: "databases.json",
    schema: ManagedDatabase,
    filterFields: ["server_id", "name", "enabled"],
    requires: { name: "server_id" },
  },
  backups: {
    entity: "backup",
    file: "backups.json",
    schema: Backup,
    filterFields: ["server_id", "database", "status", "schedule_id"],
    requires: { database: "server_id" },
  },
  schedules: { entity: "schedule", file: "schedules.json", schema: Schedule, filterFields: ["enabled"] },
  restores: {
    entity: "restore",
    file: "restores.json",
    schema: Restore,
    filterFields: ["backup_id", "status", "target_server_id"],
  },
  audit: {
    entity: "audit entry",
    file: "audit.json",
    schema: AuditEntry,
    filterFields: ["actor", "target_type", "target_id"],
  },
} satisfies {
  servers: CollectionSpec<Server>;
  databases: CollectionSpec<ManagedDatabase>;
  backups: CollectionSpec<Backup>;
  schedules: CollectionSpec<Schedule>;
  restores: CollectionSpec<Restore>;
  audit: CollectionSpec<AuditEntry>;
};

// ---------------------------------------------------------------------------------------------
// The stores.
// ---------------------------------------------------------------------------------------------

/** The parsed JSON of a metadata file; undefined when the file does not exist. */
async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
  return parseMetadata(path, text);
}

function parseMetadata(path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`metadata file ${path} is not valid JSON`, { cause: error });
  }
}

const jsonText = (data: unknown) => `${JSON.stringify(data, null, 2)}\n`;

/** A collection file's items as of one version of the file. */
interface Snapshot<T> {
  /** Which version of the file: see fileIdentity. "" for none. */
  identity: string;
  byId: Map<string, T>;
  /** The same items, newest first (descending id). */
  newest: T[];
}

/**
 * Tells versions of a file apart: every write renames a new file into place, which brings a new inode
 * (the old one is still linked while the new file is written) with its own size and times.
 */
function fileIdentity(s: BigIntStats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

function snapshotOf<T extends { id: string }>(identity: string, byId: Map<string, T>): Snapshot<T> {
  return { identity, byId, newest: [...byId.values()].sort(newestFirst) };
}

function emptySnapshot<T extends { id: string }>(): Snapshot<T> {
  return { identity: "", byId: new Map(), newest: [] };
}

/** The index of the first item in `newest` (descending ids) whose id is below `id`. */
export function firstOlderThan(newest: readonly { id: string }[], id: string): number {
  let low = 0;
  let high = newest.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((newest[mid] as { id: string }).id >= id) low = mid + 1;
    else high = mid;
  }
  return low;
}

class FileEntityStore<T extends { id: string }, F> implements EntityStore<T, F> {
  protected readonly spec: CollectionSpec<T>;
  private readonly dir: string;
  private readonly path: string;
  private readonly ready: () => Promise<void>;
  private snapshot: Snapshot<T> | undefined;

  constructor(dir: string, spec: CollectionSpec<T>, ready: () => Promise<void>) {
    this.dir = dir;
    this.spec = spec;
    this.path = join(dir, spec.file);
    this.ready = ready;
  }

  async create(item: T): Promise<T> {
    const valid = validate(this.spec.schema, this.spec.entity, item);
    return await this.mutate((items) => {
      if (items.has(valid.id)) throw new ConflictError(`${this.spec.entity} ${valid.id} already exists`);
      items.set(valid.id, valid);
      return valid;
    });
  }

  async get(id: string): Promise<T | undefined> {
    if (!isId(id)) return undefined;
    const item = (await this.load()).byId.get(id);
    return item === undefined ? undefined : structuredClone(item);
  }

  async update(id: string, patch: Partial<Omit<T, "id">>): Promise<T> {
    if (Object.hasOwn(patch, "id")) throw new ValidationError("id", "cannot be changed");
    return await this.rewrite(id, (current) => applyPatch(current, patch));
  }

  /** Writes many items in one rewrite of the file, for bulk loads; an item whose id exists replaces it. */
  async importMany(items: readonly T[]): Promise<void> {
    const valid = items.map((item) => validate(this.spec.schema, this.spec.entity, item));
    await this.mutate((all) => {
      for (const item of valid) all.set(item.id, item);
    });
  }

  async delete(id: string): Promise<boolean> {
    if (!isId(id)) return false;
    return await this.mutate(
      (items) => items.delete(id),
      (deleted) => deleted,
    );
  }

  async list(filter: F, page: PageRequest): Promise<Page<T>> {
    const limit = checkLimit(page.limit);
    const given = this.filterValues(filter);
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, { e: this.spec.entity });
    const conditions = Object.entries(given);
    const matches = (item: T) => {
      const fields = item as unknown as Record<string, unknown>;
      return conditions.every(([field, value]) => fields[field] === value);
    };
    const { newest } = await this.load();
    const items: T[] = [];
    let more = false;
    for (let i = after === undefined ? 0 : firstOlderThan(newest, after); i < newest.length; i++) {
      const item = newest[i] as T;
      if (!matches(item)) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(structuredClone(item));
    }
    const last = items.at(-1);
    return {
      items,
      next_cursor: more && last ? encodeCursor({ e: this.spec.entity }, last.id) : null,
    };
  }

  /** Replaces the item with `compute(current)` inside the collection's queue. */
  protected async rewrite(id: string, compute: (current: T) => unknown): Promise<T> {
    if (!isId(id)) throw new NotFoundError(this.spec.entity, String(id));
    return await this.mutate((items) => {
      const current = items.get(id);
      if (!current) throw new NotFoundError(this.spec.entity, id);
      const next = validate(this.spec.schema, this.spec.entity, compute(current));
      items.set(id, next);
      return next;
    });
  }

  /** Runs `change` on a fresh read of the file, in the file's queue, and writes the result. */
  private async mutate<R>(
    change: (items: Map<string, T>) => R,
    changed: (result: R) => boolean = () => true,
  ): Promise<R> {
    await this.ready();
    return await withFileLock(this.path, async () => {
      // Always the file as it is now, never the snapshot: a write must not build on a stale copy.
      // (The identity check could in theory be fooled: a freed inode reused within one tick of the
      // file system's clock, at the same size. A stale read then shows an old page; a stale write
      // would lose another process's change.) A copy of the map: the snapshot stays as the file is
      // until the new file is in place.
      const items = new Map((await this.load({ fresh: true })).byId);
      const result = change(items);
      if (changed(result)) await this.save(items);
      return typeof result === "object" && result !== null ? structuredClone(result) : result;
    });
  }

  /** The file's items, from the snapshot while the file is unchanged (unless `fresh`), else read anew. */
  private async load({ fresh = false } = {}): Promise<Snapshot<T>> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.path, "r");
    } catch (error) {
      if (isErrno(error, "ENOENT")) return emptySnapshot();
      throw error;
    }
    try {
      // Identity and contents come from the same open file, so they cannot belong to two versions.
      const identity = fileIdentity(await handle.stat({ bigint: true }));
      if (!fresh && this.snapshot?.identity === identity) return this.snapshot;
      const data = parseMetadata(this.path, await handle.readFile("utf8"));
      const items = (data as { items?: unknown } | null)?.items;
      if (!Array.isArray(items)) throw new Error(`metadata file ${this.path} has no items array`);
      this.snapshot = snapshotOf(identity, new Map((items as T[]).map((item) => [item.id, item])));
      return this.snapshot;
    } finally {
      await handle.close();
    }
  }

  private async save(items: Map<string, T>): Promise<void> {
    const next = snapshotOf("", items);
    await writeFileAtomically(join(this.dir, this.spec.file), jsonText({ items: next.newest }));
    // Under the file's lock no other writer can have replaced it since the rename.
    this.snapshot = { ...next, identity: fileIdentity(await stat(this.path, { bigint: true })) };
  }

  private filterValues(filter: F): Record<string, FilterValue> {
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
    return given;
  }
}

/** The one settings document, in settings.json. */
class FileSettingsStore implements SettingsStore {
  private static readonly file = "settings.json";
  private readonly dir: string;
  private readonly path: string;
  private readonly ready: () => Promise<void>;

  constructor(dir: string, ready: () => Promise<void>) {
    this.dir = dir;
    this.path = join(dir, FileSettingsStore.file);
    this.ready = ready;
  }

  async get(): Promise<Settings | undefined> {
    const data = await readJson(this.path);
    if (data === undefined) return undefined;
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      throw new Error(`metadata file ${this.path} does not hold a settings object`);
    }
    return data as Settings;
  }

  async put(settings: Settings): Promise<Settings> {
    const valid = validate(Settings, "settings", settings);
    await this.ready();
    // Under the file's lock like every collection write, so writers in several processes take turns.
    await withFileLock(this.path, () =>
      writeFileAtomically(join(this.dir, FileSettingsStore.file), jsonText(valid)),
    );
    return valid;
  }
}

class FileJobStore<T extends { id: string; status: JobStatus }, F>
  extends FileEntityStore<T, F>
  implements JobStore<T, F>
{
  override async update(id: string, patch: Partial<Omit<T, "id">>): Promise<T> {
    rejectStatusPatch(this.spec.entity, id, patch);
    return await super.update(id, patch);
  }

  async transition(id: string, to: JobStatus, patch: Partial<Omit<T, "id" | "status">> = {}): Promise<T> {
    checkTargetStatus(to);
    return await this.rewrite(id, (current) => {
      assertTransition(this.spec.entity, id, current.status, to);
      return { ...applyPatch(current, patch), status: to };
    });
  }
}

export class FileMetadataStore implements MetadataStore {
  readonly servers: EntityStore<Server, ServerFilter>;
  readonly databases: EntityStore<ManagedDatabase, DatabaseFilter>;
  readonly backups: JobStore<Backup, BackupFilter>;
  readonly schedules: EntityStore<Schedule, ScheduleFilter>;
  readonly restores: JobStore<Restore, RestoreFilter>;
  readonly audit: Pick<EntityStore<AuditEntry, AuditFilter>, "create" | "get" | "list">;
  readonly settings: SettingsStore;
  readonly #backups: FileJobStore<Backup, BackupFilter>;

  constructor({ dir }: { dir: string }) {
    const root = resolve(dir);
    let made: Promise<void> | undefined;
    const ready = () => {
      made ??= mkdir(root, { recursive: true, mode: 0o700 }).then(
        () => undefined,
        (error: unknown) => {
          made = undefined;
          throw error;
        },
      );
      return made;
    };
    this.servers = new FileEntityStore(root, specs.servers, ready);
    this.databases = new FileEntityStore(root, specs.databases, ready);
    this.#backups = new FileJobStore(root, specs.backups, ready);
    this.backups = this.#backups;
    this.schedules = new FileEntityStore(root, specs.schedules, ready);
    this.restores = new FileJobStore(root, specs.restores, ready);
    const audit = new FileEntityStore<AuditEntry, AuditFilter>(root, specs.audit, ready);
    // Append-only: only these three operations exist on the audit log.
    this.audit = {
      create: (entry) => audit.create(entry),
      get: (id) => audit.get(id),
      list: (filter, page) => audit.list(filter, page),
    };
    this.settings = new FileSettingsStore(root, ready);
  }

  /** Bulk load of backup records (see importMany): no conditions, no transitions, no audit. */
  async importBackups(backups: readonly Backup[]): Promise<void> {
    await this.#backups.importMany(backups);
  }
}
