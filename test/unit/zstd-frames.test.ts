// The frame walk and the frame-by-frame decompressor (task-image/src/zstd-frames.ts), against real
// zstd frames from Node's zlib: every block type (raw, RLE, compressed), with and without checksums
// and content sizes, empty frames, skippable frames, cut into chunks at every kind of boundary.
// Node's own decompressor stops after the first frame (test/unit/zstd-node-limits.test.ts); this
// one must give every byte back.
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { constants, zstdCompressSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decompressor } from "#engine/streams.ts";
import { ZstdFrameError, ZstdFrameSplitter } from "#engine/zstd-frames.ts";

const kinds = ["text", "random", "run", "empty"] as const;
type Kind = (typeof kinds)[number];

function content(kind: Kind, bytes: number, seed: number): Buffer {
  switch (kind) {
    case "text": // compressed blocks
      return Buffer.from(
        Array.from({ length: Math.ceil(bytes / 24) }, (_, i) => `doc ${seed}-${i % 977} ok;`).join(""),
      ).subarray(0, bytes);
    case "random": // raw blocks: incompressible
      return randomBytes(bytes);
    case "run": // RLE blocks
      return Buffer.alloc(bytes, seed & 0xff);
    case "empty":
      return Buffer.alloc(0);
  }
}

interface FrameSpec {
  kind: Kind;
  bytes: number;
  checksum: boolean;
  contentSize: boolean;
  skippableBefore: number | null;
}

const frameSpec = fc.record({
  kind: fc.constantFrom(...kinds),
  bytes: fc.integer({ min: 1, max: 300_000 }),
  checksum: fc.boolean(),
  contentSize: fc.boolean(),
  skippableBefore: fc.option(fc.integer({ min: 0, max: 40 })),
});

/** The frames as bytes, the plain content they hold, and where each frame (skippable or not) ends. */
function build(specs: FrameSpec[]) {
  const parts: Buffer[] = [];
  const plain: Buffer[] = [];
  const ends: number[] = [];
  let at = 0;
  const add = (bytes: Buffer) => {
    parts.push(bytes);
    at += bytes.length;
    ends.push(at);
  };
  specs.forEach((spec, i) => {
    if (spec.skippableBefore !== null) {
      const header = Buffer.alloc(8);
      header.writeUInt32LE(0x184d2a50 + (i % 16), 0);
      header.writeUInt32LE(spec.skippableBefore, 4);
      add(Buffer.concat([header, randomBytes(spec.skippableBefore)]));
    }
    const data = content(spec.kind, spec.bytes, i);
    plain.push(data);
    add(
      zstdCompressSync(data, {
        params: {
          [constants.ZSTD_c_checksumFlag]: spec.checksum ? 1 : 0,
          [constants.ZSTD_c_contentSizeFlag]: spec.contentSize ? 1 : 0,
        },
      }),
    );
  });
  return { stream: Buffer.concat(parts), plain: Buffer.concat(plain), ends };
}

/** Cuts at the given offsets (any order, duplicates allowed). */
function chunked(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, stream.length]) {
    if (point > from) chunks.push(stream.subarray(from, point));
    from = Math.max(from, point);
  }
  return chunks;
}

async function decompressAll(chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const piece of Readable.from(chunks).pipe(decompressor("zstd"))) out.push(piece as Buffer);
  return Buffer.concat(out);
}

describe("ZstdFrameSplitter", () => {
  it("finds every frame's end, in any chunking, and passes every byte in order", () => {
    fc.assert(
      fc.property(
        fc.array(frameSpec, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        (specs, cuts, bytewiseHead) => {
          const { stream, ends } = build(specs);
          // Sometimes the first 20 bytes one at a time: every header field split across chunks.
          const head = bytewiseHead
            ? Array.from({ length: Math.min(20, stream.length) }, (_, i) => i + 1)
            : [];
          const splitter = new ZstdFrameSplitter();
          const seen: Buffer[] = [];
          const found: number[] = [];
          let at = 0;
          for (const chunk of chunked(stream, [...head, ...cuts])) {
            for (const segment of splitter.split(chunk)) {
              seen.push(segment.bytes);
              at += segment.bytes.length;
              if (segment.frameEnd) found.push(at);
            }
          }
          splitter.finish();
          expect(found).toEqual(ends);
          expect(Buffer.concat(seen).equals(stream)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("marks skippable frames' bytes, and only theirs", () => {
    const { stream } = build([
      { kind: "text", bytes: 5000, checksum: true, contentSize: true, skippableBefore: 30 },
    ]);
    const segments = new ZstdFrameSplitter().split(stream);
    expect(segments.map((s) => [s.bytes.length, s.skippable, s.frameEnd])).toEqual([
      [38, true, true],
      [stream.length - 38, false, true],
    ]);
  });

  it("refuses a stream cut inside a frame, naming where, and accepts one cut between frames", () => {
    const { stream, ends } = build([
      { kind: "text", bytes: 100_000, checksum: true, contentSize: true, skippableBefore: null },
      { kind: "random", bytes: 50_000, checksum: false, contentSize: false, skippableBefore: null },
    ]);
    const first = ends[0] as number;
    for (const cut of [1, 3, 4, 5, first - 4, first - 1, first + 2, stream.length - 1]) {
      const splitter = new ZstdFrameSplitter();
      splitter.split(stream.subarray(0, cut));
      expect(() => splitter.finish(), `cut at ${cut}`).toThrow(ZstdFrameError);
      expect(() => splitter.finish()).toThrow(new RegExp(`cut off at byte ${cut}\\): truncated`));
    }
    const clean = new ZstdFrameSplitter();
    clean.split(stream.subarray(0, first));
    expect(() => clean.finish()).not.toThrow();
  });

  it("refuses bytes that are not a frame, and a header with the reserved bit", () => {
    const { stream } = build([
      { kind: "text", bytes: 1000, checksum: false, contentSize: true, skippableBefore: null },
    ]);
    const junk = Buffer.concat([stream, Buffer.from("PK\u0003\u0004 not zstd")]);
    expect(() => new ZstdFrameSplitter().split(junk)).toThrow(
      new RegExp(`malformed at byte ${stream.length}: no zstd frame starts there \\(magic 504b0304\\)`),
    );
    const reserved = Buffer.from(stream);
    reserved[4] = (reserved[4] as number) | 0x08;
    expect(() => new ZstdFrameSplitter().split(reserved)).toThrow(
      /byte 4: its frame header sets the reserved bit/,
    );
  });
});

describe("the restore's zstd decompressor", () => {
  it("gives back every frame's content, in any chunking", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(frameSpec, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (specs, cuts) => {
          const { stream, plain } = build(specs);
          expect((await decompressAll(chunked(stream, cuts))).equals(plain)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("fails a truncated stream with the splitter's error, not a silent short read", async () => {
    const { stream, ends } = build([
      { kind: "text", bytes: 200_000, checksum: false, contentSize: true, skippableBefore: null },
      { kind: "text", bytes: 200_000, checksum: false, contentSize: true, skippableBefore: null },
    ]);
    const cut = (ends[0] as number) + 100;
    await expect(decompressAll([stream.subarray(0, cut)])).rejects.toMatchObject({
      code: "ZSTD_error_truncated",
    });
  });

  it("fails a corrupt frame body with zstd's own error", async () => {
    const { stream } = build([
      { kind: "text", bytes: 200_000, checksum: true, contentSize: true, skippableBefore: null },
    ]);
    const corrupt = Buffer.from(stream);
    corrupt.fill(0x5a, 40, 60); // inside the first compressed block: headers intact
    await expect(decompressAll([corrupt])).rejects.toMatchObject({
      code: expect.stringMatching(/^ZSTD_error_/),
    });
  });
});
