// The restore's chunk sizes (task-image/src/streams.ts, the local blob store): large enough that a
// restore makes a thread-pool round trip and a pipe write per 256 KiB of archive, not per 16 KiB
// (test/bench/README.md, "Restore: where the time goes"). Real zlib, a real file.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it, onTestFinished } from "vitest";
import { FileBlobStore, READ_CHUNK_BYTES } from "#adapters/local/file-blob-store.ts";
import { compressor, DECOMPRESSED_CHUNK_BYTES, decompressor } from "#engine/streams.ts";

const MiB = 1024 * 1024;

async function chunkSizes(stream: Readable): Promise<number[]> {
  const sizes: number[] = [];
  for await (const chunk of stream) sizes.push((chunk as Buffer).length);
  return sizes;
}

describe("restore chunk sizes", () => {
  it.each(["zstd", "gzip"] as const)("%s decompresses in 256 KiB chunks", async (codec) => {
    // Compressible but not trivially: 4 MiB of repeated 64 KiB random blocks.
    const block = randomBytes(64 * 1024);
    const plain = Buffer.concat(Array.from({ length: 64 }, () => block));
    const compressed = Buffer.concat(await chunksOf(Readable.from([plain]).pipe(compressor(codec))));
    const sizes = await chunkSizes(Readable.from([compressed]).pipe(decompressor(codec)));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(plain.length);
    expect(Math.max(...sizes)).toBe(DECOMPRESSED_CHUNK_BYTES);
    expect(DECOMPRESSED_CHUNK_BYTES).toBe(256 * 1024);
  });

  it("the local store reads a download 1 MiB at a time", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mbm-chunks-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const store = new FileBlobStore({ dir });
    await store.upload("backups/a/archive.zst", Readable.from([randomBytes(3 * MiB + 5)]));
    const { body } = await store.download("backups/a/archive.zst");
    expect(await chunkSizes(body)).toEqual([MiB, MiB, MiB, 5]);
    expect(READ_CHUNK_BYTES).toBe(MiB);
  });
});

async function chunksOf(stream: Readable): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return chunks;
}
