// The prelude of a mongodump archive (mongo-tools archive/prelude.go): what the archive holds,
// written before any document.
//
//   magic      int32 LE 0x8199e26d
//   header     BSON { concurrent_collections, version, server_version, tool_version }
//   metadata   BSON { db, collection, metadata: <JSON text of {indexes, options, uuid, ...}>, size, type }
//              ... one per collection (and view), then
//   terminator int32 -1 (ff ff ff ff)
//
// After it come the namespace blocks (body.ts reads those). `PreludeReader` takes the archive's
// bytes in chunks as they stream by, so a restore can read what the archive lists without a second
// read of the blob; it keeps only the prelude's bytes (a few KiB per collection).
import { deserialize, EJSON } from "bson";

export const ARCHIVE_MAGIC = 0x8199e26d;
/** A BSON document's length field of -1: the end of the prelude, or of a namespace block. */
export const TERMINATOR = -1;

export interface ArchiveHeader {
  concurrent_collections: number;
  version: string;
  server_version: string;
  tool_version: string;
}

/** One index as mongodump lists it: its name, key pattern and options. */
export interface ArchiveIndex {
  name: string;
  key: Record<string, unknown>;
  [option: string]: unknown;
}

export interface ArchiveCollection {
  db: string;
  collection: string;
  /** `collection`, `view`, or `timeseries` as mongodump names it. */
  type: string;
  indexes: ArchiveIndex[];
  options: Record<string, unknown>;
  /** The metadata document as mongodump wrote it (parsed JSON). */
  metadata: Record<string, unknown>;
}

export interface ArchivePrelude {
  header: ArchiveHeader;
  collections: ArchiveCollection[];
  /** Bytes the prelude took, magic and terminator included: where the first namespace block starts. */
  length: number;
}

/** A byte stream that is not a mongodump archive, or whose prelude does not parse. */
export class ArchiveFormatError extends Error {
  override name = "ArchiveFormatError";
}

/** The largest prelude we accept: metadata of ~100,000 collections. Guards memory against a hostile file. */
const MAX_PRELUDE_BYTES = 256 * 1024 * 1024;
/** The largest BSON document MongoDB allows, plus slack for the tools' own. */
const MAX_DOC_BYTES = 16 * 1024 * 1024 + 16 * 1024;

function str(doc: Record<string, unknown>, field: string, where: string): string {
  const value = doc[field];
  if (typeof value !== "string") throw new ArchiveFormatError(`${where} has no ${field} string`);
  return value;
}

function parseMetadataText(text: string, where: string): Record<string, unknown> {
  if (text === "") return {};
  try {
    // mongodump writes the metadata as canonical Extended JSON ({"$numberInt": "1"}); relaxed
    // parsing gives plain numbers where they fit, so index keys read as `{ status: 1 }`.
    const parsed: unknown = EJSON.parse(text, { relaxed: true });
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ArchiveFormatError(`${where}: its metadata is not a JSON object`);
}

/** The collection a prelude metadata document describes. */
export function collectionOf(doc: Record<string, unknown>): ArchiveCollection {
  const db = str(doc, "db", "a collection entry of the prelude");
  const collection = str(doc, "collection", `the prelude entry of ${db}`);
  const where = `the prelude entry of ${db}.${collection}`;
  const metadata = parseMetadataText(typeof doc.metadata === "string" ? doc.metadata : "", where);
  const indexes = Array.isArray(metadata.indexes)
    ? (metadata.indexes as unknown[]).filter(
        (i): i is ArchiveIndex =>
          !!i && typeof i === "object" && typeof (i as { name?: unknown }).name === "string",
      )
    : [];
  const options =
    metadata.options && typeof metadata.options === "object"
      ? (metadata.options as Record<string, unknown>)
      : {};
  return {
    db,
    collection,
    type: typeof doc.type === "string" && doc.type ? doc.type : "collection",
    indexes,
    options,
    metadata,
  };
}

/**
 * Reads the prelude from chunks of an archive's bytes (decompressed). `push` returns the prelude
 * once it is complete (later chunks are ignored); ArchiveFormatError as soon as the bytes cannot
 * be an archive. `end` says whether the stream ended before the prelude did.
 */
export class PreludeReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #result: ArchivePrelude | undefined;

  get done(): ArchivePrelude | undefined {
    return this.#result;
  }

  push(chunk: Buffer): ArchivePrelude | undefined {
    if (this.#result) return this.#result;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = [all];
    const parsed = parsePrelude(all);
    if (parsed) {
      this.#result = parsed;
      this.#chunks = [];
      return parsed;
    }
    if (this.#buffered > MAX_PRELUDE_BYTES) {
      throw new ArchiveFormatError(`the archive's prelude is larger than ${MAX_PRELUDE_BYTES} bytes`);
    }
    return undefined;
  }

  /** Throws when the bytes ended inside the prelude. */
  end(): ArchivePrelude {
    if (this.#result) return this.#result;
    throw new ArchiveFormatError(
      this.#buffered === 0
        ? "the archive is empty"
        : `the archive ends inside its prelude, after ${this.#buffered} bytes (truncated)`,
    );
  }
}

/**
 * The prelude at the start of `bytes`, or undefined when more bytes are needed. ArchiveFormatError
 * when they cannot be the start of a mongodump archive.
 */
export function parsePrelude(bytes: Buffer): ArchivePrelude | undefined {
  if (bytes.length < 4) return undefined;
  if (bytes.readUInt32LE(0) !== ARCHIVE_MAGIC) {
    throw new ArchiveFormatError(
      "not a mongodump archive (its first four bytes are not the archive's magic number)",
    );
  }
  let offset = 4;
  let header: ArchiveHeader | undefined;
  const collections: ArchiveCollection[] = [];
  for (;;) {
    if (bytes.length < offset + 4) return undefined;
    const size = bytes.readInt32LE(offset);
    if (size === TERMINATOR) {
      if (!header) throw new ArchiveFormatError("the archive's prelude has no header");
      return { header, collections, length: offset + 4 };
    }
    if (size < 5 || size > MAX_DOC_BYTES) {
      throw new ArchiveFormatError(
        `the archive's prelude has a document of impossible size ${size} at byte ${offset}`,
      );
    }
    if (bytes.length < offset + size) return undefined;
    let doc: Record<string, unknown>;
    try {
      doc = deserialize(bytes.subarray(offset, offset + size), { promoteValues: true, promoteLongs: true });
    } catch (error) {
      throw new ArchiveFormatError(
        `the archive's prelude has a document at byte ${offset} that does not parse: ${(error as Error).message}`,
      );
    }
    if (!header) {
      header = {
        concurrent_collections: Number(doc.concurrent_collections ?? 1),
        version: String(doc.version ?? ""),
        server_version: String(doc.server_version ?? ""),
        tool_version: String(doc.tool_version ?? ""),
      };
    } else {
      collections.push(collectionOf(doc));
    }
    offset += size;
  }
}
