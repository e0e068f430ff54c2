// A tar of a `mongodump --out` directory, read as ArchiveEvents, in two streaming reads: the first
// collects each collection's metadata (`<db>/<collection>.metadata.json[.gz]`, a few KiB each) and
// which `.bson[.gz]` files there are; the second streams each `.bson[.gz]` as the collection's
// documents. Nothing goes to disk; the tar is parsed by tar-stream.
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { extract, type Header } from "tar-stream";
import { BsonFileSplitter } from "./bson-docs.ts";
import type { ArchiveEvent } from "./events.ts";
import { type ArchiveCollection, ArchiveFormatError, type ArchivePrelude, collectionOf } from "./prelude.ts";

/** The largest metadata file read into memory (index definitions of one collection). */
const MAX_METADATA_BYTES = 16 * 1024 * 1024;

export const DUMP_TOOL_VERSION = "mongodump --out (a dump directory, converted on import)";

interface DumpFile {
  db: string;
  /** The collection name as the file names it (mongodump escapes some characters). */
  stem: string;
  part: "bson" | "metadata";
  gzip: boolean;
}

/** What a tar entry is in a dump directory: `.../<db>/<collection>.bson[.gz]` or `.metadata.json[.gz]`. */
export function dumpFileOf(header: Pick<Header, "name" | "type">): DumpFile | undefined {
  if (header.type !== "file" && header.type !== "contiguous-file") return undefined;
  const segments = header.name.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.length < 2) return undefined;
  const file = segments[segments.length - 1] as string;
  const db = segments[segments.length - 2] as string;
  const match = /^(.+)\.(bson|metadata\.json)(\.gz)?$/.exec(file);
  if (!match) return undefined;
  const stem = match[1] as string;
  // `oplog.bson` sits at the dump's top level (mongodump --oplog); it belongs to no database.
  if (stem === "oplog" && match[2] === "bson" && segments.length === 2) return undefined;
  return { db, stem, part: match[2] === "bson" ? "bson" : "metadata", gzip: match[3] !== undefined };
}

/** mongodump's file-name escaping of collection names (`/` as %2f and the like). */
function unescapeName(stem: string): string {
  try {
    return decodeURIComponent(stem);
  } catch {
    return stem;
  }
}

async function readAll(stream: Readable, limit: number, where: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ArchiveFormatError(`${where} is larger than ${limit} bytes`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** One collection of the dump: its prelude entry and the tar entry that holds its documents. */
export interface DumpCollection {
  entry: ArchiveCollection;
  /** The `.bson[.gz]` entry's name; undefined when the dump has only its metadata (a view). */
  bsonEntry: string | undefined;
  bsonGzip: boolean;
}

export interface DumpListing {
  collections: DumpCollection[];
}

/** Wraps tar-stream's own errors ("Unexpected end of data") with the entry being read. */
function tarError(error: unknown, entry: string | undefined): ArchiveFormatError {
  if (error instanceof ArchiveFormatError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const where = entry ? ` while reading ${entry}` : "";
  const truncated = /unexpected end/i.test(message) ? " (truncated)" : "";
  return new ArchiveFormatError(`the tar ends or breaks${where}: ${message}${truncated}`);
}

/** The entry's bytes, gunzipped for `.gz` files (mongodump --gzip --out). */
function gunzipped(stream: Readable, gzip: boolean): Readable {
  if (!gzip) return stream;
  const gunzip = createGunzip();
  stream.once("error", (e) => gunzip.destroy(e));
  return stream.pipe(gunzip);
}

/** A file's read error, named by the file (a gzip error says so). */
function fileError(error: unknown, file: string): ArchiveFormatError {
  if (error instanceof ArchiveFormatError) return error;
  const code = (error as { code?: unknown }).code;
  const gzip =
    typeof code === "string" && code.startsWith("Z_") ? "its gzip stream is corrupt or cut short: " : "";
  const message = (error as Error).message;
  const truncated = /unexpected end/i.test(message) ? " (truncated)" : "";
  return new ArchiveFormatError(`${file}: ${gzip}${message}${truncated}`);
}

/** First read: the metadata of every collection, and which `.bson` entries hold their documents. */
export async function listDump(tar: Readable): Promise<DumpListing> {
  const ex = extract();
  tar.on("error", (e) => ex.destroy(e));
  tar.pipe(ex as unknown as NodeJS.WritableStream);
  const metadata = new Map<string, { db: string; name: string; text: string }>();
  const bson = new Map<string, { db: string; name: string; entry: string; gzip: boolean }>();
  let current: string | undefined;
  try {
    for await (const entry of ex) {
      current = entry.header.name;
      const file = dumpFileOf(entry.header);
      if (!file) {
        entry.resume();
        continue;
      }
      const key = `${file.db}\0${file.stem}`;
      if (file.part === "bson") {
        bson.set(key, {
          db: file.db,
          name: unescapeName(file.stem),
          entry: entry.header.name,
          gzip: file.gzip,
        });
        entry.resume();
        continue;
      }
      const name = current;
      const raw = await readAll(
        gunzipped(entry as unknown as Readable, file.gzip),
        MAX_METADATA_BYTES,
        name,
      ).catch((error: unknown) => {
        throw fileError(error, name);
      });
      metadata.set(key, { db: file.db, name: unescapeName(file.stem), text: raw.toString("utf8") });
    }
  } catch (error) {
    throw tarError(error, current);
  }
  const collections: DumpCollection[] = [];
  for (const key of new Set([...metadata.keys(), ...bson.keys()])) {
    const meta = metadata.get(key);
    const data = bson.get(key);
    const db = (meta ?? data)?.db as string;
    const where = meta ? `${db}/${meta.name}.metadata.json` : `${db}/${data?.name}`;
    let parsed: Record<string, unknown> = {};
    if (meta) {
      try {
        parsed = JSON.parse(meta.text) as Record<string, unknown>;
      } catch {
        throw new ArchiveFormatError(`${where} is not JSON`);
      }
    }
    const name =
      typeof parsed.collectionName === "string" && parsed.collectionName
        ? parsed.collectionName
        : ((meta ?? data)?.name as string);
    const type = typeof parsed.type === "string" && parsed.type ? parsed.type : "collection";
    const entry = collectionOf({ db, collection: name, metadata: meta?.text ?? "", type });
    if (!meta) entry.metadata = { indexes: [], options: {} };
    collections.push({ entry, bsonEntry: data?.entry, bsonGzip: data?.gzip ?? false });
  }
  return { collections };
}

/** The prelude of the archive a dump directory converts into. */
export function dumpPrelude(collections: readonly DumpCollection[]): ArchivePrelude {
  return {
    header: {
      concurrent_collections: 1,
      version: "0.1",
      server_version: "",
      tool_version: DUMP_TOOL_VERSION,
    },
    collections: collections.map((c) => c.entry),
    length: 0,
  };
}

/**
 * Second read: the events of the converted archive, the prelude first, each collection's documents
 * as they come in the tar, and each collection's end (those without documents at the end).
 * Only `keep` (from listDump) is read; other entries are skipped.
 */
export async function* dumpEvents(
  tar: Readable,
  keep: readonly DumpCollection[],
): AsyncGenerator<ArchiveEvent> {
  yield { kind: "prelude", prelude: dumpPrelude(keep) };
  const byEntry = new Map(keep.filter((c) => c.bsonEntry).map((c) => [c.bsonEntry as string, c]));
  const ended = new Set<DumpCollection>();
  const ex = extract();
  tar.on("error", (e) => ex.destroy(e));
  tar.pipe(ex as unknown as NodeJS.WritableStream);
  let current: string | undefined;
  try {
    for await (const entry of ex) {
      current = entry.header.name;
      const collection = byEntry.get(entry.header.name);
      if (!collection || ended.has(collection)) {
        entry.resume();
        continue;
      }
      const { db, collection: name } = collection.entry;
      const splitter = new BsonFileSplitter(entry.header.name);
      const source = gunzipped(entry as unknown as Readable, collection.bsonGzip);
      try {
        for await (const chunk of source) {
          const docs = splitter.push(chunk as Buffer);
          if (docs) yield { kind: "documents", db, collection: name, ...docs };
        }
      } catch (error) {
        throw fileError(error, current);
      }
      splitter.end();
      ended.add(collection);
      yield { kind: "end", db, collection: name };
    }
  } catch (error) {
    throw tarError(error, current);
  } finally {
    ex.destroy();
  }
  const missing = keep.filter((c) => c.bsonEntry && !ended.has(c));
  if (missing.length > 0) {
    throw new ArchiveFormatError(`the tar changed between its two reads: ${missing[0]?.bsonEntry} is gone`);
  }
  for (const c of keep) {
    if (!c.bsonEntry) yield { kind: "end", db: c.entry.db, collection: c.entry.collection };
  }
}
