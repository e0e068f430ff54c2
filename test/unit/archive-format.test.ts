// The archive format's pure parts: CRC-64 as Go computes it, the writer's output read back by the
// reader (documents, counts, each collection's end), the reader's refusals with their offsets, the
// detection of compression and format by first bytes, the choice of database and dump file names.
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { serialize } from "bson";
import { describe, expect, it } from "vitest";
import { ArchiveReader } from "#engine/archive/body.ts";
import { Crc64 } from "#engine/archive/crc64.ts";
import { dumpFileOf } from "#engine/archive/dump-dir.ts";
import type { ArchiveEvent } from "#engine/archive/events.ts";
import type { ArchivePrelude } from "#engine/archive/prelude.ts";
import { chooseDatabase } from "#engine/archive/select.ts";
import { ArchiveWriter } from "#engine/archive/writer.ts";
import { sourceCodec, sourceFormat } from "#engine/import.ts";

const prelude: ArchivePrelude = {
  header: { concurrent_collections: 1, version: "0.1", server_version: "7.0.0", tool_version: "test" },
  collections: ["a", "b"].map((collection) => ({
    db: "shop",
    collection,
    type: "collection",
    indexes: [{ name: "_id_", key: { _id: 1 } }],
    options: {},
    metadata: { indexes: [{ v: 2, key: { _id: 1 }, name: "_id_" }], options: {} },
  })),
  length: 0,
};
const docs = (n: number, tag: string) =>
  Buffer.concat(Array.from({ length: n }, (_, i) => serialize({ _id: `${tag}${i}`, n: i })));

async function written(events: ArchiveEvent[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(
    Readable.from(events),
    new ArchiveWriter(),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

async function read(bytes: Buffer, chunk = 7): Promise<ArchiveEvent[]> {
  const events: ArchiveEvent[] = [];
  const pieces = Array.from({ length: Math.ceil(bytes.length / chunk) }, (_, i) =>
    bytes.subarray(i * chunk, (i + 1) * chunk),
  );
  await pipeline(
    Readable.from(pieces),
    new ArchiveReader(),
    new Writable({
      objectMode: true,
      write(event: ArchiveEvent, _e, cb) {
        events.push(event);
        cb();
      },
    }),
  );
  return events;
}

const sample = (): ArchiveEvent[] => [
  { kind: "prelude", prelude },
  { kind: "documents", db: "shop", collection: "a", bytes: docs(3, "a"), count: 3 },
  { kind: "documents", db: "shop", collection: "b", bytes: docs(2, "b"), count: 2 },
  { kind: "documents", db: "shop", collection: "a", bytes: docs(4, "x"), count: 4 },
  { kind: "end", db: "shop", collection: "a" },
  { kind: "end", db: "shop", collection: "b" },
];

describe("archive format", () => {
  it("computes Go's CRC-64/ECMA (the check value of 123456789), in pieces too", () => {
    const whole = new Crc64().update(Buffer.from("123456789")).signed();
    expect(BigInt.asUintN(64, whole).toString(16)).toBe("995dc9bbdf1939fa");
    expect(new Crc64().update(Buffer.from("1234")).update(Buffer.from("56789")).signed()).toBe(whole);
    expect(new Crc64().signed()).toBe(0n);
  });

  it("reads back what it writes, whatever the chunking: documents per collection and each end", async () => {
    const bytes = await written(sample());
    for (const chunk of [1, 7, 4096]) {
      const events = await read(bytes, chunk);
      const count = (c: string) =>
        events
          .filter((e) => e.kind === "documents" && e.collection === c)
          .reduce((n, e) => n + (e.kind === "documents" ? e.count : 0), 0);
      expect(count("a")).toBe(7);
      expect(count("b")).toBe(2);
      expect(
        events.filter((e) => e.kind === "end").map((e) => (e as { collection: string }).collection),
      ).toEqual(["a", "b"]);
      expect(events[0]).toMatchObject({
        kind: "prelude",
        prelude: { collections: [{ collection: "a" }, { collection: "b" }] },
      });
    }
  });

  it("refuses a cut archive, a flipped document byte (CRC or BSON) and a collection left open, saying where", async () => {
    const bytes = await written(sample());
    await expect(read(bytes.subarray(0, bytes.length - 30))).rejects.toThrow(/\(truncated\)/);
    const unfinished = await written(sample().slice(0, 5));
    await expect(read(unfinished)).rejects.toThrow(/before shop\.b ended \(truncated\)/);
    // A byte inside a document's value: the BSON still parses, the CRC catches it.
    const at = bytes.indexOf(Buffer.from("x3"));
    const flipped = Buffer.from(bytes);
    flipped[at] = "y".charCodeAt(0);
    await expect(read(flipped)).rejects.toThrow(/shop\.a: its checksum does not match/);
  });

  it("tells compression and format by their first bytes", () => {
    expect(sourceCodec(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe("gzip");
    expect(sourceCodec(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe("zstd");
    expect(sourceCodec(Buffer.from("hello"))).toBe("none");
    expect(sourceFormat(Buffer.from([0x6d, 0xe2, 0x99, 0x81]))).toBe("archive");
    const tarHead = Buffer.alloc(512);
    tarHead.write("ustar", 257, "latin1");
    expect(sourceFormat(tarHead)).toBe("tar");
    expect(sourceFormat(Buffer.from("id,name\n"))).toBeUndefined();
  });

  it("keeps the named database, else the only one besides the system ones, else says what there is", () => {
    expect(chooseDatabase(["shop", "crm"], "crm")).toBe("crm");
    expect(chooseDatabase(["admin", "shop_v1"], "shop")).toBe("shop_v1");
    expect(() => chooseDatabase(["shop", "crm"], "nope")).toThrow(
      /several databases \(crm, shop\) and none is named nope/,
    );
    expect(() => chooseDatabase([], "shop")).toThrow(/no collections/);
    expect(() => chooseDatabase(["admin"], "shop")).toThrow(/only system databases/);
  });

  it("names the files of a dump directory, wherever the tar roots it", () => {
    const file = (name: string) => dumpFileOf({ name, type: "file" });
    expect(file("dump/shop/orders.bson")).toEqual({ db: "shop", stem: "orders", part: "bson", gzip: false });
    expect(file("./shop/orders.metadata.json.gz")).toEqual({
      db: "shop",
      stem: "orders",
      part: "metadata",
      gzip: true,
    });
    expect(file("backup_2026/dump/shop/system.views.bson.gz")).toMatchObject({
      stem: "system.views",
      gzip: true,
    });
    expect(file("dump/oplog.bson")).toBeUndefined();
    expect(file("dump/prelude.json")).toBeUndefined();
    expect(dumpFileOf({ name: "dump/shop", type: "directory" })).toBeUndefined();
  });
});
