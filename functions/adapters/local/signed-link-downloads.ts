// Local mode's download links, made like S3's presigned URLs: the link itself carries its authority
// (an HMAC over blob key, file name and expiry), so a browser can follow it without the bearer token
// and it stops working after a few minutes. The key lives in memory: a restart voids old links.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { DownloadLink, DownloadLinker } from "#core/ports.ts";

export interface SignedLinkDownloadsOptions {
  /** Where the local server is reached, e.g. http://127.0.0.1:8090. */
  baseUrl: string;
  ttlSeconds?: number;
  key?: Buffer;
}

export const downloadRoutePrefix = "/downloads/";

export class SignedLinkDownloads implements DownloadLinker {
  readonly #baseUrl: string;
  readonly #ttlMs: number;
  readonly #key: Buffer;

  constructor(options: SignedLinkDownloadsOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/$/, "");
    this.#ttlMs = (options.ttlSeconds ?? 900) * 1000;
    this.#key = options.key ?? randomBytes(32);
  }

  async link(blobKey: string, fileName: string, now = Date.now()): Promise<DownloadLink> {
    const expires = now + this.#ttlMs;
    const payload = Buffer.from(JSON.stringify({ k: blobKey, f: fileName, e: expires })).toString(
      "base64url",
    );
    return {
      url: `${this.#baseUrl}${downloadRoutePrefix}${payload}.${this.#sign(payload)}`,
      expires_at: new Date(expires).toISOString(),
    };
  }

  /** The blob and file name a token grants, or undefined if it is forged, mangled or expired. */
  verify(token: string, now = Date.now()): { blobKey: string; fileName: string } | undefined {
    const match = /^([A-Za-z0-9_-]{1,4000})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match?.[1] || !match[2]) return undefined;
    // Compared as text: decoding base64url would ignore the last character's spare bits, letting
    // four spellings of one signature pass.
    const expected = Buffer.from(this.#sign(match[1]));
    const given = Buffer.from(match[2]);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const { k, f, e } = JSON.parse(Buffer.from(match[1], "base64url").toString("utf8")) as Record<
        string,
        unknown
      >;
      if (typeof k !== "string" || typeof f !== "string" || typeof e !== "number" || e < now)
        return undefined;
      return { blobKey: k, fileName: f };
    } catch {
      return undefined;
    }
  }

  #sign(payload: string): string {
    return createHmac("sha256", this.#key).update(payload).digest("base64url");
  }
}
