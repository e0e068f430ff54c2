// A stream of unknown length into one S3 object, in parts that grow with it.
//
// Why not @aws-sdk/lib-storage: its parts all have one size, fixed before the first byte. A part
// size big enough for a 1 TiB archive (128 MiB) makes every upload buffer up to that much, so a
// 40 MiB and a 400 MiB backup differed by the size of their archives in memory (test/bench). Here
// parts start at 8 MiB and double every 100 parts up to the largest part size, so memory follows
// the archive only once it is past 800 MiB and is bounded by the largest part size after that,
// while 10,000 parts still hold about as much as fixed parts of the largest size would.

import type { Readable } from "node:stream";
import { crc32 } from "node:zlib";
import {
  AbortMultipartUploadCommand,
  ChecksumAlgorithm,
  ChecksumType,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  NoSuchUpload,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
  UploadPartCommand,
} from "@aws-sdk/client-s3";

/** S3's limit on the number of parts of one multipart upload. */
export const MAX_PARTS = 10_000;

export interface PartPlan {
  /** The size of part 1 (and of every part while the archive is small). */
  firstPartSizeBytes: number;
  /** Parts never grow past this. */
  maxPartSizeBytes: number;
  /** The part size doubles after this many parts of one size. */
  partsPerSize: number;
}

/** The size of part `partNumber` (1-based). */
export function partSizeFor(plan: PartPlan, partNumber: number): number {
  const doublings = Math.floor((partNumber - 1) / plan.partsPerSize);
  // 2 ** doublings overflows nothing: partNumber ≤ 10,000, and the min() caps it at once.
  return Math.min(plan.maxPartSizeBytes, plan.firstPartSizeBytes * 2 ** Math.min(doublings, 40));
}

/** The largest object an upload can write with this plan: the sum of its 10,000 part sizes. */
export function maxObjectBytes(plan: PartPlan): number {
  let total = 0;
  for (let part = 1; part <= MAX_PARTS; part++) total += partSizeFor(plan, part);
  return total;
}

export interface StreamUploadRequest {
  client: S3Client;
  plan: PartPlan;
  /** Parts uploaded at once. */
  queueSize: number;
  /** Bucket, Key, ContentType, Metadata, SSE: what PutObject and CreateMultipartUpload share. */
  params: {
    Bucket: string;
    Key: string;
    ContentType?: string;
    Metadata?: Record<string, string>;
    ServerSideEncryption?: "aws:kms";
    SSEKMSKeyId?: string;
  };
}

/**
 * The most memory one upload holds, in parts of the largest size: `queueSize` in flight, the one being
 * filled, and one for the chunks on their way and what the HTTP client holds. Part buffers are
 * reused, so none waits for the garbage collector. Measured with forced GC (test/contract).
 */
export function uploadMemoryBound(plan: PartPlan, queueSize: number): number {
  return (queueSize + 2) * plan.maxPartSizeBytes;
}

/** A CRC32 as S3 writes it: the 4 bytes big-endian, base64. */
export function crc32Base64(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString("base64");
}

/** What S3 answered for the finished object. */
export interface UploadedObject {
  etag: string | undefined;
  /** Set when the bucket is versioned. */
  versionId: string | undefined;
  /** S3's full-object checksum, `crc32:<base64>`, equal to the CRC32 of the bytes this upload read. */
  checksum: string | undefined;
}

/**
 * Uploads `body` in full and returns the object's ETag, version and full-object checksum.
 *
 * Checksum: CRC32 of the whole object (ChecksumType FULL_OBJECT), computed here over the bytes as
 * they pass and sent with the last request, so S3 refuses to complete an object whose bytes differ.
 * S3 supports FULL_OBJECT for CRC32, CRC32C and CRC64NVME; CRC32 because moto 5.2.5 computes
 * CRC32C and CRC64NVME only with optional Python packages (crc32c, awscrt) and silently answers a
 * plain CRC32 under their names without them, so only CRC32 has the same value on both. An archive that fits in its first part is one
 * PutObject. Any failure (the body, a part, completion) destroys the body, stops the parts in flight,
 * aborts the multipart upload (retried, so none is left behind), and rethrows the first error:
 * nothing is written.
 */
export async function uploadStream(request: StreamUploadRequest, body: Readable): Promise<UploadedObject> {
  const { client, plan, queueSize, params } = request;
  let wholeCrc = 0;
  const stop = new AbortController();
  const parts: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let uploadId: string | undefined;
  let partNumber = 1;
  // The part being filled: allocated at its full size and copied into, so chunks are let go at once
  // and no join doubles it. A full part waits for one more byte before it goes: only then is it sure
  // not to be the last (and part 1 then goes as a multipart part rather than one PutObject).
  let current: Buffer = Buffer.allocUnsafe(partSizeFor(plan, 1));
  let filled = 0;
  // Buffers of parts S3 has acknowledged, filled again rather than left to the garbage collector,
  // which frees large buffers lazily: reuse keeps the upload at queueSize + 1 part buffers.
  const spare: Buffer[] = [];
  const nextBuffer = (size: number): Buffer => {
    let reused = spare.pop();
    while (reused && reused.byteLength !== size) reused = spare.pop(); // a size left behind: let go
    return reused ?? Buffer.allocUnsafe(size);
  };
  let failure: unknown;

  const sendPart = (data: Buffer, number: number, id: string): Promise<void> => {
    const sent = client
      .send(
        new UploadPartCommand({
          Bucket: params.Bucket,
          Key: params.Key,
          UploadId: id,
          PartNumber: number,
          Body: data,
          ChecksumAlgorithm: ChecksumAlgorithm.CRC32,
        }),
        { abortSignal: stop.signal },
      )
      .then((result) => {
        if (!result.ETag) throw new Error(`S3 answered part ${number} without an ETag`);
        parts.push({ PartNumber: number, ETag: result.ETag, ChecksumCRC32: result.ChecksumCRC32 });
        // S3 has the whole part (it answers only then, and retries are over): the buffer is free.
        spare.push(data);
      })
      .catch((error: unknown) => {
        // Stop reading at once rather than when the queue next fills: the loop below throws.
        failure ??= error;
        body.destroy(error instanceof Error ? error : new Error(String(error)));
        throw error;
      });
    const tracked = sent.finally(() => inFlight.delete(tracked));
    tracked.catch(() => undefined); // observed through Promise.race/all below
    inFlight.add(tracked);
    return tracked;
  };

  /** Sends the full part and starts the next one, once fewer than `queueSize` parts are in flight. */
  const sendFullPart = async (): Promise<void> => {
    if (partNumber >= MAX_PARTS) {
      throw new Error(`the archive is larger than ${MAX_PARTS} parts hold (${maxObjectBytes(plan)} bytes)`);
    }
    if (!uploadId) {
      const created = await client.send(
        new CreateMultipartUploadCommand({
          ...params,
          ChecksumAlgorithm: ChecksumAlgorithm.CRC32,
          ChecksumType: ChecksumType.FULL_OBJECT,
        }),
        { abortSignal: stop.signal },
      );
      if (!created.UploadId) throw new Error("S3 started a multipart upload without an UploadId");
      uploadId = created.UploadId;
    }
    // Backpressure: the body is not read while `queueSize` parts are on their way.
    while (inFlight.size >= queueSize) await Promise.race(inFlight);
    void sendPart(current, partNumber, uploadId);
    partNumber++;
    current = nextBuffer(partSizeFor(plan, partNumber));
    filled = 0;
  };

  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      wholeCrc = crc32(chunk, wholeCrc);
      let offset = 0;
      while (offset < chunk.byteLength) {
        if (filled === current.byteLength) await sendFullPart();
        const copied = chunk.copy(current, filled, offset);
        filled += copied;
        offset += copied;
      }
    }

    const expected = crc32Base64(wholeCrc);
    const answered = async (answer: {
      ChecksumCRC32?: string | undefined;
      VersionId?: string | undefined;
      ETag?: string | undefined;
    }): Promise<UploadedObject> => {
      // "null" is the version of an object written while versioning was off or suspended: the next
      // such write replaces it, so it pins nothing and is not recorded.
      const versionId = answer.VersionId === "null" ? undefined : answer.VersionId;
      // Real S3 answers with the checksum it verified; where an answer lacks it (moto's
      // CompleteMultipartUpload), S3's stored one is read back, of this very version.
      let checksum = answer.ChecksumCRC32;
      if (checksum === undefined) {
        const head = await client.send(
          new HeadObjectCommand({
            Bucket: params.Bucket,
            Key: params.Key,
            VersionId: versionId,
            ChecksumMode: "ENABLED",
          }),
        );
        checksum = head.ChecksumCRC32;
      }
      // A different one means the object is not these bytes: it goes, all or nothing.
      if (checksum !== undefined && checksum !== expected) {
        await client.send(
          new DeleteObjectCommand({ Bucket: params.Bucket, Key: params.Key, VersionId: versionId }),
        );
        throw new Error(`S3 stored ${params.Key} with CRC32 ${checksum}, the upload sent ${expected}`);
      }
      return {
        etag: answer.ETag,
        versionId,
        checksum: checksum === undefined ? undefined : `crc32:${checksum}`,
      };
    };
    if (!uploadId) {
      const put = await client.send(
        new PutObjectCommand({
          ...params,
          Body: current.subarray(0, filled),
          ChecksumAlgorithm: ChecksumAlgorithm.CRC32,
          ChecksumCRC32: expected,
        }),
        { abortSignal: stop.signal },
      );
      return await answered(put);
    }
    if (filled > 0) void sendPart(current.subarray(0, filled), partNumber, uploadId);
    await Promise.all(inFlight);
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const completed = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: params.Bucket,
        Key: params.Key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
        ChecksumType: ChecksumType.FULL_OBJECT,
        ChecksumCRC32: expected,
      }),
    );
    return await answered(completed);
  } catch (error) {
    failure ??= error; // before the abort below, whose "Request aborted" errors are only its echo
    stop.abort(error);
    // No part may land after the abort: S3 would keep it (and bill it) under a dead upload.
    body.destroy();
    await Promise.allSettled(inFlight);
    if (uploadId) await abortMultipart(client, params.Bucket, params.Key, uploadId);
    throw failure ?? error;
  }
}

/** AbortMultipartUpload, retried: an upload left behind holds its parts (and their cost) until the bucket's lifecycle rule. */
async function abortMultipart(
  client: S3Client,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
      return;
    } catch (error) {
      const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
      if (error instanceof NoSuchUpload || status === 404) return;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    }
  }
}
