// zstd on more than one core, within what Node 24's zlib gets right.
//
// Compression: the archive is cut into frames of ZSTD_FRAME_BYTES, each compressed by its own
// one-shot `zstdCompress` on libuv's thread pool, several at a time, written in order. A series of
// frames is a plain zstd stream (RFC 8878, section 3.1: "a zstd compressed stream is made of one or
// more frames"): `zstd -d` and every other decoder read it as one. zstd's own worker threads are not
// an option in Node 24 (nodejs/node#59899: lost output).
//
// Decompression: Node 24's decompressor stops at the end of the first frame and drops the rest
// without an error (nodejs/node#64741, pinned by test/unit/zstd-node-limits.test.ts). So the
// restore never gives it more than one frame: ZstdFrameSplitter walks the frame and block headers
// (their sizes are in the clear) and each frame goes through a fresh decompressor. Archives of one
// large frame (written before the frames, or by the zstd CLI) stream through in the same way, with
// no frame held whole in memory.
import { availableParallelism } from "node:os";
import { Transform, type TransformCallback } from "node:stream";
import { promisify } from "node:util";
import { constants, createZstdDecompress, type ZstdDecompress, zstdCompress } from "node:zlib";

/**
 * Input per frame. zstd -3 looks back at most 2 MiB (windowLog 21), so 4 MiB frames give up context
 * only at their edges: the archive grows by well under 1% (test/bench/README.md, Ceiling).
 * Memory: (in flight + 1) x (4 MiB in + up to 4 MiB out).
 */
export const ZSTD_FRAME_BYTES = 4 * 1024 * 1024;

/**
 * Frames compressed at once. Two on the 1-vCPU Fargate task too: one compresses while the main
 * thread moves the pipe, the hash and the upload. Three at most: libuv's pool has four threads,
 * and file writes (the local store) need one.
 */
export const ZSTD_FRAMES_IN_FLIGHT = Math.min(3, Math.max(2, availableParallelism()));

export const ZSTD_LEVEL = 3;

const FRAME_OUTPUT_CHUNK_BYTES = 1024 * 1024;

const compressFrame = promisify(zstdCompress);

/** The backup's zstd stage: frames compressed in parallel, written in their order. */
export class ParallelZstdCompress extends Transform {
  readonly #frameBytes: number;
  readonly #inFlight: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #queue: Promise<Buffer>[] = [];
  #frames = 0;

  constructor(options: { frameBytes?: number; inFlight?: number } = {}) {
    super();
    this.#frameBytes = options.frameBytes ?? ZSTD_FRAME_BYTES;
    this.#inFlight = options.inFlight ?? ZSTD_FRAMES_IN_FLIGHT;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes < this.#frameBytes) {
      callback();
      return;
    }
    const input = this.#take();
    // Room for one more frame: write out the oldest ones until fewer than #inFlight are running.
    this.#writeOutUntil(this.#inFlight - 1).then(() => {
      this.#submit(input);
      callback();
    }, callback);
  }

  override _flush(callback: TransformCallback): void {
    // An empty archive still gets one (empty) frame: a .zst that any decoder opens.
    if (this.#pendingBytes > 0 || this.#frames === 0) this.#submit(this.#take());
    this.#writeOutUntil(0).then(() => callback(), callback);
  }

  #take(): Buffer {
    const input = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    return input;
  }

  #submit(input: Buffer): void {
    // 1 MiB output chunks: a frame is then one or two trips to the thread pool, not 64 (the
    // one-shot call's default is 16 KiB; measured: test/bench/README.md, Ceiling).
    const frame = compressFrame(input, {
      chunkSize: FRAME_OUTPUT_CHUNK_BYTES,
      params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL },
    });
    // Observed at once so that a failure behind an earlier frame is not an unhandled rejection.
    frame.catch(() => undefined);
    this.#queue.push(frame);
    this.#frames++;
  }

  async #writeOutUntil(left: number): Promise<void> {
    while (this.#queue.length > left) {
      const frame = await (this.#queue[0] as Promise<Buffer>);
      this.#queue.shift();
      this.push(frame);
    }
  }
}

/** A malformed zstd stream, found by the frame walk; `code` in the style of zstd's own errors. */
export class ZstdFrameError extends Error {
  readonly code: "ZSTD_error_frame_format" | "ZSTD_error_truncated";
  constructor(message: string, code: ZstdFrameError["code"]) {
    super(message);
    this.name = "ZstdFrameError";
    this.code = code;
  }
}

/** A piece of the input: its bytes, whether it ends its frame, and whether that frame is skippable. */
export interface FrameSegment {
  bytes: Buffer;
  frameEnd: boolean;
  skippable: boolean;
}

const ZSTD_MAGIC = 0xfd2fb528;
const isSkippableMagic = (magic: number) => magic >>> 4 === 0x184d2a5;

type SplitterState =
  | { at: "magic" }
  | { at: "skippable-size" }
  | { at: "descriptor" }
  | { at: "header-rest"; checksum: boolean }
  | { at: "block-header"; checksum: boolean }
  | { at: "skip"; left: number; then: "block" | "checksum" | "frame-end"; checksum: boolean };

/**
 * Walks zstd frames (RFC 8878, 3.1.1: frame header, then blocks of 3-byte headers that give their
 * sizes, then an optional 4-byte checksum; 3.1.2: skippable frames) and cuts the input at each
 * frame's end. It reads headers only; the contents are the decompressor's to check. Pure: feed it
 * chunks as they come, in order, then call finish().
 */
export class ZstdFrameSplitter {
  #state: SplitterState = { at: "magic" };
  /** A header field being gathered across chunks. */
  #field = Buffer.alloc(14);
  #fieldBytes = 0;
  #fieldNeed = 4;
  #skippable = false;
  #heldMagic = false;
  /** Bytes of input seen, for the errors. */
  #offset = 0;
  #frameStart = 0;

  split(chunk: Buffer): FrameSegment[] {
    const segments: FrameSegment[] = [];
    let start = 0;
    let i = 0;
    const cut = (end: number, frameEnd: boolean) => {
      if (end > start || frameEnd) {
        segments.push({ bytes: chunk.subarray(start, end), frameEnd, skippable: this.#skippable });
      }
      start = end;
    };
    for (;;) {
      const state = this.#state;
      if (state.at === "skip") {
        const step = Math.min(state.left, chunk.length - i);
        i += step;
        state.left -= step;
        if (state.left > 0) break;
        if (state.then === "block") this.#gather({ at: "block-header", checksum: state.checksum }, 3);
        else if (state.then === "checksum") this.#enterSkip(4, "frame-end", false);
        else {
          cut(i, true);
          this.#frameStart = this.#offset + i;
          this.#gather({ at: "magic" }, 4);
        }
        continue;
      }
      if (i >= chunk.length) break;
      // A header field: gather it (it may span chunks), then act on it.
      const step = Math.min(this.#fieldNeed - this.#fieldBytes, chunk.length - i);
      chunk.copy(this.#field, this.#fieldBytes, i, i + step);
      this.#fieldBytes += step;
      i += step;
      if (this.#fieldBytes < this.#fieldNeed) break;
      this.#onField(state, this.#offset + i);
      if (state.at === "magic" && this.#heldMagic) {
        // The magic began in an earlier chunk, held back until its kind was known: give it now.
        segments.push({
          bytes: Buffer.from(this.#field.subarray(0, 4)),
          frameEnd: false,
          skippable: this.#skippable,
        });
        this.#heldMagic = false;
        start = i;
      }
    }
    if (this.#state.at === "magic" && this.#fieldBytes > 0) {
      // A magic number cut by the chunk's end (it starts at `start`, right after a frame's end):
      // its frame's kind is not known yet, so its bytes wait in #field.
      this.#heldMagic = true;
    } else {
      cut(chunk.length, false);
    }
    this.#offset += chunk.length;
    return segments;
  }

  /** Call at the end of the input: throws unless it ended between frames. */
  finish(): void {
    if (this.#state.at === "magic" && this.#fieldBytes === 0) return;
    throw new ZstdFrameError(
      `the zstd stream ends inside a frame (the frame from byte ${this.#frameStart}, cut off at byte ${this.#offset}): truncated`,
      "ZSTD_error_truncated",
    );
  }

  #gather(state: SplitterState, bytes: number): void {
    this.#state = state;
    this.#fieldBytes = 0;
    this.#fieldNeed = bytes;
  }

  #enterSkip(left: number, then: "block" | "checksum" | "frame-end", checksum: boolean): void {
    this.#state = { at: "skip", left, then, checksum };
    this.#fieldBytes = 0;
  }

  #onField(state: Exclude<SplitterState, { at: "skip" }>, at: number): void {
    const field = this.#field;
    switch (state.at) {
      case "magic": {
        const magic = field.readUInt32LE(0);
        this.#skippable = isSkippableMagic(magic);
        if (this.#skippable) this.#gather({ at: "skippable-size" }, 4);
        else if (magic === ZSTD_MAGIC) this.#gather({ at: "descriptor" }, 1);
        else throw this.#corrupt(at - 4, `no zstd frame starts there (magic ${field.toString("hex", 0, 4)})`);
        break;
      }
      case "skippable-size":
        this.#enterSkip(field.readUInt32LE(0), "frame-end", false);
        break;
      case "descriptor": {
        const descriptor = field[0] as number;
        if (descriptor & 0x08) throw this.#corrupt(at - 1, "its frame header sets the reserved bit");
        const singleSegment = (descriptor & 0x20) !== 0;
        const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6] as number;
        const dictionaryBytes = [0, 1, 2, 4][descriptor & 0x03] as number;
        const rest = (singleSegment ? 0 : 1) + dictionaryBytes + contentSizeBytes;
        const checksum = (descriptor & 0x04) !== 0;
        if (rest === 0) this.#gather({ at: "block-header", checksum }, 3);
        else this.#gather({ at: "header-rest", checksum }, rest);
        break;
      }
      case "header-rest":
        this.#gather({ at: "block-header", checksum: state.checksum }, 3);
        break;
      case "block-header": {
        const header = field.readUIntLE(0, 3);
        const last = (header & 1) === 1;
        const type = (header >> 1) & 0x03;
        if (type === 3) throw this.#corrupt(at - 3, "a block has the reserved type");
        // A raw or compressed block holds Block_Size bytes; an RLE block one byte, repeated.
        const contentBytes = type === 1 ? 1 : header >>> 3;
        const then = !last ? "block" : state.checksum ? "checksum" : "frame-end";
        this.#enterSkip(contentBytes, then, state.checksum);
        break;
      }
    }
  }

  #corrupt(at: number, why: string): ZstdFrameError {
    return new ZstdFrameError(
      `the zstd stream is malformed at byte ${at}: ${why}`,
      "ZSTD_error_frame_format",
    );
  }
}

/**
 * The restore's zstd decompressor: every frame of the stream, each through its own decompressor,
 * in `chunkSize` output chunks. Skippable frames are passed over; a stream cut inside a frame, or
 * bytes that are not a frame, fail it with a ZstdFrameError. A plain Transform (push, not pull):
 * the input is read ahead as with zlib's own stream, and the output waits only on its reader.
 */
export class ZstdFramesDecompress extends Transform {
  readonly #splitter = new ZstdFrameSplitter();
  readonly #chunkSize: number;
  #frame: ZstdDecompress | undefined;

  constructor(chunkSize: number) {
    super();
    this.#chunkSize = chunkSize;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let segments: FrameSegment[];
    try {
      segments = this.#splitter.split(chunk);
    } catch (error) {
      callback(error as Error);
      return;
    }
    this.#feed(segments, 0, callback);
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#splitter.finish();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#frame?.destroy();
    callback(error);
  }

  /** Writes segments from `i` on into their frames' decompressors; calls back once all are taken. */
  #feed(segments: FrameSegment[], i: number, callback: TransformCallback): void {
    for (; i < segments.length; i++) {
      const segment = segments[i] as FrameSegment;
      if (segment.skippable) continue;
      const frame = this.#frame ?? this.#open();
      const more = frame.write(segment.bytes);
      const next = i + 1;
      if (segment.frameEnd) {
        // The frame's last output comes before the next frame's first. It stays #frame until then,
        // so that a destroy meanwhile stops it too.
        frame.once("end", () => {
          this.#frame = undefined;
          if (!this.destroyed) this.#feed(segments, next, callback);
        });
        frame.end();
        return;
      }
      if (!more) {
        frame.once("drain", () => {
          if (!this.destroyed) this.#feed(segments, next, callback);
        });
        return;
      }
    }
    callback();
  }

  #open(): ZstdDecompress {
    const frame = createZstdDecompress({ chunkSize: this.#chunkSize });
    frame.on("data", (piece: Buffer) => this.push(piece));
    frame.once("error", (error) => this.destroy(error));
    this.#frame = frame;
    return frame;
  }
}
