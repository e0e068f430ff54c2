// Stream stages of the engine: compression codecs, a sha256/size tap, and a gate that holds the end
// of a stream until a verdict, so a blob store never commits an object the tool did not finish.
import { createHash } from "node:crypto";
import { PassThrough, Transform, type TransformCallback } from "node:stream";
import { createGunzip, createGzip } from "node:zlib";
import type { Compression } from "#core/entities.ts";
import { ParallelZstdCompress, ZstdFramesDecompress } from "./zstd-frames.ts";

/**
 * The compression stages of a backup, in order: what the engine's pipeline and the benchmark's
 * codec measurements both use.
 */
export function compressionStages(codec: Compression): Transform[] {
  return [compressor(codec)];
}

/** The codec's own stream; a backup uses compressionStages. */
export function compressor(codec: Compression): Transform {
  switch (codec) {
    case "gzip":
      // Level 6, zlib's default and what `mongodump --gzip` uses: the same speed and size as the
      // tool's own (test/bench), for archives that must open with gunzip.
      return createGzip({ level: 6 });
    case "zstd":
      // The default codec. Level 3, zstd's own default, in 4 MiB frames compressed on several
      // threads at once (zstd-frames.ts): test/bench measures it 4-7x as fast as gzip -6 on one
      // core, at about 80% of its ratio.
      return new ParallelZstdCompress();
    case "none":
      return new PassThrough();
  }
}

/**
 * Output chunk of the decompressors. zlib's default is 16 KiB: a restore then makes a thread-pool
 * round trip, a stream callback and a pipe write into mongorestore per 16 KiB of archive. 256 KiB
 * chunks cut those 16-fold (the CPU seconds in test/bench/README.md, "Restore: where the time goes").
 */
export const DECOMPRESSED_CHUNK_BYTES = 256 * 1024;

/** How much archive a decompressor is given per call (see Batches). */
export const DECOMPRESS_INPUT_BYTES = 1024 * 1024;

/**
 * Gathers chunks into buffers of at least `bytes` (the last one may be smaller), in order; a chunk
 * that is big enough by itself passes as it is, uncopied. Before a decompressor: S3's HTTP body
 * arrives in chunks of about 16 KiB, and each one given to zlib is a round trip to the thread pool;
 * in 1 MiB batches, zstd decompression took half the CPU (test/bench/README.md, "Restore: where the
 * time goes").
 */
export class Batches extends Transform {
  readonly #bytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  constructor(bytes: number) {
    super();
    this.#bytes = bytes;
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= this.#bytes) this.#release();
    callback();
  }
  override _flush(callback: TransformCallback): void {
    if (this.#pendingBytes > 0) this.#release();
    callback();
  }
  #release(): void {
    const [only] = this.#pending;
    const batch =
      this.#pending.length === 1 && only ? only : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.push(batch);
  }
}

export function decompressor(codec: Compression): Transform {
  switch (codec) {
    case "gzip":
      return createGunzip({ chunkSize: DECOMPRESSED_CHUNK_BYTES });
    case "zstd":
      return new ZstdFramesDecompress(DECOMPRESSED_CHUNK_BYTES);
    case "none":
      return new PassThrough();
  }
}

export const blobExtension: Record<Compression, string> = { gzip: ".gz", zstd: ".zst", none: "" };

/** How much a tool's side of the pipeline may run ahead of the other side. */
export const TOOL_BUFFER_BYTES = 8 * 1024 * 1024;

/**
 * A buffer between a mongo tool's pipe and the engine's stream stages. The pipe holds 64 KiB, and a
 * stage such as compression takes each chunk in turn on the thread pool; without this buffer the
 * tool waits on every turnaround (mongodump then stops reading from the server meanwhile), with it
 * the tool only waits when the engine is really behind by 8 MiB. The benchmark measured the backup
 * on S3 going from about 16% to about 8% slower than mongodump alone (issue 7). Memory: 2 x 8 MiB
 * at most (the writable and readable sides), whatever the archive's size.
 */
export function toolBuffer(): PassThrough {
  return new PassThrough({ highWaterMark: TOOL_BUFFER_BYTES });
}

/** Counts bytes and hashes them as they pass. */
export class DigestTap extends Transform {
  readonly #hash = createHash("sha256");
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }
  /** Call once, after the stream has ended. */
  hex(): string {
    return this.#hash.digest("hex");
  }
}

/**
 * Passes data through but does not end its output until `verdict` resolves; if it rejects, the
 * stream fails with that error instead of ending. Placed before an upload, a failed tool can never
 * produce a committed object, even when its stdout closed cleanly before its exit code was known.
 */
export class EndGate extends Transform {
  readonly #verdict: Promise<void>;
  constructor(verdict: Promise<void>) {
    super();
    this.#verdict = verdict;
    // An unobserved rejection must not crash the process; _flush observes it.
    verdict.catch(() => undefined);
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    this.#verdict.then(
      () => callback(),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }
}
