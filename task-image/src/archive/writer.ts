// Writes ArchiveEvents as a mongodump archive that mongorestore reads: magic number, prelude
// (header, one metadata document per collection, terminator), then for each run of documents a
// namespace segment and for each collection's end an EOF block with the CRC-64 of its documents.
import { Transform, type TransformCallback } from "node:stream";
import { Int32, Long, serialize } from "bson";
import { Crc64 } from "./crc64.ts";
import { type ArchiveEvent, namespaceOf } from "./events.ts";
import { ARCHIVE_MAGIC, type ArchivePrelude } from "./prelude.ts";

const TERMINATOR_BYTES = Buffer.from([0xff, 0xff, 0xff, 0xff]);

/** The prelude's bytes: magic, header, one document per collection, terminator. */
export function preludeBytes(prelude: ArchivePrelude): Buffer {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(ARCHIVE_MAGIC, 0);
  const parts: Uint8Array[] = [
    magic,
    serialize({
      concurrent_collections: new Int32(prelude.header.concurrent_collections || 1),
      version: prelude.header.version || "0.1",
      server_version: prelude.header.server_version,
      tool_version: prelude.header.tool_version,
    }),
  ];
  for (const c of prelude.collections) {
    const size = typeof c.metadata.size === "number" ? c.metadata.size : 0;
    parts.push(
      serialize({
        db: c.db,
        collection: c.collection,
        metadata: JSON.stringify(c.metadata),
        size: Number.isSafeInteger(size) && size <= 0x7fffffff ? new Int32(size) : Long.fromNumber(size),
        type: c.type,
      }),
    );
  }
  parts.push(TERMINATOR_BYTES);
  return Buffer.concat(parts);
}

function namespaceHeader(db: string, collection: string, eof: boolean, crc: bigint): Uint8Array {
  return serialize({ db, collection, EOF: eof, CRC: Long.fromBigInt(crc) });
}

export class ArchiveWriter extends Transform {
  /** The namespace whose segment is open (its terminator not yet written). */
  #open: string | undefined;
  readonly #crcs = new Map<string, Crc64>();
  #started = false;

  constructor() {
    super({ writableObjectMode: true });
  }

  override _transform(event: ArchiveEvent, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#write(event);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (!this.#started) {
      callback(new Error("archive writer: no prelude was written"));
      return;
    }
    if (this.#open) {
      callback(new Error(`archive writer: collection ${this.#open} was not ended`));
      return;
    }
    callback();
  }

  #write(event: ArchiveEvent): void {
    if (event.kind === "prelude") {
      if (this.#started) throw new Error("archive writer: a second prelude");
      this.#started = true;
      this.push(preludeBytes(event.prelude));
      return;
    }
    if (!this.#started) throw new Error("archive writer: documents before the prelude");
    const ns = namespaceOf(event);
    if (event.kind === "documents") {
      if (this.#open !== ns) {
        if (this.#open) this.push(TERMINATOR_BYTES);
        this.push(namespaceHeader(event.db, event.collection, false, 0n));
        this.#open = ns;
      }
      let crc = this.#crcs.get(ns);
      if (!crc) {
        crc = new Crc64();
        this.#crcs.set(ns, crc);
      }
      crc.update(event.bytes);
      this.push(event.bytes);
      return;
    }
    if (this.#open) {
      this.push(TERMINATOR_BYTES);
      this.#open = undefined;
    }
    const crc = this.#crcs.get(ns)?.signed() ?? 0n;
    this.#crcs.delete(ns);
    this.push(Buffer.concat([namespaceHeader(event.db, event.collection, true, crc), TERMINATOR_BYTES]));
  }
}
