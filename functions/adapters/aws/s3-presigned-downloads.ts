// Download links on AWS: a presigned GetObject URL, valid for a few minutes, that names the file.
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { DownloadLink, DownloadLinker } from "#core/ports.ts";

export interface S3PresignedDownloadsOptions {
  client: S3Client;
  bucket: string;
  ttlSeconds?: number;
}

export class S3PresignedDownloads implements DownloadLinker {
  readonly #options: S3PresignedDownloadsOptions;

  constructor(options: S3PresignedDownloadsOptions) {
    this.#options = options;
  }

  async link(blobKey: string, fileName: string): Promise<DownloadLink> {
    const ttl = this.#options.ttlSeconds ?? 900;
    const url = await getSignedUrl(
      this.#options.client,
      new GetObjectCommand({
        Bucket: this.#options.bucket,
        Key: blobKey,
        ResponseContentDisposition: `attachment; filename="${fileName.replace(/[^\w.-]/g, "_")}"`,
      }),
      { expiresIn: ttl },
    );
    return { url, expires_at: new Date(Date.now() + ttl * 1000).toISOString() };
  }
}
