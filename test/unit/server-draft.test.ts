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

  it("sends the sandbox mark only when it changes, and it never removes the password", () => {
    const staging = { ...draftOf(null), name: "staging", host: "db", sandbox: true };
    expect(createBody(staging)).toMatchObject({ sandbox: true });
    expect(createBody({ ...staging, sandbox: false })).not.toHaveProperty("sandbox");
    expect(createBody({ ...staging, mode: "uri", connectionString: "mongodb://db/" })).toMatchObject({
      sandbox: true,
    });
    expect(draftOf(server).sandbox).toBe(false);
    const marked = { ...draftOf(server), sandbox: true };
    expect(updateBody(server, marked)).toEqual({ sandbox: true });
    expect(dropsPassword(server, marked)).toBe(false);
    const sandboxServer = { ...server, sandbox: true } as Server;
    expect(updateBody(sandboxServer, draftOf(sandboxServer))).toEqual({});
    expect(updateBody(sandboxServer, { ...draftOf(sandboxServer), sandbox: false })).toEqual({
      sandbox: false,
    });
  });
});
