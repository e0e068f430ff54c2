// Blob store on S3: backup archives streamed in with multipart uploads, streamed out with GetObject.
import { addAbortSignal, pipeline, Readable, Transform, type TransformCallback } from "node:stream";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NoSuchUpload,
  NotFound,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { ConflictError, NotFoundError } from "#core/errors.ts";
import type { BlobInfo, BlobStore, DownloadOptions, UploadOptions } from "#core/ports.ts";

/** S3's smallest part (all but the last part of a multipart upload). */
export const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;
/** S3's largest part. */
export const MAX_PART_SIZE_BYTES = 5 * 1024 * 1024 * 1024;
/** S3's limit on the number of parts of one multipart upload. */
export const MAX_PARTS = 10_000;
/**
 * lib-storage's own default is 5 MiB, which caps a stream of unknown length at 10,000 parts = ~48.8 GiB.
 * 128 MiB parts allow 10,000 x 128 MiB = 1.22 TiB, enough for a 1 TiB dump.
 */
export const DEFAULT_PART_SIZE_BYTES = 128 * 1024 * 1024;
/** Parts uploaded at once. */
export const DEFAULT_QUEUE_SIZE = 2;

/** The largest object one upload can write with this part size (S3 allows at most 10,000 parts). */
export function maxObjectBytes(partSize: number): number {
  return partSize * MAX_PARTS;
}

/**
 * The memory an upload may hold, whatever the length of the body. lib-storage keeps up to `queueSize`
 * parts in flight plus the part it is assembling from the stream (the "queueSize + 1" of its docs), but
 * an uploader that has sent its part still references it until its next part is cut, and cutting a part
 * (Buffer.concat) briefly holds one more copy. Measured live buffers (test/contract, forced GC):
 * queueSize 1 -> 3 parts, 2 -> 4, 3 -> 5, 4 -> up to 8. So the bound is (2 x queueSize + 1) parts:
 * with the defaults (128 MiB, 2) 640 MiB, which the uploading task needs as headroom above its own
 * working set. A smaller part size shrinks it, at the cost of maxObjectBytes.
 */
export function uploadMemoryBound(partSize: number, queueSize: number): number {
  return (2 * queueSize + 1) * partSize;
}

export interface S3BlobStoreOptions {
  /** Default: a client from the environment's region and credentials. */
  client?: S3Client;
  bucket: string;
  /** Default: DEFAULT_PART_SIZE_BYTES (128 MiB). At least 5 MiB, at most 5 GiB. */
  partSizeBytes?: number;
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
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #sse: { kmsKeyId?: string } | undefined;

  constructor({ client, bucket, partSizeBytes, queueSize, sse }: S3BlobStoreOptions) {
    const partSize = partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
    if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE_BYTES || partSize > MAX_PART_SIZE_BYTES) {
      throw new RangeError(
        `partSizeBytes must be an integer from ${MIN_PART_SIZE_BYTES} (5 MiB) to ${MAX_PART_SIZE_BYTES} (5 GiB), got ${partSize}`,
      );
    }
    const queue = queueSize ?? DEFAULT_QUEUE_SIZE;
    if (!Number.isInteger(queue) || queue < 1) {
      throw new RangeError(`queueSize must be a positive integer, got ${queue}`);
    }
    if (!bucket) throw new Error("S3 blob store needs a bucket");
    this.#client = client ?? new S3Client({});
    this.#bucket = bucket;
    this.#partSize = partSize;
    this.#queueSize = queue;
    this.#sse = sse;
  }

  async upload(key: string, body: Readable, options: UploadOptions = {}): Promise<BlobInfo> {
    const { signal } = options;
    if (signal?.aborted) {
      body.destroy();
      throw new Error(`upload of blob ${key} aborted`, { cause: signal.reason });
    }
    // The body reaches lib-storage through a counter. On abort the body is destroyed and pipeline
    // destroys the counter with the same error, so the upload's reader fails and lib-storage aborts
    // the multipart upload before `done()` rejects. (lib-storage's own abort() would make `done()`
    // reject at once, while the clean-up still runs in the background.)
    const counter = new ByteCounter();
    if (signal) addAbortSignal(signal, body);
    pipeline(body, counter, () => {
      // Errors reach lib-storage through `counter`, which pipeline destroys with the same error.
    });
    const upload = new Upload({
      client: this.#client,
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      leavePartsOnError: false,
      params: {
        Bucket: this.#bucket,
        Key: key,
        Body: counter,
        ContentType: options.contentType,
        Metadata: options.metadata,
        ...(this.#sse ? { ServerSideEncryption: "aws:kms", SSEKMSKeyId: this.#sse.kmsKeyId } : {}),
      },
    });
    let etag: string | undefined;
    try {
      const result = await upload.done();
      etag = result.ETag;
    } catch (error) {
      counter.destroy();
      await this.#abortMultipart(key, upload.uploadId);
      const cause = signal?.aborted ? signal.reason : error;
      throw new Error(`upload of blob ${key} failed`, { cause });
    }
    if (signal?.aborted) {
      // Aborted after the body was read in full: the object exists, but the caller was told it won't.
      await this.delete(key);
      throw new Error(`upload of blob ${key} aborted`, { cause: signal.reason });
    }
    if (!etag) {
      const info = await this.head(key);
      if (!info) throw new Error(`blob ${key} is missing right after its upload`);
      return info;
    }
    return { key, size: counter.bytes, etag };
  }

  /**
   * lib-storage aborts the multipart upload it started when a part or the body fails; this is the net
   * under it, for when that abort request itself failed.
   */
  async #abortMultipart(key: string, uploadId: string | undefined): Promise<void> {
    if (!uploadId) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.#client.send(
          new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: key, UploadId: uploadId }),
        );
        return;
      } catch (error) {
        if (error instanceof NoSuchUpload || statusOf(error) === 404) return;
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
      }
    }
  }

  async download(key: string, options: DownloadOptions = {}): Promise<{ info: BlobInfo; body: Readable }> {
    const { signal, ifMatch } = options;
    try {
      const res = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: key, IfMatch: ifMatch }),
        signal ? { abortSignal: signal } : {},
      );
      if (!(res.Body instanceof Readable)) {
        throw new Error(`blob ${key}: GetObject returned no readable body`);
      }
      const body = signal ? addAbortSignal(signal, res.Body) : res.Body;
      return { info: { key, size: res.ContentLength ?? 0, etag: res.ETag ?? "" }, body };
    } catch (error) {
      if (isNotFound(error)) throw new NotFoundError("blob", key, { cause: error });
      if (statusOf(error) === 412) {
        throw new ConflictError(`blob ${key} no longer has version ${ifMatch}`, { cause: error });
      }
      throw error;
    }
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    try {
      const res = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }));
      return { key, size: res.ContentLength ?? 0, etag: res.ETag ?? "" };
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

/**
 * The keys of unfinished multipart uploads and of objects under `prefix`: lets tests prove that a
 * failed upload left nothing behind.
 */
export async function listUploadsAndObjects(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ uploads: string[]; objects: string[] }> {
  const uploads: string[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    const res = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    );
    for (const u of res.Uploads ?? []) if (u.Key) uploads.push(u.Key);
    keyMarker = res.IsTruncated ? res.NextKeyMarker : undefined;
    uploadIdMarker = res.IsTruncated ? res.NextUploadIdMarker : undefined;
  } while (keyMarker);

  const objects: string[] = [];
  let token: string | undefined;
  do {
    const res = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of res.Contents ?? []) if (o.Key) objects.push(o.Key);
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return { uploads, objects };
}
