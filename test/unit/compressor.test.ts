// The backup's compression stage (task-image/src/streams.ts `compressionStages`) with real zlib: zstd
// in 4 MiB frames compressed in parallel (task-image/src/zstd-frames.ts), read back whole by the
// restore's decompressor and by the zstd command line, at a size within 1% of one stream's; every
// codec round-trips, an empty archive too.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants, createZstdCompress } from "node:zlib";
import { describe, expect, it } from "vitest";
import { compressionStages, decompressor } from "#engine/streams.ts";
import { ParallelZstdCompress, ZSTD_FRAME_BYTES, ZstdFrameSplitter } from "#engine/zstd-frames.ts";

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

/** Frames in a zstd stream, by the restore's own walk. */
function frameCount(stream: Buffer): number {
  const splitter = new ZstdFrameSplitter();
  const frames = splitter.split(stream).filter((s) => s.frameEnd).length;
  splitter.finish();
  return frames;
}

describe("compressionStages", () => {
  it("writes zstd in 4 MiB frames that read back whole", async () => {
    const data = archiveLike(10 << 20);
    const out = Buffer.concat(await collect(pipeChunks(data), ...compressionStages("zstd")));
    expect(ZSTD_FRAME_BYTES).toBe(4 << 20);
    expect(frameCount(out)).toBe(3);
    expect(Buffer.concat(await collect([out], decompressor("zstd"))).equals(data)).toBe(true);
  });

  it("keeps the frames' order with many in flight", async () => {
    const data = archiveLike(3 << 20);
    const stage = new ParallelZstdCompress({ frameBytes: 16 * 1024, inFlight: 3 });
    const out = Buffer.concat(await collect(pipeChunks(data, 5_000), stage));
    expect(frameCount(out)).toBeGreaterThan(100);
    expect(Buffer.concat(await collect([out], decompressor("zstd"))).equals(data)).toBe(true);
  });

  it("writes a stream the zstd command line reads back as one", async () => {
    const data = archiveLike(9 << 20);
    const out = Buffer.concat(await collect(pipeChunks(data), ...compressionStages("zstd")));
    expect(frameCount(out)).toBe(3);
    const back = execFileSync("zstd", ["-d", "-c", "-q"], { input: out, maxBuffer: 64 << 20 });
    expect(back.equals(data)).toBe(true);
  });

  it("costs well under 1% of size against one zstd -3 stream", async () => {
    const data = archiveLike(16 << 20);
    const framed = Buffer.concat(await collect(pipeChunks(data), ...compressionStages("zstd"))).length;
    const single = Buffer.concat(
      await collect(
        pipeChunks(data),
        createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: 3 } }),
      ),
    ).length;
    expect(framed / single, `${framed} bytes framed, ${single} as one stream`).toBeLessThan(1.01);
  });

  it.each(["zstd", "gzip", "none"] as const)("%s round-trips an archive and an empty one", async (codec) => {
    for (const data of [archiveLike(3 << 20), Buffer.alloc(0)]) {
      const compressed = Buffer.concat(await collect(pipeChunks(data, 65_521), ...compressionStages(codec)));
      const back = Buffer.concat(await collect([compressed], decompressor(codec)));
      expect(back.equals(data), `${codec}, ${data.length} bytes`).toBe(true);
    }
  });

  it("gives an empty archive one empty zstd frame, which the zstd command line opens", async () => {
    const out = Buffer.concat(await collect([], ...compressionStages("zstd")));
    expect(frameCount(out)).toBe(1);
    expect(execFileSync("zstd", ["-d", "-c", "-q"], { input: out }).length).toBe(0);
  });
});
