// The connection rules (core/mongo-uri.ts): options that would override a first-class field or
// weaken transport are refused, PLAIN needs TLS, and `endpointOf` says when a stored password no
// longer applies. The API tests (test/api/servers.test.ts) check the same rules end to end.
import { describe, expect, it } from "vitest";
import type { Server } from "#core/entities.ts";
import { PasswordNeededError, ValidationError } from "#core/errors.ts";
import { endpointOf, fromConnectionString, mongoTarget, serverUri } from "#core/mongo-uri.ts";
import { makeServer } from "#test/support/fixtures.ts";

function refusal(server: Server): ValidationError {
  try {
    serverUri(server);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error("serverUri accepted it");
}

describe("connection rules", () => {
  it("options naming a first-class field or weakening TLS are refused, naming the field to use", () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ tls: "false" }, "tls"],
      [{ SSL: "false" }, "tls"],
      [{ tlsInsecure: "true" }, "tls"],
      [{ tlsAllowInvalidCertificates: "true" }, "tls"],
      [{ tlsallowinvalidhostnames: "true" }, "tls"],
      [{ authSource: "other" }, "auth_source"],
      [{ AUTHMECHANISM: "PLAIN" }, "auth_mechanism"],
      [{ replicaSet: "rs1" }, "replica_set"],
      [{ proxyHost: "evil.example.com" }, "host"],
    ];
    for (const [options, instead] of cases) {
      const error = refusal(makeServer({ options }));
      expect(error.field).toBe("options");
      expect(error.reason).toContain(`use the ${instead} field`);
    }
    expect(serverUri(makeServer({ options: { readPreference: "secondary", appName: "x" } }))).toContain(
      "readPreference=secondary",
    );
  });

  it("a connection string may say tls/authSource/replicaSet, but not weaken or redirect them", () => {
    expect(refusal(makeServer({ connection_string: "mongodb://h/?tls=true&tlsInsecure=true" })).field).toBe(
      "connection_string",
    );
    expect(refusal(makeServer({ connection_string: "mongodb://h/?proxyHost=p" })).reason).toMatch(
      /proxyHost/,
    );
    expect(
      serverUri(makeServer({ connection_string: "mongodb://u@h/?tls=true&authSource=a&replicaSet=r" })),
    ).toBe("mongodb://u@h/?tls=true&authSource=a&replicaSet=r");
  });

  it("PLAIN without TLS is refused; with TLS (or +srv) it is allowed", () => {
    const plain = refusal(makeServer({ auth_mechanism: "PLAIN", tls: false }));
    expect(plain.field).toBe("auth_mechanism");
    expect(plain.reason).toMatch(/clear/);
    expect(serverUri(makeServer({ auth_mechanism: "PLAIN", tls: true }))).toContain("authMechanism=PLAIN");
    const fromUri = fromConnectionString("mongodb://u:pw@h/?authMechanism=PLAIN");
    expect(fromUri.fields.auth_mechanism).toBe("PLAIN");
    expect(refusal(makeServer(fromUri.fields)).field).toBe("connection_string");
    expect(fromConnectionString("mongodb+srv://u@c.example.net/?authMechanism=PLAIN").fields.tls).toBe(true);
  });

  it("MONGODB-AWS only when the record names it; unsupported mechanisms are refused", () => {
    expect(serverUri(makeServer({ auth_mechanism: "MONGODB-AWS", username: null }))).toContain(
      "authMechanism=MONGODB-AWS",
    );
    expect(serverUri(makeServer({ auth_mechanism: null }))).not.toContain("authMechanism");
    expect(() => fromConnectionString("mongodb://h/?authMechanism=GSSAPI")).toThrow(/not supported/);
  });

  it("a username without a password is 'password needed', not a connection attempt", () => {
    expect(() => mongoTarget(makeServer({ username: "backup" }), undefined)).toThrow(PasswordNeededError);
    expect(() => mongoTarget(makeServer({ username: "backup" }), undefined)).toThrow(/password needed/);
    expect(mongoTarget(makeServer({ username: null }), undefined).password).toBeUndefined();
    expect(mongoTarget(makeServer({ username: "backup" }), "pw").password).toBe("pw");
  });
});

describe("endpointOf: what a stored password is bound to", () => {
  const base = makeServer({ host: "db.example.com", options: { readPreference: "secondary", appName: "a" } });
  it("changes with host, port, tls, mechanism, auth_source, replica_set, username and options", () => {
    const changes: Array<Partial<Server>> = [
      { host: "evil.example.com" },
      { port: 27018 },
      { tls: !base.tls },
      { auth_mechanism: "SCRAM-SHA-1" },
      { auth_source: "other" },
      { replica_set: "rs9" },
      { username: "someone-else" },
      { options: { readPreference: "primary", appName: "a" } },
      { connection_string: "mongodb://backup@db.example.com,evil.example.com/?authSource=admin&tls=true" },
    ];
    for (const change of changes) {
      expect(endpointOf({ ...base, ...change }), JSON.stringify(change)).not.toBe(endpointOf(base));
    }
  });

  it("stays for a rename, a re-sent unchanged form, option order, host case, or the same URI", () => {
    expect(endpointOf({ ...base, name: "renamed" })).toBe(endpointOf(base));
    expect(endpointOf({ ...base, host: "DB.example.com" })).toBe(endpointOf(base));
    expect(endpointOf({ ...base, options: { appName: "a", readPreference: "secondary" } })).toBe(
      endpointOf(base),
    );
    const asUri = makeServer({
      connection_string:
        "mongodb://backup@db.example.com:27017/?tls=true&authSource=admin&readPreference=secondary&appName=a",
    });
    expect(endpointOf(asUri)).toBe(endpointOf(base));
  });
});
