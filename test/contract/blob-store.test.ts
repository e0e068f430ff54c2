// The BlobStore contract against both adapters, then what is particular to each.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { crc32 } from "node:zlib";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import {
  DEFAULT_MAX_PART_SIZE_BYTES,
  DEFAULT_QUEUE_SIZE,
  MIN_PART_SIZE_BYTES,
  partPlan,
  S3BlobStore,
} from "#adapters/aws/s3-blob-store.ts";
import {
  crc32Base64,
  maxObjectBytes,
  partSizeFor,
  uploadMemoryBound,
  uploadStream,
} from "#adapters/aws/s3-multipart-upload.ts";
import { FileBlobStore } from "#adapters/local/file-blob-store.ts";
import { NotFoundError, ValidationError } from "#core/errors.ts";
import { listPartials, listUploadsAndObjects } from "#test/support/blob-leftovers.ts";
import { awsClientConfig, uniqueName } from "#test/support/env.ts";
import {
  type BlobStoreHarness,
  blobKey,
  blobStoreContract,
  randomBody,
  readAll,
} from "./blob-store.contract.ts";

const MiB = 1024 * 1024;
const TiB = 1024 * 1024 * MiB;

describe("S3BlobStore", () => {
  let client: S3Client;
  let bucket: string;
  let harness: BlobStoreHarness;
  beforeAll(async () => {
    client = new S3Client(awsClientConfig("s3"));
    bucket = uniqueName("mbm-blobs");
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const store = new S3BlobStore({ client, bucket, maxPartSizeBytes: MIN_PART_SIZE_BYTES, queueSize: 2 });
    harness = {
      store,
      memoryBoundBytes: uploadMemoryBound(partPlan(MIN_PART_SIZE_BYTES), 2),
      leftovers: async (key) => {
        const { uploads, objects } = await listUploadsAndObjects(client, bucket, key);
        return [...uploads.map((k) => `upload ${k}`), ...objects.map((k) => `object ${k}`)];
      },
    };
  });
  afterAll(async () => {
    const { objects } = await listUploadsAndObjects(client, bucket, "");
    for (const key of objects) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    client.destroy();
  });

  blobStoreContract("S3", () => harness);

  it("grows parts enough for a 1 TiB dump by default and states the memory that costs", () => {
    expect(DEFAULT_MAX_PART_SIZE_BYTES).toBe(128 * MiB);
    expect(DEFAULT_QUEUE_SIZE).toBe(2);
    const plan = partPlan(DEFAULT_MAX_PART_SIZE_BYTES);
    expect(maxObjectBytes(plan)).toBeGreaterThan(1.15 * TiB);
    expect(maxObjectBytes(partPlan(5 * MiB))).toBeLessThan(50 * 1024 * MiB);
    expect(uploadMemoryBound(plan, DEFAULT_QUEUE_SIZE)).toBe(512 * MiB);
    // Small archives hold small parts: the first 800 MiB go in 8 MiB parts, 128 MiB ones from 11.7 GiB.
    expect([1, 100, 101, 400, 401, 10_000].map((n) => partSizeFor(plan, n) / MiB)).toEqual([
      8, 8, 16, 64, 128, 128,
    ]);
  });

  it("sends parts that start small and grow, and puts an archive that fits in one part in one request", async () => {
    // [part number, size]: parts go out concurrently, so their order is by number, not by arrival.
    const parts: [number, number][] = [];
    const puts: number[] = [];
    const watched = new S3Client(awsClientConfig("s3"));
    onTestFinished(() => watched.destroy());
    watched.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Body?: Buffer; PartNumber?: number };
        if (context.commandName === "UploadPartCommand") {
          parts.push([input.PartNumber ?? -1, input.Body?.byteLength ?? -1]);
        }
        if (context.commandName === "PutObjectCommand") puts.push(input.Body?.byteLength ?? -1);
        return next(args);
      },
      { step: "initialize", name: "recordParts" },
    );
    // 5 MiB parts twice, then 10 MiB ones: 32 MiB = 5 + 5 + 10 + 10 + 2.
    const plan = { firstPartSizeBytes: 5 * MiB, maxPartSizeBytes: 10 * MiB, partsPerSize: 2 };
    const params = { Bucket: bucket, Key: blobKey() };
    const { body, sha256 } = randomBody(32 * MiB);
    await uploadStream({ client: watched, plan, queueSize: 2, params }, body);
    expect(parts.sort(([a], [b]) => a - b)).toEqual([5, 5, 10, 10, 2].map((n, i) => [i + 1, n * MiB]));
    expect(puts).toEqual([]);
    expect(await readAll((await harness.store.download(params.Key)).body)).toEqual({
      size: 32 * MiB,
      sha256: sha256(),
    });

    const small = { Bucket: bucket, Key: blobKey() };
    await uploadStream({ client: watched, plan, queueSize: 2, params: small }, randomBody(5 * MiB).body);
    expect(puts).toEqual([5 * MiB]); // exactly one part's size still fits in one PutObject
    expect(parts).toHaveLength(5);
    await Promise.all([harness.store.delete(params.Key), harness.store.delete(small.Key)]);
  });

  it("refuses parts under 5 MiB", () => {
    expect(() => new S3BlobStore({ client, bucket, maxPartSizeBytes: 5 * MiB - 1 })).toThrow(RangeError);
    expect(() => new S3BlobStore({ client, bucket, queueSize: 0 })).toThrow(RangeError);
  });

  it("stores content type and metadata with the object", async () => {
    const key = blobKey();
    await harness.store.upload(key, Readable.from([Buffer.from("x")]), {
      contentType: "application/gzip",
      metadata: { "backup-id": "b-1" },
    });
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ContentType).toBe("application/gzip");
    expect(head.Metadata).toEqual({ "backup-id": "b-1" });
    await harness.store.delete(key);
  });

  it("aborts the multipart upload when S3 fails a part, and rejects with S3's error as cause", async () => {
    const failing = new S3Client(awsClientConfig("s3"));
    onTestFinished(() => failing.destroy());
    const s3Error = new Error("injected UploadPart failure");
    failing.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { PartNumber?: number };
        if (context.commandName === "UploadPartCommand" && input.PartNumber === 2) throw s3Error;
        return next(args);
      },
      { step: "initialize", name: "failSecondPart" },
    );
    const store = new S3BlobStore({ client: failing, bucket, maxPartSizeBytes: MIN_PART_SIZE_BYTES });
    const key = blobKey();
    const { body } = randomBody(16 * MiB);
    const error = await store.upload(key, body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).cause).toBe(s3Error);
    expect(body.destroyed).toBe(true);
    expect(await store.head(key)).toBeUndefined();
    expect(await listUploadsAndObjects(client, bucket, key)).toEqual({ uploads: [], objects: [] });
  });

  it("aborts the multipart upload when S3 refuses to complete it: no object, no upload left", async () => {
    // Every part lands; S3 itself then refuses the completion, because it names a part it never got.
    const refusing = new S3Client(awsClientConfig("s3"));
    onTestFinished(() => refusing.destroy());
    refusing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "CompleteMultipartUploadCommand") {
          const input = args.input as { MultipartUpload?: { Parts?: { ETag?: string }[] } };
          const first = input.MultipartUpload?.Parts?.[0];
          if (first) first.ETag = '"00000000000000000000000000000000"';
        }
        return next(args);
      },
      { step: "initialize", name: "spoilCompletion" },
    );
    const store = new S3BlobStore({ client: refusing, bucket, maxPartSizeBytes: MIN_PART_SIZE_BYTES });
    const key = blobKey();
    const error = await store.upload(key, randomBody(12 * MiB).body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).cause).toMatchObject({ name: "InvalidPart" });
    expect(await store.head(key)).toBeUndefined();
    expect(await listUploadsAndObjects(client, bucket, key)).toEqual({ uploads: [], objects: [] });
  });

  it("rejects with the cause when the bucket does not exist", async () => {
    const store = new S3BlobStore({ client, bucket: uniqueName("mbm-missing") });
    const error = await store.upload(blobKey(), randomBody(MiB).body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).cause).toMatchObject({ name: "NoSuchBucket" });
  });
});

describe("FileBlobStore", () => {
  let dir: string;
  let harness: BlobStoreHarness;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "mbm-blobs-"));
    harness = {
      store: new FileBlobStore({ dir }),
      // Nothing like parts here: the brief's (queueSize + 2) x 5 MiB, far above what a file write holds.
      memoryBoundBytes: 4 * MIN_PART_SIZE_BYTES,
      leftovers: async (key) => {
        const partials = await listPartials(dir);
        const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
          .filter((e) => e.isFile())
          .map((e) => join(e.parentPath, e.name));
        return [
          ...partials.map((p) => `partial ${p}`),
          ...files.filter((f) => f.endsWith(key)).map((f) => `file ${f}`),
        ];
      },
    };
    return () => rm(dir, { recursive: true, force: true });
  });

  blobStoreContract("local files", () => harness);

  it("refuses keys that could leave the directory or hide as temp files", async () => {
    for (const key of [
      "../escape",
      "a/../../escape",
      "/etc/passwd",
      "a\\b",
      "a\0b",
      "",
      "a//b",
      "a/./b",
      "a/",
      "x.partial",
    ]) {
      await expect(harness.store.upload(key, Readable.from([Buffer.from("x")]))).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(harness.store.download(key)).rejects.toBeInstanceOf(ValidationError);
      await expect(harness.store.head(key)).rejects.toBeInstanceOf(ValidationError);
      await expect(harness.store.delete(key)).rejects.toBeInstanceOf(ValidationError);
    }
  });

  it("accepts dots inside names, which stay inside the directory", async () => {
    const key = "v1..2/..archive..gz";
    await harness.store.upload(key, Readable.from([Buffer.from("x")]));
    expect((await stat(join(dir, "v1..2", "..archive..gz"))).size).toBe(1);
    await harness.store.delete(key);
  });

  it("writes 0600 files under the directory, at the key's path", async () => {
    const key = blobKey();
    await harness.store.upload(key, Readable.from([Buffer.from("data")]));
    const s = await stat(join(dir, ...key.split("/")));
    expect(s.mode & 0o777).toBe(0o600);
    expect(s.size).toBe(4);
  });

  it("treats a directory at the key as absent", async () => {
    await mkdir(join(dir, "a", "b"), { recursive: true });
    expect(await harness.store.head("a/b")).toBeUndefined();
    await expect(harness.store.download("a")).rejects.toMatchObject({ name: "NotFoundError" });
  });

  it("finds temp files of unfinished uploads with listPartials", async () => {
    await mkdir(join(dir, "x"), { recursive: true });
    await writeFile(join(dir, "x", ".y.gz.abc.partial"), "half");
    expect(await listPartials(dir)).toEqual([join("x", ".y.gz.abc.partial")]);
  });

  it("keeps serving the version a download opened after the key is replaced", async () => {
    const key = blobKey();
    await harness.store.upload(key, Readable.from([Buffer.from("old contents")]));
    const opened = await harness.store.download(key);
    await harness.store.upload(key, Readable.from([Buffer.from("new")]));
    expect((await readAll(opened.body)).size).toBe("old contents".length);
  });
});

// What a backup records so that its restore can read it in one pass: the object's version and S3's
// own full-object checksum (CRC32, verified by S3 at upload), and reads pinned to that version.
describe("S3BlobStore on a versioned bucket", () => {
  let client: S3Client;
  let bucket: string;
  let store: S3BlobStore;
  beforeAll(async () => {
    client = new S3Client(awsClientConfig("s3"));
    bucket = uniqueName("mbm-versioned");
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }),
    );
    store = new S3BlobStore({ client, bucket, maxPartSizeBytes: MIN_PART_SIZE_BYTES });
  });
  afterAll(async () => {
    const listed = await client.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    for (const v of [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])]) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: v.Key, VersionId: v.VersionId }));
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    client.destroy();
  });

  const bytesOf = async (body: Readable) => {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  it.each([
    ["multipart (12 MiB in 5 MiB parts)", 12 * MiB],
    ["one PutObject", 100_000],
  ])("records the version and the full-object CRC32 of an upload: %s", async (_name, size) => {
    const key = blobKey();
    const bytes = randomBytes(size);
    const info = await store.upload(
      key,
      Readable.from([bytes.subarray(0, size >> 1), bytes.subarray(size >> 1)]),
    );
    expect(info.versionId).toEqual(expect.any(String));
    expect(info.checksum).toBe(`crc32:${crc32Base64(crc32(bytes))}`);
    const head = await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }),
    );
    expect(head.VersionId).toBe(info.versionId);
    expect(`crc32:${head.ChecksumCRC32}`).toBe(info.checksum);
  });

  it("reads exactly the recorded version after a newer one is written, and refuses a deleted one", async () => {
    const key = blobKey();
    const original = randomBytes(6 * MiB);
    const first = await store.upload(key, Readable.from([original]));
    const second = await store.upload(key, Readable.from([randomBytes(6 * MiB)]));
    expect(second.versionId).not.toBe(first.versionId);

    const pinned = await store.download(key, { versionId: first.versionId });
    expect(pinned.info.versionId).toBe(first.versionId);
    expect((await bytesOf(pinned.body)).equals(original)).toBe(true);
    const latest = await store.download(key);
    expect(latest.info.versionId).toBe(second.versionId);
    latest.body.destroy();

    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: first.versionId }));
    await expect(store.download(key, { versionId: first.versionId })).rejects.toThrow(NotFoundError);
  });

  it("a local store keeps no versions: a versioned read is refused, not served from the latest file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mbm-blobs-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const local = new FileBlobStore({ dir });
    const key = blobKey();
    const info = await local.upload(key, Readable.from([Buffer.from("archive")]));
    expect(info.versionId).toBeUndefined();
    await expect(local.download(key, { versionId: "v1" })).rejects.toThrow(/keeps no object versions/);
  });
});
