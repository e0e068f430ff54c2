// Stream stages of the engine: compression codecs, a sha256/size tap, and a gate that holds the end
// of a stream until a verdict, so a blob store never commits an object the tool did not finish.
import { createHash } from "node:crypto";
import { PassThrough, Transform, type TransformCallback } from "node:stream";
import { constants, createGunzip, createGzip, createZstdCompress, createZstdDecompress } from "node:zlib";
import type { Compression } from "#core/entities.ts";

export function compressor(codec: Compression): Transform {
  switch (codec) {
    case "gzip":
      // Level 6 is zlib's default trade-off; the benchmark (issue 7) tunes it against mongodump.
      return createGzip({ level: 6 });
    case "zstd":
      return createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: 3 } });
    case "none":
      return new PassThrough();
  }
}

export function decompressor(codec: Compression): Transform {
  switch (codec) {
    case "gzip":
      return createGunzip();
    case "zstd":
      return createZstdDecompress();
    case "none":
      return new PassThrough();
  }
}

export const blobExtension: Record<Compression, string> = { gzip: ".gz", zstd: ".zst", none: "" };

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
