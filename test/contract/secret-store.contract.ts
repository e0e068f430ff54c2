// The SecretStore contract: what every adapter (Secrets Manager, encrypted file) must do the same way.
import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ValidationError } from "#core/errors.ts";
import type { SecretStore } from "#core/ports.ts";

/** A server id that no other test uses. */
export function serverId(): string {
  return randomUUID();
}

/**
 * Runs the contract against the store `getStore` returns (called inside each test, so the adapter's
 * test file may build it in a hook).
 */
export function secretStoreContract(name: string, getStore: () => SecretStore): void {
  describe(`SecretStore contract: ${name}`, () => {
    it("puts, gets, replaces and deletes a server's secret", async () => {
      const store = getStore();
      const id = serverId();
      await store.put(id, "first-password");
      expect(await store.get(id)).toBe("first-password");
      await store.put(id, "second-password");
      expect(await store.get(id)).toBe("second-password");
      await store.delete(id);
      expect(await store.get(id)).toBeUndefined();
    });

    it("gets nothing for a server without a secret, and deleting that is not an error", async () => {
      const store = getStore();
      const id = serverId();
      expect(await store.get(id)).toBeUndefined();
      await expect(store.delete(id)).resolves.toBeUndefined();
      await store.put(id, "pw");
      await store.delete(id);
      await expect(store.delete(id)).resolves.toBeUndefined();
    });

    it("keeps two servers' secrets independent", async () => {
      const store = getStore();
      const a = serverId();
      const b = serverId();
      await store.put(a, "secret-a");
      await store.put(b, "secret-b");
      await store.put(a, "secret-a2");
      expect(await store.get(b)).toBe("secret-b");
      await store.delete(a);
      expect(await store.get(a)).toBeUndefined();
      expect(await store.get(b)).toBe("secret-b");
      await store.delete(b);
    });

    it("keeps every secret of 20 concurrent puts", async () => {
      const store = getStore();
      const ids = Array.from({ length: 20 }, () => serverId());
      await Promise.all(ids.map((id, i) => store.put(id, `password-${i}`)));
      const values = await Promise.all(ids.map((id) => store.get(id)));
      expect(values).toEqual(ids.map((_, i) => `password-${i}`));
      await Promise.all(ids.map((id) => store.delete(id)));
      expect(await Promise.all(ids.map((id) => store.get(id)))).toEqual(ids.map(() => undefined));
    });

    it("round-trips unicode, quotes, backslashes, newlines and a 4 KB value exactly", async () => {
      const store = getStore();
      const values = [
        "pässwörd 🔐 密码 пароль",
        `quotes " ' \` and \\ backslashes \\" {"json": true}`,
        "line one\nline two\r\nline three\n",
        `  leading and trailing spaces\t `,
        randomBytes(3072).toString("base64"), // 4096 characters
      ];
      expect(values[4]).toHaveLength(4096);
      for (const value of values) {
        const id = serverId();
        await store.put(id, value);
        expect(await store.get(id)).toBe(value);
        await store.delete(id);
      }
    });

    it("refuses a server id that is empty or carries a path", async () => {
      const store = getStore();
      for (const bad of ["", "../other", "a/b", "__proto__"]) {
        await expect(store.put(bad, "pw")).rejects.toBeInstanceOf(ValidationError);
        await expect(store.get(bad)).rejects.toBeInstanceOf(ValidationError);
        await expect(store.delete(bad)).rejects.toBeInstanceOf(ValidationError);
      }
    });
  });
}
