// Which database of a dump an import keeps, and the stage that keeps only it: its namespaces are
// renamed to the backup's database (so a restore finds them where it looks), every other one is
// dropped, and each kept collection's documents are counted.
import { Transform, type TransformCallback } from "node:stream";
import type { ArchiveEvent } from "./events.ts";
import { ArchiveFormatError } from "./prelude.ts";

/**
 * The database to keep of those the dump holds: the named one when it is there, else the only one
 * besides the system databases (admin, config, local: a full `mongodump` has them too). Throws
 * ArchiveFormatError with what to do otherwise.
 */
const systemDatabases = new Set(["admin", "config", "local"]);

export function chooseDatabase(held: readonly string[], named: string): string {
  const dbs = [...new Set(held)].sort();
  if (dbs.includes(named)) return named;
  const candidates = dbs.filter((db) => !systemDatabases.has(db.toLowerCase()));
  if (candidates.length === 1) return candidates[0] as string;
  if (dbs.length === 0) throw new ArchiveFormatError("the dump holds no collections");
  if (candidates.length === 0) {
    throw new ArchiveFormatError(
      `the dump holds only system databases (${dbs.join(", ")}), nothing to import`,
    );
  }
  throw new ArchiveFormatError(
    `the dump holds several databases (${candidates.slice(0, 10).join(", ")}) and none is named ${named}: import it once per database, with database set to the one to keep`,
  );
}

export class DatabaseSelection extends Transform {
  readonly #target: string;
  #source: string | undefined;
  /** Documents per kept collection (every listed collection, 0 when it has none). */
  readonly counts: Record<string, number> = {};
  /** What made the dump: `mongodump <version>` from an archive's header, unless fixed beforehand. */
  toolVersion = "";
  fixedToolVersion = false;

  constructor(target: string) {
    super({ objectMode: true });
    this.#target = target;
  }

  /** The database of the dump that was kept (undefined before the prelude). */
  get source(): string | undefined {
    return this.#source;
  }

  override _transform(event: ArchiveEvent, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      if (event.kind === "prelude") {
        const { collections, header } = event.prelude;
        const source = chooseDatabase(
          collections.map((c) => c.db),
          this.#target,
        );
        this.#source = source;
        if (!this.fixedToolVersion) {
          this.toolVersion = header.tool_version ? `mongodump ${header.tool_version}` : "mongodump";
        }
        const kept = collections.filter((c) => c.db === source);
        if (kept.length === 0) throw new ArchiveFormatError(`the dump holds no collections of ${source}`);
        for (const c of kept) if (c.type !== "view") this.counts[c.collection] = 0;
        callback(null, {
          kind: "prelude",
          prelude: { ...event.prelude, collections: kept.map((c) => ({ ...c, db: this.#target })) },
        } satisfies ArchiveEvent);
        return;
      }
      if (event.db !== this.#source) {
        callback();
        return;
      }
      if (event.kind === "documents") {
        this.counts[event.collection] = (this.counts[event.collection] ?? 0) + event.count;
      }
      callback(null, { ...event, db: this.#target });
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (Object.keys(this.counts).length === 0) {
      callback(new ArchiveFormatError("the dump holds no collections"));
      return;
    }
    callback();
  }
}
