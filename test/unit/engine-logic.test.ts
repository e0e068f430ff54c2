// Pure pieces of the engine and core: tool output parsing, failure reasons, mongorestore arguments,
// connection URIs and redaction. The real tools are exercised in test/engine.
import { describe, expect, it } from "vitest";
import { ValidationError } from "#core/errors.ts";
import { serverUri, stripPassword } from "#core/mongo-uri.ts";
import { redact, redactUris } from "#core/redact.ts";
import {
  describeToolFailure,
  escapeNamespacePart,
  parseDumpedCollection,
  parseRestoreSummary,
  serverSelectionArgs,
} from "#engine/mongo-tools.ts";
import { restoreArgs } from "#engine/restore.ts";
import { makeRestore, makeServer } from "#test/support/fixtures.ts";

describe("mongo tool output", () => {
  it("reads per-collection counts, including collection names with dots", () => {
    const line = "2026-11-22T07:23:06.500+0000\tdone dumping shop.events.v2 (5000 documents)";
    expect(parseDumpedCollection(line, "shop")).toEqual(["events.v2", 5000]);
    expect(parseDumpedCollection("done dumping shop.one (1 document)", "shop")).toEqual(["one", 1]);
    expect(parseDumpedCollection("done dumping other.x (3 documents)", "shop")).toBeUndefined();
    expect(parseDumpedCollection("writing shop.x to archive on stdout", "shop")).toBeUndefined();
  });

  it("reads mongorestore's summary", () => {
    expect(
      parseRestoreSummary("x\t20000 document(s) restored successfully. 2 document(s) failed to restore."),
    ).toEqual({
      restored: 20000,
      failed: 2,
    });
    expect(parseRestoreSummary("preparing collections to restore from")).toBeUndefined();
  });

  it("names the failure kind from the Failed: line", () => {
    const auth = describeToolFailure("mongodump", {
      code: 1,
      signal: null,
      stderrTail: [
        '2026-11-22T07:00:00.000+0000\tFailed: can\'t create session: failed to connect to mongodb://u@h:1/?authSource=admin: connection() error occurred during connection handshake: auth error: sasl conversation error: unable to authenticate using mechanism "SCRAM-SHA-256": (AuthenticationFailed) Authentication failed.',
      ],
    });
    expect(auth).toMatch(/^mongodump exited with code 1: authentication failed: can't create session/);
    const unreachable = describeToolFailure("mongorestore", {
      code: 1,
      signal: null,
      stderrTail: [
        "t\tFailed: can't create session: failed to connect to mongodb://u@h:1/?authSource=admin: server selection error: server selection timeout",
      ],
    });
    expect(unreachable).toMatch(/^mongorestore exited with code 1: server unreachable: /);
    expect(describeToolFailure("mongodump", { code: null, signal: "SIGKILL", stderrTail: [] })).toBe(
      "mongodump was killed by SIGKILL",
    );
    const missing = {
      code: null,
      signal: null,
      stderrTail: ["could not start /no/mongorestore: spawn ENOENT"],
    };
    expect(describeToolFailure("mongorestore", missing)).toMatch(/^mongorestore could not be started/);
  });

  it("bounds server selection with the tools' seconds flag unless the URI sets it", () => {
    expect(serverSelectionArgs("mongodb://h/", 7)).toEqual(["--serverSelectionTimeout=7"]);
    expect(serverSelectionArgs("mongodb://h/?serverSelectionTimeoutMS=9000", 7)).toEqual([]);
  });
});

describe("mongorestore arguments", () => {
  it("renames, filters collections and drops only when asked", () => {
    const restore = makeRestore({
      source_database: "shop",
      target_database: "shop_copy",
      collections: ["orders", "we*ird"],
      drop: false,
    });
    expect(restoreArgs(restore)).toEqual([
      "--archive",
      "--stopOnError",
      "--convertLegacyIndexes",
      "--nsInclude=shop.orders",
      "--nsInclude=shop.we\\*ird",
      "--nsFrom=shop.*",
      "--nsTo=shop_copy.*",
    ]);
    const same = restoreArgs(
      makeRestore({ source_database: "a", target_database: "a", collections: null, drop: true }),
    );
    expect(same).toContain("--drop");
    expect(same).toContain("--nsInclude=a.*");
    expect(same.some((a) => a.startsWith("--nsFrom"))).toBe(false);
    expect(escapeNamespacePart("a\\b*c")).toBe("a\\\\b\\*c");
  });
});

describe("connection URIs", () => {
  it("builds a password-free URI from fields", () => {
    const server = makeServer({
      host: "db.example.com",
      port: 27018,
      username: "backup user@corp",
      auth_source: "admin",
      tls: true,
      replica_set: "rs0",
      options: { readPreference: "secondary" },
      connection_string: null,
    });
    expect(serverUri(server)).toBe(
      "mongodb://backup%20user%40corp@db.example.com:27018/?authSource=admin&tls=true&replicaSet=rs0&readPreference=secondary",
    );
  });

  it("takes the password out of a connection string, multi-host and srv alike", () => {
    expect(stripPassword("mongodb://u:p%40ss@h1:1,h2:2/?replicaSet=r")).toEqual({
      uri: "mongodb://u@h1:1,h2:2/?replicaSet=r",
      password: "p@ss",
    });
    expect(stripPassword("mongodb+srv://u:secret@cluster0.example.net/?retryWrites=true").password).toBe(
      "secret",
    );
    const server = makeServer({ connection_string: "mongodb+srv://u:secret@cluster0.example.net/" });
    expect(serverUri(server)).toBe("mongodb+srv://u@cluster0.example.net/");
  });

  it("refuses what is not a MongoDB URI without echoing it", () => {
    for (const bad of ["http://u:hunter2@h/", "mongodb://u:hunter2@", "not a uri hunter2"]) {
      const error = (() => {
        try {
          stripPassword(bad);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(error).toBeInstanceOf(ValidationError);
      expect(error?.message).not.toContain("hunter2");
    }
  });
});

describe("redaction", () => {
  it("hides URI passwords and literal secrets in any form", () => {
    expect(redactUris("failed to connect to mongodb://admin:s3cr%40t@h:1/x")).toBe(
      "failed to connect to mongodb://admin:****@h:1/x",
    );
    expect(redactUris("mongodb+srv://a:b@c/")).toBe("mongodb+srv://a:****@c/");
    expect(redact("pw is p@ss and encoded p%40ss", ["p@ss"])).toBe("pw is **** and encoded ****");
    expect(redact("nothing here", [undefined, ""])).toBe("nothing here");
  });
});
