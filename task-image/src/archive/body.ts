// Reads a whole mongodump archive (decompressed bytes) into ArchiveEvents: the prelude through
// PreludeReader, then the namespace blocks (mongo-tools common/archive/spec.md):
//
//   namespace-segment = header {db, collection, EOF: false, CRC: 0}, documents..., terminator
//   namespace-eof     = header {db, collection, EOF: true, CRC: <CRC-64 of its documents>}, terminator
//
// Each document is checked to parse, each collection's CRC is checked at its EOF, and the archive
// must end between blocks with every listed collection ended: anything else is an
// ArchiveFormatError that says where (the byte offset in the decompressed archive).
import { Transform, type TransformCallback } from "node:stream";
import { deserialize } from "bson";
import { ByteQueue, checkDoc, checkDocSize } from "./bson-docs.ts";
import { Crc64 } from "./crc64.ts";
import { type ArchiveEvent, namespaceOf } from "./events.ts";
import { ArchiveFormatError, type ArchivePrelude, PreludeReader, TERMINATOR } from "./prelude.ts";

interface OpenNamespace {
  db: string;
  collection: string;
  crc: Crc64;
}

export class ArchiveReader extends Transform {
  readonly #prelude = new PreludeReader();
  #preludeBytes = 0;
  #listed: ArchivePrelude | undefined;
  readonly #queue = new ByteQueue();
  /** The segment whose documents are being read; undefined between blocks. */
  #segment: OpenNamespace | undefined;
  /** An EOF header was read: its terminator comes next. */
  #awaitingEofTerminator = false;
  readonly #open = new Map<string, OpenNamespace>();
  readonly #ended = new Set<string>();

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      if (!this.#listed) {
        const before = this.#preludeBytes;
        this.#preludeBytes += chunk.length;
        const prelude = this.#prelude.push(chunk);
        if (!prelude) {
          callback();
          return;
        }
        this.#listed = prelude;
        this.#queue.consumed = prelude.length;
        this.push({ kind: "prelude", prelude } satisfies ArchiveEvent);
        chunk = chunk.subarray(prelude.length - before);
      }
      this.#queue.push(chunk);
      this.#drain();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (!this.#listed) this.#prelude.end();
      const offset = this.#queue.consumed;
      if (this.#segment || this.#awaitingEofTerminator || this.#queue.length > 0) {
        const inside = this.#segment ? ` inside collection ${namespaceOf(this.#segment)}` : "";
        throw new ArchiveFormatError(
          `the archive ends${inside} at byte ${offset + this.#queue.length} (truncated)`,
        );
      }
      const unfinished = (this.#listed?.collections ?? [])
        .filter((c) => c.type !== "timeseries" && c.type !== "view")
        .map(namespaceOf)
        .filter((ns) => !this.#ended.has(ns));
      if (unfinished.length > 0) {
        throw new ArchiveFormatError(
          `the archive ends at byte ${offset} before ${unfinished.slice(0, 5).join(", ")}${unfinished.length > 5 ? ", ..." : ""} ended (truncated)`,
        );
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  #drain(): void {
    const q = this.#queue;
    const docs: Buffer[] = [];
    const flushDocs = () => {
      if (docs.length === 0 || !this.#segment) return;
      const bytes = docs.length === 1 ? (docs[0] as Buffer) : Buffer.concat(docs);
      const { db, collection } = this.#segment;
      this.push({ kind: "documents", db, collection, bytes, count: docs.length } satisfies ArchiveEvent);
      docs.length = 0;
    };
    for (;;) {
      const size = q.peekInt32();
      if (size === undefined) break;
      const offset = q.consumed;
      if (size === TERMINATOR) {
        q.take(4);
        flushDocs();
        this.#segment = undefined;
        this.#awaitingEofTerminator = false;
        continue;
      }
      if (this.#awaitingEofTerminator) {
        throw new ArchiveFormatError(
          `byte ${offset}: a collection's end is not followed by a terminator (corrupt archive)`,
        );
      }
      const where = () =>
        this.#segment ? `collection ${namespaceOf(this.#segment)}, byte ${offset}` : `byte ${offset}`;
      checkDocSize(size, where);
      if (q.length < size) break;
      const doc = q.take(size);
      if (this.#segment) {
        checkDoc(doc, where);
        this.#segment.crc.update(doc);
        docs.push(doc);
      } else {
        this.#header(doc, offset);
      }
    }
    flushDocs();
  }

  /** A namespace header between blocks: opens a segment, or ends its collection. */
  #header(doc: Buffer, offset: number): void {
    let header: Record<string, unknown>;
    try {
      header = deserialize(doc, { promoteLongs: false, promoteValues: true });
    } catch (error) {
      throw new ArchiveFormatError(
        `byte ${offset}: a namespace header does not parse: ${(error as Error).message}`,
      );
    }
    const { db, collection } = header;
    if (typeof db !== "string" || typeof collection !== "string" || collection === "") {
      throw new ArchiveFormatError(`byte ${offset}: a namespace header has no db and collection`);
    }
    const ns = `${db}.${collection}`;
    if (this.#ended.has(ns)) {
      throw new ArchiveFormatError(`byte ${offset}: collection ${ns} continues after its end`);
    }
    let open = this.#open.get(ns);
    if (!open) {
      open = { db, collection, crc: new Crc64() };
      this.#open.set(ns, open);
    }
    if (header.EOF === true) {
      const expected = crcOf(header.CRC);
      const actual = open.crc.signed();
      // mongodump writes 0 where it did not compute one; a non-zero CRC must match.
      if (expected !== 0n && expected !== actual) {
        throw new ArchiveFormatError(
          `collection ${ns}: its checksum does not match its documents (the archive is corrupt)`,
        );
      }
      this.#open.delete(ns);
      this.#ended.add(ns);
      this.#awaitingEofTerminator = true;
      this.push({ kind: "end", db, collection } satisfies ArchiveEvent);
      return;
    }
    this.#segment = open;
  }
}

function crcOf(value: unknown): bigint {
  if (value && typeof value === "object" && "toBigInt" in value) {
    return (value as { toBigInt(): bigint }).toBigInt();
  }
  if (typeof value === "number") return BigInt(value);
  return 0n;
}
