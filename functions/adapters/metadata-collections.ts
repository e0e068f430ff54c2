// The MetadataStore every adapter returns: the shared rules (metadata-rules.ts) applied over the
// adapter's storage. An adapter supplies only storage, one CollectionStorage per entity spec (insert,
// read, replace, remove, page) and a SettingsStorage; the checks of ids, limits, filters, schemas,
// patches and transitions, their errors and the cursors live here once, so a new store (SQLite for
// local mode) cannot answer differently from the others.

import { type CounterFields, type CounterKey, countersOf } from "#core/backup-counters.ts";
import {
  type AuditEntry,
  type Backup,
  type Drill,
  type JobStatus,
  type ManagedDatabase,
  type Restore,
  type Schedule,
  type Server,
  Settings,
} from "#core/entities.ts";
import { ConflictError, NotFoundError, ValidationError } from "#core/errors.ts";
import type {
  AuditFilter,
  BackupCounters,
  BackupFilter,
  DatabaseFilter,
  DrillFilter,
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
import { assertTransition, statusesAllowedBefore } from "#core/state-machine.ts";
import {
  applyPatch,
  type CheckedFilter,
  checkFilter,
  checkLimit,
  checkTargetStatus,
  decodeCursor,
  type EntitySpec,
  encodeCursor,
  entitySpecs,
  isId,
  rejectStatusPatch,
  validate,
} from "./metadata-rules.ts";

/** Where one collection's items live. Ids passed in are valid ids; items passed in are valid. */
export interface CollectionStorage<T extends { id: string }> {
  /** Stores a new item; false, with nothing written, when an item with its id exists. */
  insert(item: T): Promise<boolean>;
  read(id: string): Promise<T | undefined>;
  /**
   * Replaces the item with `compute(current)` so that no other write between the read and the write
   * is lost; NotFoundError when there is none. `compute` validates and may throw to refuse; it may run
   * again on a fresh read after a lost race. `onlyFrom` (transitions): the statuses the stored item
   * may still have at the write; a storage that re-reads under a lock may rely on `compute`'s check.
   */
  replace(id: string, compute: (current: T) => T, onlyFrom?: readonly JobStatus[]): Promise<T>;
  /** Whether an item was there to delete. */
  remove(id: string): Promise<boolean>;
  /** What a cursor of this filter's list must carry besides the entity (e.g. the index it walks). */
  cursorScope(filter: CheckedFilter): Record<string, string>;
  /** Up to `limit` matching items, newest first, after the id `after`; `more` when others follow. */
  page(
    filter: CheckedFilter,
    limit: number,
    after: string | undefined,
  ): Promise<{ items: T[]; more: boolean }>;
}

/** Where the one settings document lives; `write` gets a valid document. */
export interface SettingsStorage {
  read(): Promise<Settings | undefined>;
  write(settings: Settings): Promise<void>;
}

/**
 * Where the backup counters live. A storage of the backups collection applies
 * `counterDelta(before, after)` of each insert, replace and remove in the same write; this reads them
 * and replaces them whole for a rebuild.
 */
export interface CounterStorage {
  read(keys: readonly CounterKey[]): Promise<Map<CounterKey, CounterFields>>;
  /** Replaces every counter document with `counters`; documents not in it are removed. */
  replaceAll(counters: Map<CounterKey, CounterFields>): Promise<void>;
}

/** Opens a collection's storage for a spec of the shared table. */
export type OpenCollection = <T extends { id: string }>(spec: EntitySpec<T>) => CollectionStorage<T>;

class CheckedEntityStore<T extends { id: string }, F> implements EntityStore<T, F> {
  protected readonly spec: EntitySpec<T>;
  protected readonly storage: CollectionStorage<T>;

  constructor(spec: EntitySpec<T>, storage: CollectionStorage<T>) {
    this.spec = spec;
    this.storage = storage;
  }

  async create(item: T): Promise<T> {
    const valid = validate(this.spec.schema, this.spec.entity, item);
    if (!(await this.storage.insert(valid))) {
      throw new ConflictError(`${this.spec.entity} ${valid.id} already exists`);
    }
    return valid;
  }

  async get(id: string): Promise<T | undefined> {
    return isId(id) ? await this.storage.read(id) : undefined;
  }

  async update(id: string, patch: Partial<Omit<T, "id">>): Promise<T> {
    if (Object.hasOwn(patch, "id")) throw new ValidationError("id", "cannot be changed");
    return await this.replace(id, (current) => applyPatch(current, patch));
  }

  async delete(id: string): Promise<boolean> {
    return isId(id) ? await this.storage.remove(id) : false;
  }

  async list(filter: F, page: PageRequest): Promise<Page<T>> {
    const limit = checkLimit(page.limit);
    const given = checkFilter(this.spec, filter as object);
    const scope = { e: this.spec.entity, ...this.storage.cursorScope(given) };
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, scope);
    const { items, more } = await this.storage.page(given, limit, after);
    const last = items.at(-1);
    return { items, next_cursor: more && last ? encodeCursor(scope, last.id) : null };
  }

  /** Replaces the item with the valid result of `compute`; NotFoundError for an id that cannot exist. */
  protected async replace(
    id: string,
    compute: (current: T) => unknown,
    onlyFrom?: readonly JobStatus[],
  ): Promise<T> {
    if (!isId(id)) throw new NotFoundError(this.spec.entity, String(id));
    return await this.storage.replace(
      id,
      (current) => validate(this.spec.schema, this.spec.entity, compute(current)),
      onlyFrom,
    );
  }
}

class CheckedJobStore<T extends { id: string; status: JobStatus }, F>
  extends CheckedEntityStore<T, F>
  implements JobStore<T, F>
{
  override async update(id: string, patch: Partial<Omit<T, "id">>): Promise<T> {
    rejectStatusPatch(this.spec.entity, id, patch);
    return await super.update(id, patch);
  }

  async transition(id: string, to: JobStatus, patch: Partial<Omit<T, "id" | "status">> = {}): Promise<T> {
    checkTargetStatus(to);
    return await this.replace(
      id,
      (current) => {
        assertTransition(this.spec.entity, id, current.status, to);
        return { ...applyPatch(current, patch), status: to };
      },
      statusesAllowedBefore(to),
    );
  }
}

class CheckedSettingsStore implements SettingsStore {
  readonly #storage: SettingsStorage;

  constructor(storage: SettingsStorage) {
    this.#storage = storage;
  }

  async get(): Promise<Settings | undefined> {
    return await this.#storage.read();
  }

  async put(settings: Settings): Promise<Settings> {
    const valid = validate(Settings, "settings", settings);
    await this.#storage.write(valid);
    return valid;
  }
}

// The spec's `job` flag picks the store: a job entity cannot get a store whose update moves its status.
function entityStore<T extends { id: string }, F>(
  spec: EntitySpec<T> & { job: false },
  open: OpenCollection,
): CheckedEntityStore<T, F> {
  return new CheckedEntityStore(spec, open(spec));
}

function jobStore<T extends { id: string; status: JobStatus }, F>(
  spec: EntitySpec<T> & { job: true },
  open: OpenCollection,
): CheckedJobStore<T, F> {
  return new CheckedJobStore(spec, open(spec));
}

/**
 * The MetadataStore over an adapter's storage: every collection of `entitySpecs`, and the settings.
 * An adapter's store extends it and passes its storage to the constructor.
 */
export class CheckedMetadataStore implements MetadataStore {
  readonly servers: EntityStore<Server, ServerFilter>;
  readonly databases: EntityStore<ManagedDatabase, DatabaseFilter>;
  readonly backups: JobStore<Backup, BackupFilter>;
  readonly schedules: EntityStore<Schedule, ScheduleFilter>;
  readonly restores: JobStore<Restore, RestoreFilter>;
  readonly drills: JobStore<Drill, DrillFilter>;
  readonly counters: BackupCounters;
  readonly audit: Pick<EntityStore<AuditEntry, AuditFilter>, "create" | "get" | "list">;
  readonly settings: SettingsStore;

  constructor(open: OpenCollection, settings: SettingsStorage, counters: CounterStorage) {
    this.servers = entityStore(entitySpecs.servers, open);
    this.databases = entityStore(entitySpecs.databases, open);
    this.backups = jobStore(entitySpecs.backups, open);
    this.schedules = entityStore(entitySpecs.schedules, open);
    this.restores = jobStore(entitySpecs.restores, open);
    this.drills = jobStore(entitySpecs.drills, open);
    const audit = entityStore<AuditEntry, AuditFilter>(entitySpecs.audit, open);
    // Append-only: only these three operations exist on the audit log.
    this.audit = {
      create: (entry) => audit.create(entry),
      get: (id) => audit.get(id),
      list: (filter, page) => audit.list(filter, page),
    };
    this.settings = new CheckedSettingsStore(settings);
    const backups = this.backups;
    this.counters = {
      read: (keys) => counters.read(keys),
      rebuild: async () => {
        const all: Backup[] = [];
        let cursor: string | undefined;
        do {
          const page = await backups.list({}, { limit: 100, cursor });
          all.push(...page.items);
          cursor = page.next_cursor ?? undefined;
        } while (cursor);
        const counted = countersOf(all);
        await counters.replaceAll(counted);
        return { backups: all.length, documents: counted.size };
      },
    };
  }
}
