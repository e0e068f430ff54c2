// Why the engine's zstd runs as one plain stream (task-image/src/streams.ts `compressor`): the two
// ways to put zstd on more than one core fail in Node 24's zlib. If one of these starts failing,
// Node has fixed it, and the choice in `compressor` is worth measuring again.
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants, createZstdCompress, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { describe, expect, it } from "vitest";

const text = (bytes: number) => {
  const lines: string[] = [];
  for (let i = 0, n = 0; n < bytes; i++) {
    const line = `{"order":${i},"token":"${createHash("sha1").update(String(i)).digest("hex")}"}\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, bytes);
};

describe("Node 24 zlib zstd limits", () => {
  it("a stream with zstd's worker threads (ZSTD_c_nbWorkers) does not round-trip (nodejs/node#59899)", async () => {
    const data = text(12 << 20);
    const out: Buffer[] = [];
    const compressing = pipeline(
      Readable.from([data]),
      createZstdCompress({
        params: { [constants.ZSTD_c_compressionLevel]: 3, [constants.ZSTD_c_nbWorkers]: 2 },
      }),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          out.push(chunk);
          callback();
        },
      }),
    );
    const outcome = await compressing.then(
      () => (zstdDecompressSync(Buffer.concat(out)).equals(data) ? "round-trips" : "loses data"),
      (error: { code?: string }) => error.code ?? "fails",
    );
    expect(outcome).not.toBe("round-trips");
  });

  it("its decompressor stops after the first of concatenated frames (nodejs/node#64741)", () => {
    // Not every input shows it (it depends on where the first frame's output ends); this one does.
    const first = Buffer.from("hello world ".repeat(90_000));
    const second = Buffer.from("the second frame ".repeat(1000));
    const both = Buffer.concat([zstdCompressSync(first), zstdCompressSync(second)]);
    // A block-parallel compressor writes one frame per block: a restore would silently lose the rest.
    expect(zstdDecompressSync(both).length).toBe(first.length);
  });
});
