// The SecretStore contract against both adapters, then what is particular to each.
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
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
import {
  EncryptedFileSecretStore,
  SecretDecryptionError,
} from "#adapters/local/encrypted-file-secret-store.ts";
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

describe("EncryptedFileSecretStore", () => {
  let dir: string;
  let file: string;
  let keyFile: string;
  let store: EncryptedFileSecretStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "mbm-secrets-"));
    file = join(dir, "data", "secrets.json");
    keyFile = join(dir, "keys", "secret.key");
    store = new EncryptedFileSecretStore({ file, keyFile });
    return () => rm(dir, { recursive: true, force: true });
  });

  secretStoreContract("encrypted file", () => store);

  it("keeps no plaintext on disk, only version 1 entries of iv, tag and ciphertext", async () => {
    const secret = `plain-${randomBytes(8).toString("hex")}`;
    const id = serverId();
    await store.put(id, secret);
    const text = await readFile(file, "utf8");
    expect(text).not.toContain(secret);
    expect(text).not.toContain(Buffer.from(secret).toString("base64"));
    const json = JSON.parse(text);
    expect(json.version).toBe(1);
    expect(Object.keys(json.entries[id]).sort()).toEqual(["ciphertext", "iv", "tag"]);
    expect(Buffer.from(json.entries[id].iv, "base64")).toHaveLength(12);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("generates a 0600 key file of 32 random bytes in a 0700 directory, and reuses it", async () => {
    await store.put(serverId(), "pw");
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "keys"))).mode & 0o777).toBe(0o700);
    const key = Buffer.from((await readFile(keyFile, "utf8")).trim(), "base64");
    expect(key).toHaveLength(32);

    const id = serverId();
    await store.put(id, "kept");
    const again = new EncryptedFileSecretStore({ file, keyFile });
    expect(await again.get(id)).toBe("kept");
    const byKey = new EncryptedFileSecretStore({ file, key: key.toString("base64") });
    expect(await byKey.get(id)).toBe("kept");
  });

  it("refuses a key file that group or others can access", async () => {
    await store.put(serverId(), "pw");
    await chmod(keyFile, 0o644);
    const loose = new EncryptedFileSecretStore({ file, keyFile });
    await expect(loose.get(serverId())).rejects.toThrow(/group or others.*0644/);
  });

  it("fails clearly with a wrong key, without showing the secret, and refuses to write with it", async () => {
    const secret = `secret-${randomBytes(8).toString("hex")}`;
    const id = serverId();
    await store.put(id, secret);
    const wrong = new EncryptedFileSecretStore({ file, key: randomBytes(32).toString("base64") });
    const error = await caught(wrong.get(id));
    expect(error).toBeInstanceOf(SecretDecryptionError);
    expect((error as Error).message).toMatch(/wrong key, or the file was altered/);
    expect(everythingIn(error)).not.toContain(secret);
    await expect(wrong.put(serverId(), "other")).rejects.toBeInstanceOf(SecretDecryptionError);
    expect(await store.get(id)).toBe(secret);
  });

  it("binds each entry to its server: swapped ciphertexts do not decrypt", async () => {
    const a = serverId();
    const b = serverId();
    await store.put(a, "secret-a");
    await store.put(b, "secret-b");
    const json = JSON.parse(await readFile(file, "utf8"));
    [json.entries[a], json.entries[b]] = [json.entries[b], json.entries[a]];
    await writeFile(file, JSON.stringify(json));
    await expect(store.get(a)).rejects.toBeInstanceOf(SecretDecryptionError);
    await expect(store.get(b)).rejects.toBeInstanceOf(SecretDecryptionError);
  });

  it("rejects a tampered ciphertext", async () => {
    const id = serverId();
    await store.put(id, "secret");
    const json = JSON.parse(await readFile(file, "utf8"));
    const bytes = Buffer.from(json.entries[id].ciphertext, "base64");
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    json.entries[id].ciphertext = bytes.toString("base64");
    await writeFile(file, JSON.stringify(json));
    await expect(store.get(id)).rejects.toBeInstanceOf(SecretDecryptionError);
  });

  it("refuses a key that is not base64 of 32 bytes, without echoing it", async () => {
    const short = randomBytes(16).toString("base64");
    const error = await caught(new EncryptedFileSecretStore({ file, key: short }).get(serverId()));
    expect((error as Error).message).toMatch(/32 bytes, got 16 bytes/);
    expect(everythingIn(error)).not.toContain(short);
    await expect(new EncryptedFileSecretStore({ file, key: "not base64!" }).get(serverId())).rejects.toThrow(
      /not valid base64/,
    );
  });

  it("loses no entry when two store objects on the same file write concurrently", async () => {
    const key = randomBytes(32).toString("base64");
    const one = new EncryptedFileSecretStore({ file, key });
    const two = new EncryptedFileSecretStore({ file: join(dir, "data", "..", "data", "secrets.json"), key });
    const ids = Array.from({ length: 20 }, () => serverId());
    await Promise.all(ids.map((id, i) => (i % 2 ? one : two).put(id, `pw-${i}`)));
    expect(await Promise.all(ids.map((id) => one.get(id)))).toEqual(ids.map((_, i) => `pw-${i}`));
  });

  it("reports a corrupt file without quoting it", async () => {
    await store.put(serverId(), "pw");
    await writeFile(file, '{"version": 1, "entries": {"x": ');
    await expect(store.get(serverId())).rejects.toThrow(/is not valid JSON$/);
  });
});
