// Local mode's secret store: one row per server in the local database's `secrets` table (iv, tag,
// ciphertext), each password sealed with AES-256-GCM under a random 12-byte IV and the server id as
// additional authenticated data, so a row copied onto another server's id no longer decrypts. The
// key stays outside the database (secret-key.ts). No message here carries a secret or the key:
// errors name the database and the server only.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { resolve } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { ValidationError } from "#core/errors.ts";
import type { SecretStore } from "#core/ports.ts";
import { loadKey } from "./secret-key.ts";
import { type LocalDatabase, storageFailure } from "./sqlite-database.ts";

/** As in Secrets Manager names (no `/`), starting alphanumeric so no id is `__proto__`. */
const SERVER_ID = /^[A-Za-z0-9][A-Za-z0-9_+=.@-]{0,127}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** One sealed password, as stored. */
export interface SealedSecret {
  iv: Uint8Array;
  tag: Uint8Array;
  ciphertext: Uint8Array;
}

/** The key is wrong or the row was altered: nothing can be read from it with this key. */
export class SecretDecryptionError extends Error {
  override name = "SecretDecryptionError";
}

export function createSecretSchema(db: DatabaseSync): void {
  db.exec(
    "CREATE TABLE IF NOT EXISTS secrets (server_id TEXT PRIMARY KEY NOT NULL, iv BLOB NOT NULL, tag BLOB NOT NULL, ciphertext BLOB NOT NULL)",
  );
}

/** Writes one sealed secret (the migration writes the old file's entries with it, unopened). */
export function writeSealedSecret(db: DatabaseSync, serverId: string, sealed: SealedSecret): void {
  db.prepare(
    "INSERT INTO secrets (server_id, iv, tag, ciphertext) VALUES (?, ?, ?, ?) ON CONFLICT (server_id) DO UPDATE SET iv = excluded.iv, tag = excluded.tag, ciphertext = excluded.ciphertext",
  ).run(serverId, sealed.iv, sealed.tag, sealed.ciphertext);
}

export interface SqliteSecretStoreOptions {
  database: LocalDatabase;
  /** Base64 of 32 bytes (what MBM_SECRET_KEY carries). Takes precedence over `keyFile`. */
  key?: string;
  /**
   * A file holding the key as base64. Read when `key` is absent; when it does not exist either, a new
   * random key is written to it (0600). A key file open to group or others is refused.
   */
  keyFile?: string;
}

export class SqliteSecretStore implements SecretStore {
  readonly #database: LocalDatabase;
  readonly #keyOption: string | undefined;
  readonly #keyFile: string | undefined;
  #key: Promise<Buffer> | undefined;

  constructor({ database, key, keyFile }: SqliteSecretStoreOptions) {
    if (key === undefined && keyFile === undefined) {
      throw new Error("the secret store needs a key or a key file");
    }
    this.#database = database;
    this.#keyOption = key;
    this.#keyFile = keyFile === undefined ? undefined : resolve(keyFile);
  }

  async put(serverId: string, password: string): Promise<void> {
    checkServerId(serverId);
    const key = await this.#getKey();
    this.#database.write((db) => {
      // Refuse to mix keys in one database: the key must open what is already there.
      const other = this.#database
        .statement(db, "SELECT server_id, iv, tag, ciphertext FROM secrets WHERE server_id <> ? LIMIT 1")
        .get(serverId);
      if (other) this.#decrypt(key, String(other.server_id), sealedOf(other));
      writeSealedSecret(db, serverId, encrypt(key, serverId, password));
    });
  }

  async get(serverId: string): Promise<string | undefined> {
    checkServerId(serverId);
    const key = await this.#getKey();
    const row = this.#database.read((db) =>
      this.#database
        .statement(db, "SELECT iv, tag, ciphertext FROM secrets WHERE server_id = ?")
        .get(serverId),
    );
    return row ? this.#decrypt(key, serverId, sealedOf(row)) : undefined;
  }

  async delete(serverId: string): Promise<void> {
    checkServerId(serverId);
    this.#database.write((db) => this.#database.run(db, "DELETE FROM secrets WHERE server_id = ?", serverId));
  }

  #getKey(): Promise<Buffer> {
    this.#key ??= loadKey({
      ...(this.#keyOption !== undefined ? { key: this.#keyOption } : {}),
      ...(this.#keyFile !== undefined ? { keyFile: this.#keyFile } : {}),
    }).catch((error: unknown) => {
      // Not cached: a key file fixed by the operator is picked up on the next call.
      this.#key = undefined;
      // A key file that cannot be written (read-only or full data dir) is a 503 like the database.
      throw (this.#keyFile !== undefined ? storageFailure(this.#keyFile, error) : undefined) ?? error;
    });
    return this.#key;
  }

  #decrypt(key: Buffer, serverId: string, sealed: SealedSecret): string {
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, sealed.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(serverId, "utf8"));
      decipher.setAuthTag(sealed.tag);
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString("utf8");
    } catch {
      throw new SecretDecryptionError(
        `cannot decrypt the secret of server ${serverId} in ${this.#database.file}: wrong key, or the row was altered`,
      );
    }
  }
}

function sealedOf(row: Record<string, unknown>): SealedSecret {
  const bytes = (value: unknown) => {
    if (!(value instanceof Uint8Array)) throw new Error("secrets table: a sealed column is not a BLOB");
    return value;
  };
  return { iv: bytes(row.iv), tag: bytes(row.tag), ciphertext: bytes(row.ciphertext) };
}

function checkServerId(serverId: string): void {
  if (!SERVER_ID.test(serverId)) {
    throw new ValidationError("server_id", `must match ${SERVER_ID.source}, got ${JSON.stringify(serverId)}`);
  }
}

function encrypt(key: Buffer, serverId: string, password: string): SealedSecret {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(serverId, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(password, "utf8"), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}
