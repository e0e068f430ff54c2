// Secret store in one encrypted file (local mode): `{version: 1, entries: {serverId: {iv, tag,
// ciphertext}}}`, each password sealed with AES-256-GCM under a random 12-byte IV and the server id as
// additional authenticated data, so an entry copied onto another server's id no longer decrypts.
// No message here carries a secret or the key: errors name the file and the server only.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { z } from "zod";
import { ValidationError } from "#core/errors.ts";
import type { SecretStore } from "#core/ports.ts";
import { withFileLock } from "./file-lock.ts";
import { isErrno, writeFileAtomically } from "./fs-durable.ts";

/** As in Secrets Manager names (no `/`), starting alphanumeric so no id is `__proto__`. */
const SERVER_ID = /^[A-Za-z0-9][A-Za-z0-9_+=.@-]{0,127}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

const Entry = z.object({ iv: z.base64(), tag: z.base64(), ciphertext: z.base64() });
type Entry = z.infer<typeof Entry>;
const StoreFile = z.object({ version: z.literal(1), entries: z.record(z.string(), Entry) });
type StoreFile = z.infer<typeof StoreFile>;

/** The key is wrong or the file was altered: nothing can be read from it with this key. */
export class SecretDecryptionError extends Error {
  override name = "SecretDecryptionError";
}

export interface EncryptedFileSecretStoreOptions {
  /** The store file; created (0600, in a 0700 directory) on the first put. */
  file: string;
  /** Base64 of 32 bytes (what MBM_SECRET_KEY carries). Takes precedence over `keyFile`. */
  key?: string;
  /**
   * A file holding the key as base64. Read when `key` is absent; when it does not exist either, a new
   * random key is written to it (0600). A key file open to group or others is refused.
   */
  keyFile?: string;
}

/** Decodes a base64 key; the messages never echo the key itself. */
function decodeKey(text: string, source: string): Buffer {
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

export class EncryptedFileSecretStore implements SecretStore {
  readonly #file: string;
  readonly #keyOption: string | undefined;
  readonly #keyFile: string | undefined;
  #key: Promise<Buffer> | undefined;

  constructor({ file, key, keyFile }: EncryptedFileSecretStoreOptions) {
    if (key === undefined && keyFile === undefined) {
      throw new Error("encrypted file secret store needs a key or a key file");
    }
    this.#file = resolve(file);
    this.#keyOption = key;
    this.#keyFile = keyFile === undefined ? undefined : resolve(keyFile);
  }

  async put(serverId: string, password: string): Promise<void> {
    checkServerId(serverId);
    const key = await this.#getKey();
    await withFileLock(this.#file, async () => {
      const store = await this.#read();
      // Refuse to mix keys in one file: the key must open what is already there.
      const [otherId, other] = Object.entries(store.entries).find(([id]) => id !== serverId) ?? [];
      if (otherId !== undefined && other) this.#decrypt(key, otherId, other);
      store.entries[serverId] = encrypt(key, serverId, password);
      await writeFileAtomically(this.#file, `${JSON.stringify(store, null, 2)}\n`);
    });
  }

  async get(serverId: string): Promise<string | undefined> {
    checkServerId(serverId);
    const key = await this.#getKey();
    // Writes replace the file by rename, so a read needs no lock: it sees one whole version.
    const entry = (await this.#read()).entries[serverId];
    return entry ? this.#decrypt(key, serverId, entry) : undefined;
  }

  async delete(serverId: string): Promise<void> {
    checkServerId(serverId);
    await withFileLock(this.#file, async () => {
      const store = await this.#read();
      if (!Object.hasOwn(store.entries, serverId)) return;
      delete store.entries[serverId];
      await writeFileAtomically(this.#file, `${JSON.stringify(store, null, 2)}\n`);
    });
  }

  #getKey(): Promise<Buffer> {
    this.#key ??= this.#loadKey().catch((error: unknown) => {
      // Not cached: a key file fixed by the operator is picked up on the next call.
      this.#key = undefined;
      throw error;
    });
    return this.#key;
  }

  async #loadKey(): Promise<Buffer> {
    if (this.#keyOption !== undefined) return decodeKey(this.#keyOption, "secret key");
    const keyFile = this.#keyFile!;
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

  async #read(): Promise<StoreFile> {
    let text: string;
    try {
      text = await readFile(this.#file, "utf8");
    } catch (error) {
      if (isErrno(error, "ENOENT")) return { version: 1, entries: {} };
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // No `cause`: a JSON syntax error quotes the file's text.
      throw new Error(`secret store file ${this.#file} is not valid JSON`);
    }
    const parsed = StoreFile.safeParse(json);
    if (!parsed.success) {
      const paths = parsed.error.issues.map((i) => i.path.join(".") || "(root)").join(", ");
      throw new Error(`secret store file ${this.#file} has an unexpected shape at ${paths}`);
    }
    return parsed.data;
  }

  #decrypt(key: Buffer, serverId: string, entry: Entry): string {
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(entry.iv, "base64"), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(serverId, "utf8"));
      decipher.setAuthTag(Buffer.from(entry.tag, "base64"));
      return Buffer.concat([
        decipher.update(Buffer.from(entry.ciphertext, "base64")),
        decipher.final(),
      ]).toString("utf8");
    } catch {
      throw new SecretDecryptionError(
        `cannot decrypt the secret of server ${serverId} in ${this.#file}: wrong key, or the file was altered`,
      );
    }
  }
}

function checkServerId(serverId: string): void {
  if (!SERVER_ID.test(serverId)) {
    throw new ValidationError("server_id", `must match ${SERVER_ID.source}, got ${JSON.stringify(serverId)}`);
  }
}

function encrypt(key: Buffer, serverId: string, password: string): Entry {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(serverId, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(password, "utf8"), cipher.final()]);
  return {
    iv: iv.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
    ciphertext: ciphertext.toString("base64"),
  };
}
