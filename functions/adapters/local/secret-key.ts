// The key of local mode's secret store: MBM_SECRET_KEY (base64 of 32 bytes) or a key file in the data
// dir, generated (0600, random) on first use and refused when group or others can read it. No message
// here carries the key.
import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { z } from "zod";
import { isErrno, writeFileAtomically } from "./fs-durable.ts";

export const KEY_BYTES = 32;

/** Decodes a base64 key; the messages never echo the key itself. */
export function decodeKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  if (!z.base64().safeParse(trimmed).success) throw new Error(`${source} is not valid base64`);
  const key = Buffer.from(trimmed, "base64");
  if (key.length !== KEY_BYTES) {
    throw new Error(`${source} must be base64 of ${KEY_BYTES} bytes, got ${key.length} bytes`);
  }
  return key;
}

async function readKeyFile(path: string): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const { mode } = await handle.stat();
    if ((mode & 0o077) !== 0) {
      throw new Error(
        `key file ${path} is accessible to group or others (mode 0${(mode & 0o777).toString(8)}): chmod 600 it`,
      );
    }
    return decodeKey(await handle.readFile("utf8"), `key file ${path}`);
  } finally {
    await handle.close();
  }
}

/** The key given as text, else the key file's, else a new random key written to the key file. */
export async function loadKey({ key, keyFile }: { key?: string; keyFile?: string }): Promise<Buffer> {
  if (key !== undefined) return decodeKey(key, "secret key");
  if (keyFile === undefined) throw new Error("the secret store needs a key or a key file");
  try {
    return await readKeyFile(keyFile);
  } catch (error) {
    if (!isErrno(error, "ENOENT")) throw error;
  }
  try {
    await writeFileAtomically(keyFile, `${randomBytes(KEY_BYTES).toString("base64")}\n`, {
      exclusive: true,
    });
  } catch (error) {
    // Another store created it first: use theirs.
    if (!isErrno(error, "EEXIST")) throw error;
  }
  return await readKeyFile(keyFile);
}
