// Blob store on S3: backup archives streamed in with multipart uploads whose parts grow with the
// archive (s3-multipart-upload.ts), streamed out with GetObject.
import { addAbortSignal, pipeline, Readable, Transform, type TransformCallback } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { ConflictError, NotFoundError } from "#core/errors.ts";
import type { BlobInfo, BlobStore, DownloadOptions, UploadOptions } from "#core/ports.ts";
import { type PartPlan, uploadStream } from "./s3-multipart-upload.ts";

/** S3's smallest part (all but the last part of a multipart upload). */
export const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;
/** S3's largest part. */
export const MAX_PART_SIZE_BYTES = 5 * 1024 * 1024 * 1024;
/** Parts start at 8 MiB (or the largest part size, when that is smaller). */
export const FIRST_PART_SIZE_BYTES = 8 * 1024 * 1024;
/** Each part size serves 100 parts before it doubles: 8 MiB parts carry the first 800 MiB. */
export const PARTS_PER_SIZE = 100;
/**
 * Parts grow to 128 MiB: 10,000 parts then hold 1.18 TiB, enough for a 1 TiB dump, and the upload's
 * memory stays under (2 + 2) x 128 MiB = 512 MiB (see uploadMemoryBound). Only archives past 11.7 GiB
 * reach 128 MiB parts (100 parts each of 8, 16, 32 and 64 MiB come first); up to 800 MiB it is 4 x 8 MiB.
 */
export const DEFAULT_MAX_PART_SIZE_BYTES = 128 * 1024 * 1024;
/** Parts uploaded at once. */
export const DEFAULT_QUEUE_SIZE = 2;

/** The part plan of a store whose parts grow to `maxPartSizeBytes`. */
export function partPlan(maxPartSizeBytes: number): PartPlan {
  return {
    firstPartSizeBytes: Math.min(FIRST_PART_SIZE_BYTES, maxPartSizeBytes),
    maxPartSizeBytes,
    partsPerSize: PARTS_PER_SIZE,
  };
}

export interface S3BlobStoreOptions {
  /** Default: a client from the environment's region and credentials. */
  client?: S3Client;
  bucket: string;
  /** The size parts grow to. Default: DEFAULT_MAX_PART_SIZE_BYTES (128 MiB). At least 5 MiB, at most 5 GiB. */
  maxPartSizeBytes?: number;
  /** Default: DEFAULT_QUEUE_SIZE (2). */
  queueSize?: number;
  /** SSE-KMS for every object written, with this key (or the AWS managed key when absent). Default: the bucket's default encryption. */
  sse?: { kmsKeyId?: string };
}

/** Counts the bytes that pass through. */
class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.byteLength;
    callback(null, chunk);
  }
}

function statusOf(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

function isNotFound(error: unknown): boolean {
  return error instanceof NoSuchKey || error instanceof NotFound || statusOf(error) === 404;
}

export class S3BlobStore implements BlobStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #plan: PartPlan;
  readonly #queueSize: number;
  readonly #sse: { kmsKeyId?: string } | undefined;

  constructor({ client, bucket, maxPartSizeBytes, queueSize, sse }: S3BlobStoreOptions) {
    const partSize = maxPartSizeBytes ?? DEFAULT_MAX_PART_SIZE_BYTES;
    if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE_BYTES || partSize > MAX_PART_SIZE_BYTES) {
      throw new RangeError(
        `maxPartSizeBytes must be an integer from ${MIN_PART_SIZE_BYTES} (5 MiB) to ${MAX_PART_SIZE_BYTES} (5 GiB), got ${partSize}`,
      );
    }
    const queue = queueSize ?? DEFAULT_QUEUE_SIZE;
    if (!Number.isInteger(queue) || queue < 1) {
      throw new RangeError(`queueSize must be a positive integer, got ${queue}`);
    }
    if (!bucket) throw new Error("S3 blob store needs a bucket");
    this.#client = client ?? new S3Client({});
    this.#bucket = bucket;
    this.#plan = partPlan(partSize);
    this.#queueSize = queue;
    this.#sse = sse;
  }

  async upload(key: string, body: Readable, options: UploadOptions = {}): Promise<BlobInfo> {
    const { signal } = options;
    if (signal?.aborted) {
      body.destroy();
      throw new Error(`upload of blob ${key} aborted`, { cause: signal.reason });
    }
    // The body reaches the upload through a counter. On abort the body is destroyed and pipeline
    // destroys the counter with the same error, so the upload's reader fails and it aborts the
    // multipart upload before it rejects.
    const counter = new ByteCounter();
    if (signal) addAbortSignal(signal, body);
    pipeline(body, counter, () => {
      // Errors reach the upload through `counter`, which pipeline destroys with the same error.
    });
    let written: { etag: string | undefined; versionId: string | undefined; checksum: string | undefined };
    try {
      written = await uploadStream(
        {
          client: this.#client,
          plan: this.#plan,
          queueSize: this.#queueSize,
          params: {
            Bucket: this.#bucket,
            Key: key,
            ContentType: options.contentType,
            Metadata: options.metadata,
            ...(this.#sse
              ? { ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: this.#sse.kmsKeyId }
              : {}),
          },
        },
        counter,
      );
    } catch (error) {
      // uploadStream has destroyed the counter (pipeline then destroys the body) and aborted its upload.
      const cause = signal?.aborted ? signal.reason : error;
      throw new Error(`upload of blob ${key} failed`, { cause });
    }
    if (signal?.aborted) {
      // Aborted after the body was read in full: the object exists, but the caller was told it won't.
      await this.delete(key);
      throw new Error(`upload of blob ${key} aborted`, { cause: signal.reason });
    }
    const { versionId, checksum } = written;
    if (!written.etag) {
      const info = await this.head(key);
      if (!info) throw new Error(`blob ${key} is missing right after its upload`);
      return { ...info, versionId, checksum };
    }
    return { key, size: counter.bytes, etag: written.etag, versionId, checksum };
  }

  async download(key: string, options: DownloadOptions = {}): Promise<{ info: BlobInfo; body: Readable }> {
    const { signal, ifMatch, versionId } = options;
    try {
      const res = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: key, IfMatch: ifMatch, VersionId: versionId }),
        signal ? { abortSignal: signal } : {},
      );
      if (!(res.Body instanceof Readable)) {
        throw new Error(`blob ${key}: GetObject returned no readable body`);
      }
      if (versionId !== undefined && res.VersionId !== versionId) {
        res.Body.destroy();
        throw new ConflictError(
          `blob ${key}: S3 served version ${res.VersionId ?? "(none)"}, not ${versionId}`,
        );
      }
      const body = signal ? addAbortSignal(signal, res.Body) : res.Body;
      const servedVersion = res.VersionId === "null" ? undefined : res.VersionId;
      const info = { key, size: res.ContentLength ?? 0, etag: res.ETag ?? "", versionId: servedVersion };
      return { info, body };
    } catch (error) {
      if (error instanceof ConflictError) throw error;
      // A version that was deleted answers NoSuchVersion (404) or, for a malformed id, 400.
      if (isNotFound(error) || (versionId !== undefined && statusOf(error) === 400)) {
        throw new NotFoundError("blob", versionId === undefined ? key : `${key} version ${versionId}`, {
          cause: error,
        });
      }
      if (statusOf(error) === 412) {
        throw new ConflictError(`blob ${key} no longer has version ${ifMatch}`, { cause: error });
      }
      throw error;
    }
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    try {
      const res = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: key, ChecksumMode: "ENABLED" }),
      );
      return {
        key,
        size: res.ContentLength ?? 0,
        etag: res.ETag ?? "",
        versionId: res.VersionId === "null" ? undefined : res.VersionId,
        checksum: res.ChecksumCRC32 === undefined ? undefined : `crc32:${res.ChecksumCRC32}`,
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
  }
}
