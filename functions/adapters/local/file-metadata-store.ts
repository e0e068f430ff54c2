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
//
// The checks, errors and cursors are the shared rules (metadata-collections.ts over
// metadata-rules.ts); this file is only the storage: files, snapshots and locks.
import type { BigIntStats } from "node:fs";
import { mkdir, open, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Settings } from "#core/entities.ts";
import { NotFoundError } from "#core/errors.ts";
import {
  CheckedMetadataStore,
  type CollectionStorage,
  type SettingsStorage,
} from "../metadata-collections.ts";
import { type CheckedFilter, type EntitySpec, newestFirst } from "../metadata-rules.ts";
import { withFileLock } from "./file-lock.ts";
import { isErrno, writeFileAtomically } from "./fs-durable.ts";

/** The file of a collection in the data directory: `<collection>.json`. */
export const collectionFile = (spec: EntitySpec<unknown>) => `${spec.collection}.json`;

/** The text of a collection file: `{ "items": [...] }`, newest first. */
export function collectionFileText<T extends { id: string }>(items: Iterable<T>): string {
  return jsonText({ items: [...items].sort(newestFirst) });
}

/** The items of a collection file's text, unchecked (they were valid when written). */
export function parseCollectionFile<T extends { id: string }>(path: string, text: string): T[] {
  const data = parseMetadata(path, text);
  const items = (data as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) throw new Error(`metadata file ${path} has no items array`);
  return items as T[];
}

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

class FileCollection<T extends { id: string }> implements CollectionStorage<T> {
  private readonly spec: EntitySpec<T>;
  private readonly path: string;
  private readonly ready: () => Promise<void>;
  private snapshot: Snapshot<T> | undefined;

  constructor(dir: string, spec: EntitySpec<T>, ready: () => Promise<void>) {
    this.spec = spec;
    this.path = join(dir, collectionFile(spec));
    this.ready = ready;
  }

  async insert(item: T): Promise<boolean> {
    return await this.mutate(
      (items) => {
        if (items.has(item.id)) return false;
        // A copy: the caller keeps `item`, and the snapshot must not change with it.
        items.set(item.id, structuredClone(item));
        return true;
      },
      (inserted) => inserted,
    );
  }

  async read(id: string): Promise<T | undefined> {
    const item = (await this.load()).byId.get(id);
    return item === undefined ? undefined : structuredClone(item);
  }

  async remove(id: string): Promise<boolean> {
    return await this.mutate(
      (items) => items.delete(id),
      (deleted) => deleted,
    );
  }

  cursorScope(): Record<string, string> {
    return {};
  }

  async page(
    filter: CheckedFilter,
    limit: number,
    after: string | undefined,
  ): Promise<{ items: T[]; more: boolean }> {
    const conditions = Object.entries(filter);
    const matches = (item: T) => {
      const fields = item as unknown as Record<string, unknown>;
      return conditions.every(([field, value]) => fields[field] === value);
    };
    const { newest } = await this.load();
    const items: T[] = [];
    for (let i = after === undefined ? 0 : firstOlderThan(newest, after); i < newest.length; i++) {
      const item = newest[i] as T;
      if (!matches(item)) continue;
      if (items.length === limit) return { items, more: true };
      items.push(structuredClone(item));
    }
    return { items, more: false };
  }

  /** Under the file's lock every write is serialised, so `compute`'s own status check suffices. */
  async replace(id: string, compute: (current: T) => T): Promise<T> {
    return await this.mutate((items) => {
      const current = items.get(id);
      if (!current) throw new NotFoundError(this.spec.entity, id);
      const next = compute(current);
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
      const items = parseCollectionFile<T>(this.path, await handle.readFile("utf8"));
      this.snapshot = snapshotOf(identity, new Map(items.map((item) => [item.id, item])));
      return this.snapshot;
    } finally {
      await handle.close();
    }
  }

  private async save(items: Map<string, T>): Promise<void> {
    const next = snapshotOf("", items);
    await writeFileAtomically(this.path, jsonText({ items: next.newest }));
    // Under the file's lock no other writer can have replaced it since the rename.
    this.snapshot = { ...next, identity: fileIdentity(await stat(this.path, { bigint: true })) };
  }
}

/** The one settings document, in settings.json. */
class FileSettings implements SettingsStorage {
  private readonly path: string;
  private readonly ready: () => Promise<void>;

  constructor(dir: string, ready: () => Promise<void>) {
    this.path = join(dir, "settings.json");
    this.ready = ready;
  }

  async read(): Promise<Settings | undefined> {
    const data = await readJson(this.path);
    if (data === undefined) return undefined;
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      throw new Error(`metadata file ${this.path} does not hold a settings object`);
    }
    return data as Settings;
  }

  async write(settings: Settings): Promise<void> {
    await this.ready();
    // Under the file's lock like every collection write, so writers in several processes take turns.
    await withFileLock(this.path, () => writeFileAtomically(this.path, jsonText(settings)));
  }
}

export class FileMetadataStore extends CheckedMetadataStore {
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
    super((spec) => new FileCollection(root, spec, ready), new FileSettings(root, ready), "recount");
  }
}
