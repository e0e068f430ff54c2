// The restore drill's pure logic: judging the proof from what the archive lists, what the backup
// recorded and what the target holds; validate's verdict; the throwaway server's argument template.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { judgeProof, type RestoredCollection, verdictOf } from "#engine/drill-proof.ts";
import { serverArgs } from "#engine/drill-server.ts";
import { parseEnv } from "#functions/config.ts";

const archived = {
  collections: new Map([
    ["orders", ["_id_", "status_1"]],
    ["users", ["_id_"]],
  ]),
  views: new Set(["recent_orders"]),
};
const good = (count: number, indexes: string[]): RestoredCollection => ({ count, indexes, valid: "valid" });

describe("judging a drill's proof", () => {
  it("passes when counts match, every archived index exists and nothing is invalid", () => {
    const { collections, problems } = judgeProof(
      { collections: { orders: 3, users: 1 } },
      archived,
      new Map([
        ["orders", good(3, ["_id_", "extra", "status_1"])],
        ["users", good(1, ["_id_"])],
      ]),
    );
    expect(problems).toEqual([]);
    expect(collections.orders).toEqual({
      expected: 3,
      restored: 3,
      indexes_expected: ["_id_", "status_1"],
      indexes_restored: ["_id_", "extra", "status_1"],
      valid: "valid",
    });
  });

  it("fails on an expected index missing after the restore, naming it", () => {
    const { problems } = judgeProof(
      { collections: { orders: 3, users: 1 } },
      archived,
      new Map([
        ["orders", good(3, ["_id_"])],
        ["users", good(1, ["_id_"])],
      ]),
    );
    expect(problems).toEqual(["collection orders: index(es) status_1 missing after the restore"]);
  });

  it("fails on an invalid verdict, never on 'not supported by this server'", () => {
    const { problems } = judgeProof(
      { collections: { orders: 3, users: 1 } },
      archived,
      new Map([
        ["orders", { ...good(3, ["_id_", "status_1"]), valid: "invalid" }],
        ["users", { ...good(1, ["_id_"]), valid: "not supported by this server" }],
      ]),
    );
    expect(problems).toEqual(["collection orders: validate found it invalid"]);
  });

  it("fails on a collection the archive lists but the record does not, and on one not restored", () => {
    const { collections, problems } = judgeProof(
      { collections: { orders: 3 } },
      archived,
      new Map([["orders", good(3, ["_id_", "status_1"])]]),
    );
    expect(problems).toEqual([
      "collection users is in the archive but the backup recorded no document count for it",
      "collection users is missing from what was restored",
    ]);
    expect(collections.users).toMatchObject({ expected: null, restored: null, valid: "not run" });
  });

  it("a view the record names is no disagreement: it has no documents of its own", () => {
    const { collections, problems } = judgeProof(
      { collections: { orders: 3, users: 1, recent_orders: 0 } },
      archived,
      new Map([
        ["orders", good(3, ["_id_", "status_1"])],
        ["users", good(1, ["_id_"])],
      ]),
    );
    expect(problems).toEqual([]);
    expect(Object.keys(collections)).toEqual(["orders", "users"]);
  });

  it("validate's answer as a verdict", () => {
    expect(verdictOf({ valid: true })).toBe("valid");
    expect(verdictOf({ valid: false })).toBe("invalid");
    expect(verdictOf({})).toBe("invalid");
  });
});

describe("the throwaway server's configuration", () => {
  it("fills {port} and {dbpath} in each argument after splitting, so paths may hold spaces", () => {
    expect(serverArgs(["--dbpath", "{dbpath}", "--port={port}"], 4242, "/tmp/a b")).toEqual([
      "--dbpath",
      "/tmp/a b",
      "--port=4242",
    ]);
  });

  it("defaults to mongod on AWS and to the FerretDB wrapper in local mode; takes words or a JSON array", () => {
    const aws = parseEnv({ MBM_ADAPTERS: "aws", MBM_TABLE_NAME: "table", MBM_BUCKET: "bucket" });
    expect(aws.MBM_DRILL_SERVER).toBe("mongod");
    expect(aws.MBM_DRILL_SERVER_ARGS).toEqual([
      "--dbpath",
      "{dbpath}",
      "--port",
      "{port}",
      "--bind_ip",
      "127.0.0.1",
      "--nounixsocket",
      "--quiet",
    ]);
    const local = parseEnv({ MBM_ADAPTERS: "local", MBM_DATA_DIR: "/d" });
    expect(local.MBM_DRILL_SERVER).toBe(process.execPath);
    expect(local.MBM_DRILL_SERVER_ARGS[0]).toMatch(/scripts\/throwaway-ferretdb\.ts$/);
    expect(existsSync(local.MBM_DRILL_SERVER_ARGS[0]!)).toBe(true);
    const json = parseEnv({
      MBM_ADAPTERS: "local",
      MBM_DATA_DIR: "/d",
      MBM_DRILL_SERVER_ARGS: '["--dir", "{dbpath}", "--port", "{port}"]',
    });
    expect(json.MBM_DRILL_SERVER_ARGS).toEqual(["--dir", "{dbpath}", "--port", "{port}"]);
  });

  it("refuses a template without {port} or {dbpath}, naming the variable", () => {
    expect(() =>
      parseEnv({ MBM_ADAPTERS: "local", MBM_DATA_DIR: "/d", MBM_DRILL_SERVER_ARGS: "--port {port}" }),
    ).toThrow(/MBM_DRILL_SERVER_ARGS: must contain \{port\} and \{dbpath\}/);
    expect(() =>
      parseEnv({ MBM_ADAPTERS: "local", MBM_DATA_DIR: "/d", MBM_DRILL_SERVER_ARGS: "[1, 2" }),
    ).toThrow(/MBM_DRILL_SERVER_ARGS: a JSON array of strings/);
  });
});
