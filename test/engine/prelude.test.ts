// The archive prelude reader (task-image/src/archive/prelude.ts) on real archives: real mongodump
// --archive (plain, no compression) of a database on the test FerretDB, whole, in small chunks, cut.
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverUri } from "#core/mongo-uri.ts";
import { ArchiveFormatError, PreludeReader, parsePrelude } from "#engine/archive/prelude.ts";
import { startTool } from "#engine/mongo-tools.ts";
import { toolPath } from "#test/support/engine-harness.ts";
import { adminMongoClient, mongoInfo, uniqueName } from "#test/support/env.ts";
import { makeServer } from "#test/support/fixtures.ts";
import { sampleCollections, seedSampleDatabase } from "#test/support/sample-data.ts";

let mongo: MongoClient;
let archive: Buffer;
const database = uniqueName("prelude").replace("-", "_");

/** mongodump --archive of `db` to memory; the password goes in the tool's config file, as the engine does it. */
async function dump(db: string): Promise<Buffer> {
  const m = mongoInfo();
  const uri = serverUri(
    makeServer({ host: m.host, port: m.port, username: m.username, tls: false, options: {} }),
  );
  const run = await startTool(
    toolPath("mongodump"),
    ["--archive", `--db=${db}`],
    { uri, password: m.password },
    () => {},
  );
  const chunks: Buffer[] = [];
  run.child.stdout?.on("data", (c: Buffer) => chunks.push(c));
  const exit = await run.done;
  if (exit.code !== 0) throw new Error(`mongodump failed: ${exit.stderrTail.join("\n")}`);
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  mongo = await adminMongoClient();
  await seedSampleDatabase(mongo, database, 500);
  await mongo.db(database).collection("orders").createIndex({ status: 1 }, { name: "by_status" });
  archive = await dump(database);
});
afterAll(async () => {
  await mongo?.close();
});

describe("the archive prelude of a real mongodump archive", () => {
  it("lists every collection with its indexes, and ends where the first namespace block starts", () => {
    const prelude = parsePrelude(archive);
    expect(prelude).toBeDefined();
    expect(prelude!.header.tool_version).toMatch(/\d/);
    expect(prelude!.header.concurrent_collections).toBeGreaterThan(0);
    const names = prelude!.collections.filter((c) => c.db === database).map((c) => c.collection);
    expect(names.sort()).toEqual([...sampleCollections].sort());
    const orders = prelude!.collections.find((c) => c.collection === "orders")!;
    expect(orders.type).toBe("collection");
    expect(orders.indexes.map((i) => i.name).sort()).toEqual([
      "_id_",
      "by_status",
      "customer_seq_1_placed_at_-1",
    ]);
    expect(orders.indexes.find((i) => i.name === "by_status")).toMatchObject({ key: { status: 1 } });
    expect(orders.indexes.find((i) => i.name === "customer_seq_1_placed_at_-1")?.key).toEqual({
      customer_seq: 1,
      placed_at: -1,
    });
    const customers = prelude!.collections.find((c) => c.collection === "customers")!;
    expect(customers.indexes.find((i) => i.name === "email_unique")).toMatchObject({ unique: true });
    // After the terminator comes a namespace header: a BSON document naming a collection of ours.
    expect(prelude!.length).toBeLessThan(archive.length);
    expect(archive.readInt32LE(prelude!.length - 4)).toBe(-1);
    const next = archive.subarray(prelude!.length, prelude!.length + archive.readInt32LE(prelude!.length));
    expect(next.toString("latin1")).toContain(database);
  });

  it("reads the same prelude from the bytes in small chunks, and ignores what follows", () => {
    const reader = new PreludeReader();
    let found: ReturnType<PreludeReader["push"]>;
    for (let i = 0; i < archive.length; i += 7) {
      found = reader.push(archive.subarray(i, i + 7));
      if (found) break;
    }
    expect(found).toEqual(parsePrelude(archive));
    // Later chunks change nothing.
    expect(reader.push(Buffer.from("not an archive"))).toEqual(found);
    expect(reader.end()).toEqual(found);
  });

  it("a truncated archive: more bytes needed, then an error that says truncated", () => {
    const whole = parsePrelude(archive)!;
    const cut = archive.subarray(0, whole.length - 10);
    expect(parsePrelude(cut)).toBeUndefined();
    const reader = new PreludeReader();
    expect(reader.push(cut)).toBeUndefined();
    expect(() => reader.end()).toThrow(/ends inside its prelude, after \d+ bytes \(truncated\)/);
    expect(() => new PreludeReader().end()).toThrow(/the archive is empty/);
  });

  it("bytes that are not an archive, or a corrupt prelude, fail at once", () => {
    expect(() => parsePrelude(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00]))).toThrow(ArchiveFormatError);
    expect(() => parsePrelude(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00]))).toThrow(/magic number/);
    const corrupt = Buffer.from(archive.subarray(0, 64));
    corrupt.writeInt32LE(3, 4); // the header document's length: impossible
    expect(() => parsePrelude(corrupt)).toThrow(/impossible size 3 at byte 4/);
  });
});
