// The console's server form: what it sends, and when it warns that a save removes the stored password.
import { describe, expect, it } from "vitest";
import { makeServer } from "#test/support/fixtures.ts";
import type { Server } from "../../web/src/lib/types.ts";
import {
  check,
  createBody,
  draftOf,
  dropsPassword,
  updateBody,
} from "../../web/src/pages/settings/server-draft.ts";

const server = {
  ...makeServer({ name: "prod", host: "db.example.com", tls: true }),
  has_password: true,
} as unknown as Server;

describe("server form draft", () => {
  it("a rename keeps the password; a new host without one removes it, and says so", () => {
    expect(dropsPassword(server, { ...draftOf(server), name: "prod-eu" })).toBe(false);
    const moved = { ...draftOf(server), host: "db2.example.com" };
    expect(updateBody(server, moved)).toEqual({ host: "db2.example.com" });
    expect(dropsPassword(server, moved)).toBe(true);
    expect(dropsPassword(server, { ...moved, password: "again" })).toBe(false);
    expect(dropsPassword(server, { ...draftOf(server), authMechanism: "SCRAM-SHA-1" })).toBe(true);
  });

  it("sends the authentication mechanism, and refuses PLAIN without TLS before the API does", () => {
    const plain = { ...draftOf(null), name: "ldap", host: "db", authMechanism: "PLAIN" as const, tls: false };
    expect(check(plain).auth_mechanism).toMatch(/TLS/);
    expect(check({ ...plain, tls: true }).auth_mechanism).toBeUndefined();
    expect(createBody({ ...plain, tls: true })).toMatchObject({ auth_mechanism: "PLAIN", tls: true });
    expect(createBody({ ...plain, authMechanism: "" })).not.toHaveProperty("auth_mechanism");
  });
});
