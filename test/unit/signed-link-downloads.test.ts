// Local mode's signed download links: what a link grants, for how long, and that nothing else (a
// tampered payload or signature, another key, garbage) is ever accepted.
import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { downloadRoutePrefix, SignedLinkDownloads } from "#adapters/local/signed-link-downloads.ts";

const key = randomBytes(32);
const baseUrl = "http://127.0.0.1:8090";
const t0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const blobKey = "backups/0190-server/shop/0190-backup.archive.gz";
const fileName = "shop-0190-backup.archive.gz";

const sign = (payload: string, k: Buffer = key) =>
  createHmac("sha256", k).update(payload).digest("base64url");
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
/** A token signed with `key` over any payload string (for payloads the linker itself never makes). */
const forged = (payloadJson: string, k: Buffer = key) => {
  const payload = Buffer.from(payloadJson).toString("base64url");
  return `${payload}.${sign(payload, k)}`;
};

async function tokenOf(linker: SignedLinkDownloads, now = t0, name = fileName, blob = blobKey) {
  const { url } = await linker.link(blob, name, now);
  const prefix = `${baseUrl}${downloadRoutePrefix}`;
  expect(url.startsWith(prefix), url).toBe(true);
  return url.slice(prefix.length);
}

describe("SignedLinkDownloads", () => {
  it("makes a link under the base URL that verifies to the blob and file name", async () => {
    const linker = new SignedLinkDownloads({ baseUrl: `${baseUrl}/`, key });
    const link = await linker.link(blobKey, fileName, t0);
    expect(link.url).toMatch(/^http:\/\/127\.0\.0\.1:8090\/downloads\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(link.expires_at).toBe(new Date(t0 + 900_000).toISOString()); // 15 minutes by default
    const token = await tokenOf(linker);
    expect(linker.verify(token, t0)).toEqual({ blobKey, fileName });
    expect(linker.verify(token, t0 + 899_000)).toEqual({ blobKey, fileName });
  });

  it("round-trips unusual file names and keys exactly (the server sanitizes on the way out)", async () => {
    const linker = new SignedLinkDownloads({ baseUrl, key });
    const oddName = 'weird "name"; ünï/cødé\\ 🙂.gz';
    const oddKey = "backups/a b/c+d/é.archive";
    const token = await tokenOf(linker, t0, oddName, oddKey);
    expect(linker.verify(token, t0)).toEqual({ blobKey: oddKey, fileName: oddName });
  });

  it("expires: valid up to its expiry, refused after it; ttlSeconds is honoured", async () => {
    const linker = new SignedLinkDownloads({ baseUrl, key, ttlSeconds: 60 });
    const link = await linker.link(blobKey, fileName, t0);
    expect(link.expires_at).toBe(new Date(t0 + 60_000).toISOString());
    const token = await tokenOf(linker);
    expect(linker.verify(token, t0 + 60_000)).toEqual({ blobKey, fileName });
    expect(linker.verify(token, t0 + 60_001)).toBeUndefined();
    expect(linker.verify(token, t0 + 86_400_000)).toBeUndefined();
    // Without `now`, the clock decides: a link made an hour ago with a minute's life is dead.
    expect(linker.verify(await tokenOf(linker, Date.now() - 3_600_000))).toBeUndefined();
    expect(linker.verify(await tokenOf(linker, Date.now()))).toEqual({ blobKey, fileName });
  });

  it("refuses a payload changed under its signature (other blob, longer life)", async () => {
    const linker = new SignedLinkDownloads({ baseUrl, key, ttlSeconds: 60 });
    const token = await tokenOf(linker);
    const [payload, signature] = token.split(".") as [string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    expect(claims).toEqual({ k: blobKey, f: fileName, e: t0 + 60_000 });

    for (const changed of [
      { ...claims, k: "backups/other-server/secret/other.archive.gz" },
      { ...claims, f: "other.gz" },
      { ...claims, e: t0 + 10 * 365 * 86_400_000 },
    ]) {
      expect(linker.verify(`${encode(changed)}.${signature}`, t0)).toBeUndefined();
    }
    // One character of the payload flipped.
    const flipped = `${payload.slice(0, 5)}${payload[5] === "A" ? "B" : "A"}${payload.slice(6)}`;
    expect(linker.verify(`${flipped}.${signature}`, t0)).toBeUndefined();
  });

  it("refuses a changed, truncated, extended or swapped signature", async () => {
    const linker = new SignedLinkDownloads({ baseUrl, key });
    const token = await tokenOf(linker);
    const [payload, signature] = token.split(".") as [string, string];
    const other = (c: string) => (c === "A" ? "B" : "A");
    // The last of 43 base64url characters carries 4 bits of the MAC and 2 unused ones: change a
    // MAC bit (flipping only an unused bit is not a different signature to Buffer.from).
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const lastChanged = alphabet[alphabet.indexOf(signature.at(-1) ?? "A") ^ 0b100] ?? "";
    const variants = [
      `${payload}.${other(signature[0] ?? "")}${signature.slice(1)}`,
      `${payload}.${signature.slice(0, -1)}${lastChanged}`,
      `${payload}.${signature.slice(0, -1)}`,
      `${payload}.${signature}A`,
      `${payload}.${"A".repeat(43)}`,
      `${payload}.${sign(`${payload}x`)}`, // a real signature, of something else
      `${signature}.${payload}`,
      `${payload}.`,
      payload,
    ];
    for (const variant of variants) expect(linker.verify(variant, t0), variant).toBeUndefined();
  });

  it("refuses a link made with another key (a restart voids old links)", async () => {
    const before = new SignedLinkDownloads({ baseUrl, key });
    const after = new SignedLinkDownloads({ baseUrl });
    const token = await tokenOf(before);
    expect(after.verify(token, t0)).toBeUndefined();
    expect(before.verify(await tokenOf(after), t0)).toBeUndefined();
    // The same key (given explicitly) verifies it.
    expect(
      new SignedLinkDownloads({ baseUrl: "http://elsewhere", key: Buffer.from(key) }).verify(token, t0),
    ).toEqual({ blobKey, fileName });
    // Two linkers without a key each pick their own.
    expect(new SignedLinkDownloads({ baseUrl }).verify(await tokenOf(after), t0)).toBeUndefined();
  });

  it("refuses garbage without throwing", async () => {
    const linker = new SignedLinkDownloads({ baseUrl, key });
    const token = await tokenOf(linker);
    const garbage = [
      "",
      ".",
      "..",
      "abc",
      "not a token",
      `${token}.${token}`,
      `${token} `,
      ` ${token}`,
      `${token}\n`,
      token.replace(".", ".."),
      token.replace(".", "+"),
      `a+b/c=.${"A".repeat(43)}`,
      `${"A".repeat(4001)}.${"A".repeat(43)}`,
      `${"A".repeat(100_000)}`,
      "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "../../etc/passwd",
    ];
    for (const g of garbage) expect(linker.verify(g, t0), g.slice(0, 80)).toBeUndefined();
  });

  it("refuses correctly signed payloads that are not a grant", () => {
    const linker = new SignedLinkDownloads({ baseUrl, key });
    const future = t0 + 60_000;
    const payloads = [
      "not json",
      "",
      "null",
      "[]",
      "42",
      '"a string"',
      JSON.stringify({ k: blobKey, f: fileName }), // no expiry
      JSON.stringify({ k: blobKey, f: fileName, e: String(future) }),
      JSON.stringify({ k: blobKey, f: fileName, e: null }),
      JSON.stringify({ k: 1, f: fileName, e: future }),
      JSON.stringify({ k: blobKey, f: null, e: future }),
      JSON.stringify({ f: fileName, e: future }),
      JSON.stringify({ k: blobKey, e: future }),
      JSON.stringify({ k: blobKey, f: fileName, e: t0 - 1 }),
    ];
    for (const p of payloads) expect(linker.verify(forged(p), t0), p).toBeUndefined();
    // The control: the same construction with a valid payload is accepted.
    expect(linker.verify(forged(JSON.stringify({ k: blobKey, f: fileName, e: future })), t0)).toEqual({
      blobKey,
      fileName,
    });
  });
});
