// The backup's compression stage (task-image/src/streams.ts `compressionStages`) with real zlib: zstd takes
// the pipe's 64 KiB chunks in 1 MiB batches (a tenth less CPU per byte, see ZSTD_BATCH_BYTES), and
// every codec still round-trips through the restore's decompressor, including an empty archive.
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { Batches, compressionStages, decompressor } from "#engine/streams.ts";

/** Archive-like text: compressible about as much as a BSON dump of order documents. */
function archiveLike(bytes: number): Buffer {
  const lines: string[] = [];
  for (let i = 0, n = 0; n < bytes; i++) {
    const line = `{"order":${i},"status":"shipped","token":"${createHash("sha1").update(String(i)).digest("hex")}"}\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, bytes);
}

const pipeChunks = (data: Buffer, size = 64 * 1024) => {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) chunks.push(data.subarray(at, at + size));
  return chunks;
};

async function collect(chunks: Buffer[], ...stages: NodeJS.ReadWriteStream[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline([Readable.from(chunks), ...stages, sink]);
  return out;
}

describe("compressionStages", () => {
  it("gives zstd the pipe's chunks in 1 MiB batches: one output chunk per batch, not per 64 KiB", async () => {
    const data = archiveLike(8 << 20);
    const out = await collect(pipeChunks(data), ...compressionStages("zstd"));
    // One call per 64 KiB chunk would be 128 calls and as many output chunks; a batch gives one or two.
    expect(out.length, `${out.length} output chunks`).toBeLessThanOrEqual(32);
    const back = Buffer.concat(await collect([Buffer.concat(out)], decompressor("zstd")));
    expect(back.equals(data)).toBe(true);
  });

  it.each(["zstd", "gzip", "none"] as const)("%s round-trips an archive and an empty one", async (codec) => {
    for (const data of [archiveLike(3 << 20), Buffer.alloc(0)]) {
      const compressed = Buffer.concat(await collect(pipeChunks(data, 65_521), ...compressionStages(codec)));
      const back = Buffer.concat(await collect([compressed], decompressor(codec)));
      expect(back.equals(data), `${codec}, ${data.length} bytes`).toBe(true);
    }
  });
});

describe("Batches", () => {
  it("passes every byte in order, in buffers of at least the batch size but the last", async () => {
    const data = archiveLike(1_000_000);
    const out = await collect(pipeChunks(data, 7_000), new Batches(100_000));
    expect(Buffer.concat(out).equals(data)).toBe(true);
    expect(out.slice(0, -1).every((b) => b.length >= 100_000)).toBe(true);
    expect(out.length).toBe(10);
  });
});
