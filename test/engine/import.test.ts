// Imports of dumps made outside the product by the real tools (issue 16): mongodump --archive with
// and without --gzip (seed 003's layout), and a .tar.gz of a mongodump --out directory with and
// without --gzip (seed 000's), each imported by the real task entry point, restored under a new name
// by the product, and compared with the source. Then every kind of bad source, which must fail with
// its reason, leave nothing under backups/ and no record stuck.
import { spawnSync } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createZstdCompress, gzipSync, zstdCompressSync } from "node:zlib";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { serialize } from "bson";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backup, Compression, Server } from "#core/entities.ts";
import { mongoTarget } from "#core/mongo-uri.ts";
import type { ArchiveEvent } from "#engine/archive/events.ts";
import { parsePrelude } from "#engine/archive/prelude.ts";
import { ArchiveWriter } from "#engine/archive/writer.ts";
import { startTool } from "#engine/mongo-tools.ts";
import {
  awsWorld,
  type EngineWorld,
  localWorld,
  queueRestore,
  registerServer,
  runEntryPoint,
  toolPath,
} from "#test/support/engine-harness.ts";
import { adminMongoClient, awsClientConfig, mongoInfo, scratchDir, uniqueName } from "#test/support/env.ts";
import { makeBackup } from "#test/support/fixtures.ts";
import { countDocuments, seedSampleDatabase, snapshotDatabase } from "#test/support/sample-data.ts";

let mongo: MongoClient;
let work: string;
const source = uniqueName("imported").replace("-", "_");
const other = uniqueName("other").replace("-", "_");
const DOCS = 3_000;

/** Runs the real mongodump against the test FerretDB with `args`; throws unless it exits 0. */
async function mongodump(server: Server, args: string[]): Promise<void> {
  const password = mongoInfo().password;
  const lines: string[] = [];
  const { uri } = mongoTarget(server, password);
  const run = await startTool(toolPath("mongodump"), args, { uri, password }, (l) => lines.push(l));
  const exit = await run.done;
  if (exit.code !== 0) throw new Error(`mongodump ${args.join(" ")} failed: ${lines.join("\n")}`);
}

function tar(args: string[]): void {
  const run = spawnSync("tar", args, { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`tar ${args.join(" ")}: ${run.stderr}`);
}

/** Puts `bytes` at `key` where the world's task reads imports: the bucket, or under DATA_DIR. */
async function placeSource(world: EngineWorld, key: string, bytes: Buffer): Promise<void> {
  if (world.kind === "aws") {
    const s3 = new S3Client(awsClientConfig("s3"));
    await s3.send(new PutObjectCommand({ Bucket: world.bucket, Key: key, Body: bytes }));
    return;
  }
  const path = join(world.env.MBM_DATA_DIR as string, ...key.split("/"));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

async function queueImport(
  world: EngineWorld,
  server: Server,
  key: string,
  database = source,
  compression: Compression = "zstd",
): Promise<Backup> {
  return await world.store.backups.create(
    makeBackup({ server_id: server.id, database, trigger: "import", imported_from: key, compression }),
  );
}

async function runImport(world: EngineWorld, backup: Backup) {
  const exit = await runEntryPoint(world, "import", backup.id).result;
  const record = (await world.store.backups.get(backup.id)) as Backup;
  return { exit, record };
}

/** The dumps, made once: file name -> bytes. */
const dumps: Record<string, Buffer> = {};

beforeAll(async () => {
  mongo = await adminMongoClient();
  await seedSampleDatabase(mongo, source, DOCS);
  await seedSampleDatabase(mongo, other, 200);
  work = scratchDir("mbm-import-");
  const world = await localWorld();
  const server = await registerServer(world);
  const at = (name: string) => join(work, name);
  await mongodump(server, [`--db=${source}`, `--archive=${at("shop.archive")}`]);
  await mongodump(server, [`--db=${source}`, `--archive=${at("shop.archive.gz")}`, "--gzip"]);
  await mongodump(server, [`--db=${source}`, `--out=${at("plain/dump")}`]);
  await mongodump(server, [`--db=${source}`, `--out=${at("gzip/dump")}`, "--gzip"]);
  // Seed 000: a .tar.gz of the output directory.
  tar(["-czf", at("plain.tar.gz"), "-C", at("plain"), "dump"]);
  tar(["-czf", at("gzip.tar.gz"), "-C", at("gzip"), "dump"]);
  // Two databases in one dump directory.
  await mongodump(server, [`--db=${source}`, `--out=${at("two/dump")}`]);
  await mongodump(server, [`--db=${other}`, `--out=${at("two/dump")}`]);
  tar(["-czf", at("two.tar.gz"), "-C", at("two"), "dump"]);
  await mongodump(server, ["--db=no_such_database_here", `--archive=${at("empty.archive")}`]);
  for (const name of [
    "shop.archive",
    "shop.archive.gz",
    "plain.tar.gz",
    "gzip.tar.gz",
    "two.tar.gz",
    "empty.archive",
  ]) {
    dumps[name] = readFileSync(at(name));
  }
  // A .zst of several frames, as pzstd writes (Node's own decoder would stop after the first).
  const archive = dumps["shop.archive"] as Buffer;
  const third = Math.ceil(archive.length / 3);
  dumps["shop.archive.zst"] = Buffer.concat(
    [0, 1, 2].map((i) => zstdCompressSync(archive.subarray(i * third, (i + 1) * third))),
  );
}, 120_000);
afterAll(async () => {
  await mongo?.close();
});

describe.each([
  ["AWS adapters (S3 on moto)", awsWorld],
  ["local adapters (files under DATA_DIR)", localWorld],
])("imports through %s", (_name, makeWorld) => {
  let world: EngineWorld;
  let server: Server;
  beforeAll(async () => {
    world = await makeWorld();
    server = await registerServer(world);
  });

  it.each([
    ["mongodump --archive", "shop.archive", "zstd"],
    ["mongodump --archive --gzip", "shop.archive.gz", "gzip"],
    ["mongodump --archive, zstd in three frames", "shop.archive.zst", "zstd"],
    ["a .tar.gz of mongodump --out", "plain.tar.gz", "zstd"],
    ["a .tar.gz of mongodump --out --gzip", "gzip.tar.gz", "none"],
  ] as const)("imports %s, and it restores equal to the source", async (_label, file, compression) => {
    const key = `imports/2026/11/01/${uniqueName("dump")}-${file}`;
    await placeSource(world, key, dumps[file] as Buffer);
    const { exit, record } = await runImport(
      world,
      await queueImport(world, server, key, source, compression),
    );
    expect(exit.code, exit.output).toBe(0);
    const expected = await snapshotDatabase(mongo, source);
    expect(record).toMatchObject({
      status: "completed",
      trigger: "import",
      imported_from: key,
      compression,
      error: null,
    });
    expect(record.blob_key).toMatch(new RegExp(`^backups/${server.id}/${source}/${record.id}\\.archive`));
    expect(record.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(record.tool_version).toMatch(/^import/);
    expect(record.collections).toEqual(
      Object.fromEntries(Object.entries(expected.documents).map(([name, docs]) => [name, docs.length])),
    );
    const stored = await world.blobs.head(record.blob_key as string);
    expect(stored?.size).toBe(record.size_bytes);

    const target = `${source}_from_${file.replaceAll(/[^a-z]/g, "")}_${world.kind}`;
    const restore = await queueRestore(world, record, { server, database: target });
    const restoreExit = await runEntryPoint(world, "restore", restore.id).result;
    expect(restoreExit.code, restoreExit.output).toBe(0);
    const restored = await snapshotDatabase(mongo, target);
    expect(countDocuments(restored)).toBe(DOCS);
    expect(restored.indexes).toEqual(expected.indexes);
    expect(restored.documents).toEqual(expected.documents);
    // The source stays where it was.
    const { body } = await readSourceBack(world, key);
    expect(body.equals(dumps[file] as Buffer)).toBe(true);
  });

  it("keeps only the named database of a dump that holds two, under the backup's name", async () => {
    const key = `imports/${uniqueName("two")}.tar.gz`;
    await placeSource(world, key, dumps["two.tar.gz"] as Buffer);
    const { exit, record } = await runImport(world, await queueImport(world, server, key, other));
    expect(exit.code, exit.output).toBe(0);
    const expected = await snapshotDatabase(mongo, other);
    expect(record.collections).toEqual(
      Object.fromEntries(Object.entries(expected.documents).map(([name, docs]) => [name, docs.length])),
    );
  });
});

async function readSourceBack(world: EngineWorld, key: string): Promise<{ body: Buffer }> {
  if (world.kind === "local") {
    return { body: readFileSync(join(world.env.MBM_DATA_DIR as string, ...key.split("/"))) };
  }
  const { GetObjectCommand } = await import("@aws-sdk/client-s3");
  const s3 = new S3Client(awsClientConfig("s3"));
  const out = await s3.send(new GetObjectCommand({ Bucket: world.bucket, Key: key }));
  return { body: Buffer.from(await out.Body!.transformToByteArray()) };
}

/** The archive with the byte at `offset` replaced. */
function withByte(bytes: Buffer, offset: number, value: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] = value;
  return copy;
}

describe("bad sources fail with their reason, nothing under backups/, no record stuck", () => {
  let world: EngineWorld;
  let server: Server;
  beforeAll(async () => {
    world = await localWorld();
    server = await registerServer(world);
  });

  const plain = () => dumps["shop.archive"] as Buffer;
  const preludeLength = () => parsePrelude(plain())?.length as number;
  const cases: Array<[string, () => Buffer | undefined, RegExp, string?]> = [
    [
      "not an archive or dump directory",
      () => Buffer.from("id,name\n1,alice\n".repeat(50)),
      /neither a mongodump archive .* nor a tar/,
    ],
    ["an empty file", () => Buffer.alloc(0), /is empty/],
    [
      "a truncated archive",
      () => plain().subarray(0, Math.floor(plain().length / 2)),
      /ends inside collection \S+ at byte \d+ \(truncated\)/,
    ],
    ["a truncated prelude", () => plain().subarray(0, 40), /ends inside its prelude.*\(truncated\)/],
    [
      "a corrupt gzip stream",
      () => {
        const gz = dumps["shop.archive.gz"] as Buffer;
        const copy = Buffer.from(gz);
        copy.fill(0x55, 200, 260);
        return copy;
      },
      /gzip stream is corrupt after \d+ bytes/,
    ],
    ["a truncated gzip stream", () => (dumps["plain.tar.gz"] as Buffer).subarray(0, 3000), /truncated/],
    [
      "a corrupt zstd stream",
      () => {
        const zst = Buffer.from(zstdCompressSync(plain()));
        zst.fill(0xaa, 4, 14);
        return zst;
      },
      /zstd stream is corrupt after \d+ bytes/,
    ],
    [
      "a truncated zstd stream",
      () => {
        const zst = Buffer.from(zstdCompressSync(plain()));
        return zst.subarray(0, zst.length - 50);
      },
      /zstd stream is corrupt after \d+ bytes of the file: the zstd stream ends inside a frame .*truncated/,
    ],
    ["an archive with no collections", () => dumps["empty.archive"], /holds no collections/],
    [
      "several databases and none named",
      () => dumps["two.tar.gz"],
      /several databases \(.+\) and none is named nope_db/,
      "nope_db",
    ],
    // The first namespace header follows the prelude: its first element's type byte made unknown.
    [
      "a namespace header that does not parse",
      () => withByte(plain(), preludeLength() + 4, 0x77),
      /namespace header does not parse/,
    ],
    [
      "a BSON document that does not parse",
      () => {
        const headerSize = plain().readInt32LE(preludeLength());
        return withByte(plain(), preludeLength() + headerSize + 4, 0x77);
      },
      /collection \S+, byte \d+: a BSON document does not parse/,
    ],
    [
      "a document of impossible length",
      () => gzipSync(withByte(plain(), preludeLength() + plain().readInt32LE(preludeLength()) + 3, 0x7f)),
      /impossible/,
    ],
    ["a source that is not there", () => undefined, /does not exist/],
  ];

  it.each(cases)("%s", async (_label, make, reason, database) => {
    const key = `imports/bad/${uniqueName("src")}`;
    const bytes = make();
    if (bytes) await placeSource(world, key, bytes);
    const { exit, record } = await runImport(
      world,
      await queueImport(world, server, key, database ?? source),
    );
    expect(exit.code, exit.output).toBe(1);
    expect(record.status).toBe("failed");
    expect(record.error, exit.output).toMatch(reason);
    expect(record.error).not.toMatch(/unexpected error/);
    expect(record.blob_key).toBeNull();
    expect(await world.leftovers("backups/")).toEqual({ objects: [], uploads: [] });
  });
});

describe("an import stopped by SIGTERM (ECS stopping the task)", () => {
  it("records it failed with the reason, and leaves nothing under backups/", async () => {
    const world = await localWorld();
    const server = await registerServer(world);
    // 512 MiB of documents, a few MiB zstd-compressed: seconds of work for the task, so the signal
    // lands while it streams (the test waits for its first heartbeat before sending it).
    const doc = serialize({ _id: 1, pad: "a".repeat(64 * 1024) });
    async function* events(): AsyncGenerator<ArchiveEvent> {
      yield {
        kind: "prelude",
        prelude: {
          header: { concurrent_collections: 1, version: "0.1", server_version: "", tool_version: "test" },
          collections: [
            { db: source, collection: "big", type: "collection", indexes: [], options: {}, metadata: {} },
          ],
          length: 0,
        },
      };
      const batch = Buffer.concat(Array.from({ length: 16 }, () => doc));
      for (let i = 0; i < 512; i++)
        yield { kind: "documents", db: source, collection: "big", bytes: batch, count: 16 };
      yield { kind: "end", db: source, collection: "big" };
    }
    const key = "imports/big.archive.zst";
    const path = join(world.env.MBM_DATA_DIR as string, "imports", "big.archive.zst");
    mkdirSync(dirname(path), { recursive: true });
    await pipeline(
      Readable.from(events()),
      new ArchiveWriter(),
      createZstdCompress(),
      createWriteStream(path),
    );

    const queued = await queueImport(world, server, key);
    const run = runEntryPoint(world, "import", queued.id);
    const deadline = Date.now() + 30_000;
    let seen: Backup | undefined;
    for (;;) {
      seen = await world.store.backups.get(queued.id);
      if ((seen?.progress?.bytes ?? 0) > 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(seen, "the import never showed a heartbeat").toMatchObject({ status: "running" });
    run.child.kill("SIGTERM");
    const exit = await run.result;
    expect(exit.code, exit.output).toBe(1);
    expect(await world.store.backups.get(queued.id)).toMatchObject({
      status: "failed",
      error: "task stopped by SIGTERM before the job finished",
      blob_key: null,
    });
    expect(await world.leftovers("backups/")).toEqual({ objects: [], uploads: [] });
  }, 120_000);
});
