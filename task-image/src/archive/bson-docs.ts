// Whole BSON documents out of a byte stream cut anywhere: a queue of chunks that is concatenated
// only where a document spans two of them, and the check that a document parses.
import { deserialize } from "bson";
import { ArchiveFormatError } from "./prelude.ts";

/** The largest BSON document MongoDB allows, plus slack for the tools' own. */
export const MAX_DOC_BYTES = 16 * 1024 * 1024 + 16 * 1024;
const MIN_DOC_BYTES = 5;

/** Chunks not yet consumed, read from the front. */
export class ByteQueue {
  #chunks: Buffer[] = [];
  #length = 0;
  /** Bytes taken so far: the stream offset of the queue's first byte. */
  consumed = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The little-endian int32 at the front, or undefined when fewer than 4 bytes are queued. */
  peekInt32(): number | undefined {
    if (this.#length < 4) return undefined;
    const first = this.#chunks[0] as Buffer;
    if (first.length >= 4) return first.readInt32LE(0);
    return this.#front(4).readInt32LE(0);
  }

  /** Takes `n` bytes (n <= length) as one buffer. */
  take(n: number): Buffer {
    const out = this.#front(n);
    let left = n;
    while (left > 0) {
      const first = this.#chunks[0] as Buffer;
      if (first.length <= left) {
        this.#chunks.shift();
        left -= first.length;
      } else {
        this.#chunks[0] = first.subarray(left);
        left = 0;
      }
    }
    this.#length -= n;
    this.consumed += n;
    return out;
  }

  /** The first `n` bytes without consuming them; one concat when they span chunks. */
  #front(n: number): Buffer {
    const first = this.#chunks[0] as Buffer;
    if (first.length >= n) return first.subarray(0, n);
    const parts: Buffer[] = [];
    let got = 0;
    for (const chunk of this.#chunks) {
      parts.push(chunk);
      got += chunk.length;
      if (got >= n) break;
    }
    const joined = Buffer.concat(parts);
    // Keep the joined buffer as the head so the next look does not concatenate again.
    const used = parts.length;
    this.#chunks.splice(0, used, joined);
    return joined.subarray(0, n);
  }
}

/** Throws ArchiveFormatError unless `size` can be a BSON document's length. */
export function checkDocSize(size: number, where: () => string): void {
  if (size < MIN_DOC_BYTES || size > MAX_DOC_BYTES) {
    throw new ArchiveFormatError(
      `${where()}: a document length of ${size} bytes is impossible (corrupt data)`,
    );
  }
}

/** Throws ArchiveFormatError unless `doc` is a BSON document that parses. */
export function checkDoc(doc: Buffer, where: () => string): void {
  if (doc[doc.length - 1] !== 0) {
    throw new ArchiveFormatError(
      `${where()}: a BSON document does not end with its zero byte (corrupt data)`,
    );
  }
  try {
    deserialize(doc, { promoteBuffers: true, promoteValues: false, validation: { utf8: false } });
  } catch (error) {
    throw new ArchiveFormatError(`${where()}: a BSON document does not parse: ${(error as Error).message}`);
  }
}

/**
 * Splits a collection's `.bson` file (documents back to back, no terminators) into runs of whole,
 * checked documents. `where` names the file for errors.
 */
export class BsonFileSplitter {
  readonly #queue = new ByteQueue();
  readonly #where: string;

  constructor(where: string) {
    this.#where = where;
  }

  /** The whole documents now available, and how many. */
  push(chunk: Buffer): { bytes: Buffer; count: number } | undefined {
    this.#queue.push(chunk);
    const docs: Buffer[] = [];
    for (;;) {
      const size = this.#queue.peekInt32();
      if (size === undefined) break;
      const at = () => `${this.#where}, byte ${this.#queue.consumed}`;
      checkDocSize(size, at);
      if (this.#queue.length < size) break;
      const doc = this.#queue.take(size);
      checkDoc(doc, at);
      docs.push(doc);
    }
    if (docs.length === 0) return undefined;
    return { bytes: docs.length === 1 ? (docs[0] as Buffer) : Buffer.concat(docs), count: docs.length };
  }

  /** Throws when the file ended inside a document. */
  end(): void {
    if (this.#queue.length > 0) {
      throw new ArchiveFormatError(
        `${this.#where} ends inside a document at byte ${this.#queue.consumed} (truncated)`,
      );
    }
  }
}
