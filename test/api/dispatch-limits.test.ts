// The dispatcher's limits with real tasks: "everything" fanned out over 12 databases with a
// per-server limit of 2 never runs more than 2 backups at once on the server, judged from the
// records' own start and finish times; and every backup still completes (the next starts as one ends).
// Then a job handed to a second task while its first runs it (racing dispatches can do that) is left
// to the first: the twin's exit 2 does not fail it.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allPages } from "#test/support/api-expect.ts";
import { type ApiWorld, addTestServer, apiWorld, waitForJob } from "#test/support/api-harness.ts";
import { adminMongoClient, scratchDir, uniqueName } from "#test/support/env.ts";
import { seedSampleDatabase } from "#test/support/sample-data.ts";

const prefix = uniqueName("api_limits").replaceAll("-", "_");
const names = Array.from({ length: 12 }, (_, i) => `${prefix}_${String(i).padStart(2, "0")}`);
let api: ApiWorld;

beforeAll(async () => {
  const mongo = await adminMongoClient();
  await Promise.all(names.map((name) => seedSampleDatabase(mongo, name, 400)));
  await mongo.close();
  api = await apiWorld("local", { runJobs: true });
  // Twelve tasks against the shared FerretDB while other files load the machine: give the tools
  // the drivers' usual 30 s to find it, so a slow moment is not mistaken for a failed backup
  // (this test is about the limits). The runner reads this environment at each start.
  api.world.env.MBM_SERVER_SELECTION_TIMEOUT_S = "30";
});

afterAll(async () => {
  await api?.close();
});

/** The most intervals [start, end) that overlap at any instant. */
function maxOverlap(intervals: Array<[number, number]>): number {
  const edges = intervals.flatMap(
    ([s, e]): Array<[number, number]> => [
      [s, 1],
      [e, -1],
    ],
  );
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // an end before a start at the same instant
  let now = 0;
  let most = 0;
  for (const [, step] of edges) {
    now += step;
    most = Math.max(most, now);
  }
  return most;
}

describe("dispatch limits", () => {
  it("runs at most per_server backups at once on a server, and all of them to completion", async () => {
    const server = await addTestServer(api);
    const sync = await api.call("POST", "/api/databases/sync", { body: { server_id: server.id } });
    expect(sync.status, sync.text).toBe(200);
    // The shared test server holds other files' databases too: "everything" is our 12 here.
    for (const db of (await allPages(api, `/api/databases?server_id=${server.id}`, 100)).items) {
      if (!names.includes(String(db.name))) {
        const off = await api.call("PATCH", `/api/databases/${db.id}`, { body: { enabled: false } });
        expect(off.status, off.text).toBe(200);
      }
    }
    const limits = await api.call("PUT", "/api/settings", {
      body: { concurrency: { per_server: 2, total: 10 } },
    });
    expect(limits.status, limits.text).toBe(200);

    const fanOut = await api.call("POST", "/api/backups", { body: {} });
    expect(fanOut.status, fanOut.text).toBe(202);
    expect(fanOut.json.items.map((b: { database: string }) => b.database).sort()).toEqual(names);

    const done = [];
    for (const b of fanOut.json.items) done.push(await waitForJob(api, `/api/backups/${b.id}`, 120_000));
    expect(done.map((b) => `${b.status}${b.error ? `: ${b.error}` : ""}`)).toEqual(
      names.map(() => "completed"),
    );
    const intervals = done.map((b): [number, number] => [
      Date.parse(b.started_at),
      Date.parse(b.finished_at),
    ]);
    // Never 3. (Usually exactly 2, but on a loaded machine one task may finish before its pair
    // has even claimed its job, so fewer is not a failure of the limit.)
    expect(maxOverlap(intervals)).toBeLessThanOrEqual(2);

    // Each database's list entry now summarises its backup (written by the task that ended it).
    const listed = (await allPages(api, `/api/databases?server_id=${server.id}`, 100)).items;
    for (const b of done) {
      expect(listed.find((d) => d.name === b.database)?.last_backup).toEqual({
        backup_id: b.id,
        status: "completed",
        finished_at: b.finished_at,
        size_bytes: b.size_bytes,
      });
    }
  }, 180_000);

  it("a second task started for a job its first task runs exits and leaves the job to the first", async () => {
    // Racing dispatches can hand one queued job to two tasks; the one that finds it claimed exits.
    // Here the dump waits for a flag file (the real mongodump behind a shell that waits first), so
    // the twin surely ends while the job runs, however slow the machine; that end must not fail it.
    const realDump = api.world.env.MBM_MONGODUMP!;
    const dir = scratchDir("slow-dump-");
    const flag = join(dir, "go");
    const slowDump = join(dir, "mongodump");
    writeFileSync(
      slowDump,
      `#!/bin/sh\nwhile [ ! -f "${flag}" ]; do sleep 0.1; done\nexec "${realDump}" "$@"\n`,
      { mode: 0o755 },
    );
    api.world.env.MBM_MONGODUMP = slowDump;
    try {
      const server = await addTestServer(api);
      const sync = await api.call("POST", "/api/databases/sync", { body: { server_id: server.id } });
      expect(sync.status, sync.text).toBe(200);
      const made = await api.call("POST", "/api/backups", {
        body: { server_id: server.id, database: names[0] },
      });
      expect(made.status, made.text).toBe(202);
      const id = made.json.items[0].id as string;
      const running = await waitForJob(api, `/api/backups/${id}`, 30_000, ["queued"]);
      expect(running.status).toBe("running");
      const twin = await api.deps.runner!.start({ kind: "backup", id });
      expect(twin.runnerRef).not.toBe(running.runner_ref);
      expect(api.runner!.running()).toHaveLength(2);
      // The twin has ended (its claim refused) while the first task still waits on the flag.
      await expect.poll(() => api.runner!.running().length, { timeout: 30_000 }).toBe(1);
      const meanwhile = (await api.call("GET", `/api/backups/${id}`)).json;
      expect([meanwhile.status, meanwhile.runner_ref, meanwhile.error]).toEqual([
        "running",
        running.runner_ref,
        null,
      ]);
      writeFileSync(flag, "");
      const done = await waitForJob(api, `/api/backups/${id}`, 60_000);
      expect(`${done.status}${done.error ? `: ${done.error}` : ""}`).toBe("completed");
      expect(done.runner_ref).toBe(running.runner_ref);
    } finally {
      writeFileSync(flag, ""); // a failed assertion must not leave the first task waiting
      api.world.env.MBM_MONGODUMP = realDump;
    }
  }, 90_000);
});
