// The SecretStore contract against both adapters, then what is particular to each.
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SecretsManagerSecretStore } from "#adapters/aws/secrets-manager-secret-store.ts";
import { localDatabase } from "#adapters/local/local-data-dir.ts";
import type { LocalDatabase } from "#adapters/local/sqlite-database.ts";
import { SecretDecryptionError, SqliteSecretStore } from "#adapters/local/sqlite-secret-store.ts";
import { awsClientConfig, uniqueName } from "#test/support/env.ts";
import { secretStoreContract, serverId } from "./secret-store.contract.ts";

/** Everything an error shows: name, message, stack and the messages of its causes. */
function everythingIn(error: unknown): string {
  let text = "";
  for (let e: unknown = error; e instanceof Error; e = e.cause) text += `${e.name} ${e.message} ${e.stack}\n`;
  return text;
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("SecretsManagerSecretStore", () => {
  let client: SecretsManagerClient;
  let prefix: string;
  let store: SecretsManagerSecretStore;
  beforeAll(() => {
    client = new SecretsManagerClient(awsClientConfig("secretsmanager"));
    prefix = `${uniqueName("mbm-test")}/servers/`;
    store = new SecretsManagerSecretStore({ client, prefix });
  });
  afterAll(() => client.destroy());

  secretStoreContract("Secrets Manager", () => store);

  it("names the secret prefix + server id", async () => {
    const id = serverId();
    await store.put(id, "pw");
    const described = await client.send(new DescribeSecretCommand({ SecretId: `${prefix}${id}` }));
    expect(described.Name).toBe(`${prefix}${id}`);
    await store.delete(id);
    await expect(
      client.send(new DescribeSecretCommand({ SecretId: `${prefix}${id}` })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("deletes without a recovery window, so the name can be put again at once", async () => {
    const id = serverId();
    await store.put(id, "before");
    await store.delete(id);
    await store.put(id, "after");
    expect(await store.get(id)).toBe("after");
    await store.delete(id);
  });

  it("restores and replaces a secret that someone scheduled for deletion", async () => {
    const id = serverId();
    await store.put(id, "old");
    await client.send(new DeleteSecretCommand({ SecretId: `${prefix}${id}`, RecoveryWindowInDays: 7 }));
    expect(await store.get(id)).toBeUndefined();
    await store.put(id, "new");
    expect(await store.get(id)).toBe("new");
    const described = await client.send(new DescribeSecretCommand({ SecretId: `${prefix}${id}` }));
    expect(described.DeletedDate).toBeUndefined();
    await store.delete(id);
  });

  it("keeps the secret out of the error when Secrets Manager fails", async () => {
    const secret = `never-show-${randomBytes(8).toString("hex")}`;
    const unreachable = new SecretsManagerSecretStore({
      client: new SecretsManagerClient({
        ...awsClientConfig("secretsmanager"),
        endpoint: "http://127.0.0.1:9",
        maxAttempts: 1,
      }),
      prefix,
    });
    const error = await caught(unreachable.put(serverId(), secret));
    expect(error).toBeInstanceOf(Error);
    expect(everythingIn(error)).not.toContain(secret);
  });
});

describe("SqliteSecretStore", () => {
  let dir: string;
  let dataDir: string;
  let keyFile: string;
  let database: LocalDatabase;
  let store: SqliteSecretStore;
  const rows = () =>
    database.read((db) => db.prepare("SELECT server_id, iv, tag, ciphertext FROM secrets").all());
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "mbm-secrets-"));
    dataDir = join(dir, "data");
    keyFile = join(dir, "keys", "secret.key");
    database = localDatabase(dataDir);
    store = new SqliteSecretStore({ database, keyFile });
    return async () => {
      database.close();
      await rm(dir, { recursive: true, force: true });
    };
  });

  secretStoreContract("SQLite", () => store);

  it("keeps no plaintext on disk, only one row per server of a 12-byte iv, a tag and the ciphertext", async () => {
    const secret = `plain-${randomBytes(8).toString("hex")}`;
    const id = serverId();
    await store.put(id, secret);
    await store.put(serverId(), "other");
    database.close(); // checkpoints the WAL into the file
    const bytes = await readFile(join(dataDir, "metadata.sqlite"));
    expect(bytes.includes(Buffer.from(secret))).toBe(false);
    expect(bytes.includes(Buffer.from(Buffer.from(secret).toString("base64")))).toBe(false);
    const mine = rows().find((row) => row.server_id === id);
    expect(rows()).toHaveLength(2);
    expect(mine?.iv).toHaveLength(12);
    expect(mine?.tag).toHaveLength(16);
    expect((await stat(join(dataDir, "metadata.sqlite"))).mode & 0o777).toBe(0o600);
  });

  it("generates a 0600 key file of 32 random bytes in a 0700 directory, and reuses it", async () => {
    await store.put(serverId(), "pw");
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "keys"))).mode & 0o777).toBe(0o700);
    const key = Buffer.from((await readFile(keyFile, "utf8")).trim(), "base64");
    expect(key).toHaveLength(32);

    const id = serverId();
    await store.put(id, "kept");
    const again = new SqliteSecretStore({ database: localDatabase(dataDir), keyFile });
    expect(await again.get(id)).toBe("kept");
    const byKey = new SqliteSecretStore({ database: localDatabase(dataDir), key: key.toString("base64") });
    expect(await byKey.get(id)).toBe("kept");
  });

  it("refuses a key file that group or others can access", async () => {
    await store.put(serverId(), "pw");
    await chmod(keyFile, 0o644);
    const loose = new SqliteSecretStore({ database, keyFile });
    await expect(loose.get(serverId())).rejects.toThrow(/group or others.*0644/);
  });

  it("fails clearly with a wrong key, without showing the secret, and refuses to write with it", async () => {
    const secret = `secret-${randomBytes(8).toString("hex")}`;
    const id = serverId();
    await store.put(id, secret);
    const wrong = new SqliteSecretStore({ database, key: randomBytes(32).toString("base64") });
    const error = await caught(wrong.get(id));
    expect(error).toBeInstanceOf(SecretDecryptionError);
    expect((error as Error).message).toMatch(/wrong key, or the row was altered/);
    expect(everythingIn(error)).not.toContain(secret);
    await expect(wrong.put(serverId(), "other")).rejects.toBeInstanceOf(SecretDecryptionError);
    expect(await store.get(id)).toBe(secret);
  });

  it("binds each row to its server: swapped ciphertexts do not decrypt", async () => {
    const a = serverId();
    const b = serverId();
    await store.put(a, "secret-a");
    await store.put(b, "secret-b");
    database.write((db) => {
      db.prepare("UPDATE secrets SET server_id = 'swap' WHERE server_id = ?").run(a);
      db.prepare("UPDATE secrets SET server_id = ? WHERE server_id = ?").run(a, b);
      db.prepare("UPDATE secrets SET server_id = ? WHERE server_id = 'swap'").run(b);
    });
    await expect(store.get(a)).rejects.toBeInstanceOf(SecretDecryptionError);
    await expect(store.get(b)).rejects.toBeInstanceOf(SecretDecryptionError);
  });

  it("rejects a tampered ciphertext", async () => {
    const id = serverId();
    await store.put(id, "secret");
    const [row] = rows();
    const bytes = Buffer.from(row?.ciphertext as Uint8Array);
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    database.write((db) =>
      db.prepare("UPDATE secrets SET ciphertext = ? WHERE server_id = ?").run(bytes, id),
    );
    await expect(store.get(id)).rejects.toBeInstanceOf(SecretDecryptionError);
  });

  it("refuses a key that is not base64 of 32 bytes, without echoing it", async () => {
    const short = randomBytes(16).toString("base64");
    const error = await caught(new SqliteSecretStore({ database, key: short }).get(serverId()));
    expect((error as Error).message).toMatch(/32 bytes, got 16 bytes/);
    expect(everythingIn(error)).not.toContain(short);
    await expect(new SqliteSecretStore({ database, key: "not base64!" }).get(serverId())).rejects.toThrow(
      /not valid base64/,
    );
  });

  it("loses no entry when two stores on the same database write concurrently", async () => {
    const key = randomBytes(32).toString("base64");
    const one = new SqliteSecretStore({ database, key });
    const two = new SqliteSecretStore({ database: localDatabase(join(dir, "data", "..", "data")), key });
    const ids = Array.from({ length: 20 }, () => serverId());
    await Promise.all(ids.map((id, i) => (i % 2 ? one : two).put(id, `pw-${i}`)));
    expect(await Promise.all(ids.map((id) => one.get(id)))).toEqual(ids.map((_, i) => `pw-${i}`));
  });
});
