// The task image's staged build context (infra/task-image.ts) is complete on its own: copied to a
// directory with no repository and no node_modules above it, its bundle runs with node alone,
// exactly as the image's ENTRYPOINT runs it, for a usage error and for a real backup through the
// local adapters (real mongodump against the test FerretDB), and for an import of a dump directory.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { serialize } from "bson";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drillLeftovers, drillWorld, removeDrillWorld } from "#test/support/drill-harness.ts";
import { localWorld, queueBackup, queueDrill, registerServer } from "#test/support/engine-harness.ts";
import { adminMongoClient, scratchDir, uniqueName } from "#test/support/env.ts";
import { makeBackup } from "#test/support/fixtures.ts";
import { seedSampleDatabase } from "#test/support/sample-data.ts";
import { stageTaskImage, TASK_ENTRY } from "../../infra/task-image.ts";

let context: string;
let mongo: MongoClient;
const database = uniqueName("image").replace("-", "_");

beforeAll(async () => {
  // Staged, then moved away from where it was built: nothing may resolve back into the repository.
  const staged = stageTaskImage(join(scratchDir("task-image-"), "context"));
  context = join(scratchDir("task-image-copy-"), "context");
  cpSync(staged.dir, context, { recursive: true });
  mongo = await adminMongoClient();
  await seedSampleDatabase(mongo, database, 500);
}, 120_000);
afterAll(async () => {
  await mongo?.close();
});

/** `node <context>/task/main.mjs ...args`, from the context, with `env` only. */
function runStaged(args: string[], env: Record<string, string>) {
  const run = spawnSync(process.execPath, [join(context, TASK_ENTRY), ...args], {
    cwd: context,
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: run.status, output: `${run.stdout}\n${run.stderr}` };
}

describe("the task image's staged context", () => {
  it("holds the Dockerfile and the bundle only, with no node_modules anywhere above it", () => {
    expect(readdirSync(context).sort()).toEqual(["Dockerfile", "task"]);
    for (let dir = context; dir !== dirname(dir); dir = dirname(dir)) {
      expect(existsSync(join(dir, "node_modules")), dir).toBe(false);
      expect(existsSync(join(dir, "package.json")), dir).toBe(false);
    }
  });

  it("runs main.ts's bundle with node: a usage error exits 2", () => {
    const run = runStaged([], { PATH: process.env.PATH ?? "/usr/bin:/bin" });
    expect(run.code, run.output).toBe(2);
    expect(run.output).toContain("usage: main.ts backup|restore|import|verify <id>");
  });

  it("runs a real backup through the local adapters and records it completed", async () => {
    const world = await localWorld();
    const server = await registerServer(world);
    const queued = await queueBackup(world, server, database);
    const run = runStaged(["backup", queued.id], world.env);
    expect(run.code, run.output).toBe(0);
    const backup = await world.store.backups.get(queued.id);
    expect(backup, run.output).toMatchObject({ status: "completed", error: null });
    expect(backup?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await world.leftovers("")).objects.length, run.output).toBeGreaterThan(0);
  }, 120_000);

  it("runs an import of a .tar.gz dump directory through the bundle (its tar parser inside)", async () => {
    const world = await localWorld();
    const server = await registerServer(world);
    const dump = join(scratchDir("task-image-dump-"), "dump", "legacy");
    mkdirSync(dump, { recursive: true });
    writeFileSync(join(dump, "things.bson"), Buffer.concat([1, 2, 3].map((n) => serialize({ _id: n }))));
    writeFileSync(
      join(dump, "things.metadata.json"),
      JSON.stringify({
        indexes: [{ v: { $numberInt: "2" }, key: { _id: { $numberInt: "1" } }, name: "_id_" }],
      }),
    );
    const imports = join(world.env.MBM_DATA_DIR as string, "imports");
    mkdirSync(imports, { recursive: true });
    const tar = spawnSync("tar", ["-czf", join(imports, "legacy.tar.gz"), "-C", dirname(dump), "legacy"]);
    expect(tar.status, String(tar.stderr)).toBe(0);
    const queued = await world.store.backups.create(
      makeBackup({
        server_id: server.id,
        database,
        trigger: "import",
        imported_from: "imports/legacy.tar.gz",
      }),
    );
    const run = runStaged(["import", queued.id], world.env);
    expect(run.code, run.output).toBe(0);
    expect(await world.store.backups.get(queued.id)).toMatchObject({
      status: "completed",
      collections: { things: 3 },
    });
  }, 120_000);

  it("runs a restore drill from the bundle: the throwaway server starts, the proof passes", async () => {
    const world = await drillWorld(localWorld);
    try {
      const server = await registerServer(world);
      const queued = await queueBackup(world, server, database);
      expect(runStaged(["backup", queued.id], world.env).code).toBe(0);
      const backup = (await world.store.backups.get(queued.id))!;
      const drill = await queueDrill(world, backup);
      const run = runStaged(["verify", drill.id], world.env);
      expect(run.code, run.output).toBe(0);
      expect((await world.store.drills.get(drill.id))?.result, run.output).toMatchObject({
        status: "passed",
      });
      expect(await drillLeftovers(world)).toEqual({ processes: [], dirs: [] });
    } finally {
      removeDrillWorld(world);
    }
  }, 120_000);
});
