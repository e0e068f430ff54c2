// The BlobStore contract: what every adapter (S3, local files) must do the same way.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { ConflictError, NotFoundError } from "#core/errors.ts";
import type { BlobStore } from "#core/ports.ts";

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;

export interface BlobStoreHarness {
  store: BlobStore;
  /** What an unfinished upload of `key` left behind (open multipart uploads, temp files): must be []. */
  leftovers(key: string): Promise<string[]>;
  /** The most that live buffers and heap may grow during one upload, whatever the body's length. */
  memoryBoundBytes: number;
}

export function blobKey(name = "archive.gz"): string {
  return `backups/${randomUUID()}/${name}`;
}

/** A byte stream of `total` random bytes, its digest ready once it has ended. */
export function randomBody(
  total: number,
  hooks: { failAfter?: number; onBytes?: (sent: number) => void } = {},
): { body: Readable; sha256: () => string } {
  const hash = createHash("sha256");
  async function* chunks() {
    let sent = 0;
    while (sent < total) {
      if (hooks.failAfter !== undefined && sent >= hooks.failAfter) throw new Error("body broke");
      const chunk = randomBytes(Math.min(CHUNK, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      hooks.onBytes?.(sent);
      yield chunk;
    }
    if (hooks.failAfter !== undefined) throw new Error("body broke");
  }
  let digest: string | undefined;
  return {
    body: Readable.from(chunks(), { objectMode: false }),
    sha256: () => {
      digest ??= hash.digest("hex");
      return digest;
    },
  };
}

export async function readAll(body: Readable): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of body) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest("hex") };
}

/** The error and each of its causes. */
function causes(error: unknown): unknown[] {
  const all: unknown[] = [];
  for (let e: unknown = error; e !== undefined && all.length < 10; e = (e as Error).cause) all.push(e);
  return all;
}

/**
 * A full garbage collection, so memory samples count live buffers rather than garbage V8 has not yet
 * collected. `--expose-gc` is switched on at run time; the function comes from a fresh context.
 */
function collector(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/**
 * Runs the contract against the harness `getHarness` returns (called inside each test, so the
 * adapter's test file may build it in a hook).
 */
export function blobStoreContract(name: string, getHarness: () => BlobStoreHarness): void {
  describe(`BlobStore contract: ${name}`, () => {
    async function expectNothingAt(key: string) {
      const { store, leftovers } = getHarness();
      expect(await store.head(key)).toBeUndefined();
      await expect(store.download(key)).rejects.toBeInstanceOf(NotFoundError);
      expect(await leftovers(key)).toEqual([]);
    }

    for (const [label, size] of [
      ["0 bytes", 0],
      ["1 byte", 1],
      ["~12 MiB (multipart)", 12 * MiB + 12_345],
    ] as const) {
      it(`round-trips ${label} streamed from a generator`, async () => {
        const { store } = getHarness();
        const key = blobKey();
        const { body, sha256 } = randomBody(size);
        const info = await store.upload(key, body, {
          contentType: "application/gzip",
          metadata: { "backup-id": "b1" },
        });
        // versionId and checksum only where the store keeps them (a versioned S3 bucket; S3).
        expect(info).toMatchObject({ key, size, etag: expect.any(String) });
        expect(info.etag).not.toBe("");
        expect(await store.head(key)).toEqual(info);
        const down = await store.download(key);
        // A download names the version it serves; the checksum is the upload's and head's to tell.
        expect(down.info).toEqual({ key, size, etag: info.etag, versionId: info.versionId });
        expect(await readAll(down.body)).toEqual({ size, sha256: sha256() });
        await store.delete(key);
      });
    }

    it("deletes, idempotently", async () => {
      const { store } = getHarness();
      const key = blobKey();
      await store.upload(key, Readable.from([Buffer.from("data")]));
      await store.delete(key);
      expect(await store.head(key)).toBeUndefined();
      await expect(store.delete(key)).resolves.toBeUndefined();
      await expect(store.delete(blobKey())).resolves.toBeUndefined();
    });

    it("heads and downloads a missing key as absent / NotFoundError", async () => {
      const { store } = getHarness();
      const key = blobKey();
      expect(await store.head(key)).toBeUndefined();
      const error = await store.download(key).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ entity: "blob", id: key });
    });

    it("pins a download to a version with ifMatch", async () => {
      const { store } = getHarness();
      const key = blobKey();
      const first = await store.upload(key, Readable.from([Buffer.from("version one")]));
      const pinned = await store.download(key, { ifMatch: first.etag });
      expect((await readAll(pinned.body)).size).toBe(11);

      const second = await store.upload(key, Readable.from([Buffer.from("version two")]));
      expect(second.etag).not.toBe(first.etag);
      await expect(store.download(key, { ifMatch: first.etag })).rejects.toBeInstanceOf(ConflictError);
      const current = await store.download(key, { ifMatch: second.etag });
      expect(current.info.etag).toBe(second.etag);
      await readAll(current.body);
      await store.delete(key);
    });

    it("leaves nothing behind when the body errors after ~7 MiB", async () => {
      const { store } = getHarness();
      const key = blobKey();
      const { body } = randomBody(12 * MiB, { failAfter: 7 * MiB });
      const error = await store.upload(key, body).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(causes(error).map((e) => (e as Error).message)).toContain("body broke");
      expect(body.destroyed).toBe(true);
      await expectNothingAt(key);
    });

    it("leaves nothing behind when the body errors before ending, under one part", async () => {
      const { store } = getHarness();
      const key = blobKey();
      const { body } = randomBody(MiB, { failAfter: MiB });
      const error = await store.upload(key, body).catch((e: unknown) => e);
      expect(causes(error).map((e) => (e as Error).message)).toContain("body broke");
      await expectNothingAt(key);
    });

    it("leaves nothing behind when the signal aborts mid-upload", async () => {
      const { store } = getHarness();
      const key = blobKey();
      const controller = new AbortController();
      const reason = new Error("operator cancelled");
      const { body } = randomBody(64 * MiB, {
        onBytes: (sent) => {
          if (sent >= 7 * MiB && !controller.signal.aborted) controller.abort(reason);
        },
      });
      const error = await store.upload(key, body, { signal: controller.signal }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(causes(error)).toContain(reason);
      expect(body.destroyed).toBe(true);
      await expectNothingAt(key);
    });

    it("refuses at once with a signal that has already aborted", async () => {
      const { store } = getHarness();
      const key = blobKey();
      const { body } = randomBody(MiB);
      await expect(store.upload(key, body, { signal: AbortSignal.abort() })).rejects.toThrow();
      await expectNothingAt(key);
    });

    it("keeps memory bounded while uploading 64 MiB from a generator", async () => {
      const { store, memoryBoundBytes: bound } = getHarness();
      const key = blobKey();
      const gc = collector();
      const total = 64 * MiB;
      // Loose on purpose: a guard against buffering the whole stream (64 MiB here), not a benchmark.
      const live = () => {
        const m = process.memoryUsage();
        return { rss: m.rss, buffers: m.arrayBuffers + m.heapUsed };
      };
      gc();
      const before = live();
      let peak = { rss: 0, buffers: 0 };
      const sample = () => {
        gc();
        const now = live();
        peak = { rss: Math.max(peak.rss, now.rss), buffers: Math.max(peak.buffers, now.buffers) };
      };
      let next = 0;
      const { body, sha256 } = randomBody(total, {
        onBytes: (sent) => {
          if (sent >= next) {
            next += 2 * MiB;
            sample();
          }
        },
      });
      const info = await store.upload(key, body);
      sample();
      expect(info.size).toBe(total);
      const growth = { rss: peak.rss - before.rss, buffers: peak.buffers - before.buffers };
      expect(growth.buffers, `live heap + buffers grew ${growth.buffers} bytes`).toBeLessThan(bound);
      // RSS also holds freed memory the allocator has not returned: a looser check.
      expect(growth.rss, `rss grew ${growth.rss} bytes`).toBeLessThan(bound + 32 * MiB);
      const down = await store.download(key);
      expect(await readAll(down.body)).toEqual({ size: total, sha256: sha256() });
      await store.delete(key);
    });
  });
}
