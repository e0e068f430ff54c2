// What a failed or finished upload may have left behind in each blob store, so tests can prove it
// left nothing. Test code: production never needs to list partial uploads.
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { PARTIAL_SUFFIX } from "#adapters/local/file-blob-store.ts";
import { isErrno } from "#adapters/local/fs-durable.ts";

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

/** The temp files of unfinished uploads under `dir`, relative to it: lets tests prove none remain. */
export async function listPartials(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && e.name.endsWith(PARTIAL_SUFFIX))
      .map((e) => relative(dir, join(e.parentPath, e.name)));
  } catch (error) {
    if (isErrno(error, "ENOENT")) return [];
    throw error;
  }
}
