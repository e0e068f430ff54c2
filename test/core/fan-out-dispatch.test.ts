// Schedule fan-out (idempotent per firing) and the dispatcher (concurrency limits, oldest first),
// on the real local metadata store. The job runner is a recording fake of our own port: what is
// under test is which jobs get started, not the tasks themselves (test/api and test/e2e run those).
import { beforeEach, describe, expect, it } from "vitest";
import type { ManagedDatabase, Server } from "#core/entities.ts";
import type { JobRef, JobRunner } from "#core/ports.ts";
import type { CoreDeps } from "#core/use-cases/deps.ts";
import { dispatch } from "#core/use-cases/dispatch.ts";
import { fanOutSchedule } from "#core/use-cases/fan-out.ts";
import { coreDepsOf } from "#test/support/core-deps.ts";
import { localWorld } from "#test/support/engine-harness.ts";
import {
  makeBackup,
  makeDatabase,
  makeDrill,
  makeSchedule,
  makeServer,
  makeSettings,
} from "#test/support/fixtures.ts";

class RecordingRunner implements JobRunner {
  started: JobRef[] = [];
  failNext: string | undefined;
  async start(job: JobRef) {
    if (this.failNext) {
      const reason = this.failNext;
      this.failNext = undefined;
      throw new Error(reason);
    }
    this.started.push(job);
    return { runnerRef: `test:${job.id}` };
  }
  async stop() {}
}

let deps: CoreDeps;
let runner: RecordingRunner;
let a: Server;
let b: Server;
const dbs: ManagedDatabase[] = [];

beforeEach(async () => {
  const world = await localWorld();
  runner = new RecordingRunner();
  deps = coreDepsOf(world, { runner });
  a = await deps.store.servers.create(makeServer({ name: "a" }));
  b = await deps.store.servers.create(makeServer({ name: "b" }));
  dbs.length = 0;
  for (const [server, name, enabled] of [
    [a, "shop", true],
    [a, "crm", true],
    [a, "old", false],
    [b, "shop", true],
  ] as const) {
    dbs.push(await deps.store.databases.create(makeDatabase({ server_id: server.id, name, enabled })));
  }
});

describe("fanOutSchedule", () => {
  it("creates one queued backup per enabled database in scope, once per firing", async () => {
    const schedule = await deps.store.schedules.create(makeSchedule({ server_id: a.id, retention_days: 7 }));
    const at = new Date("2026-11-22T02:00:17Z");
    const first = await fanOutSchedule(deps, schedule.id, at);
    expect(first.created.map((x) => x.database).sort()).toEqual(["crm", "shop"]);
    for (const backup of first.created) {
      expect(backup).toMatchObject({
        trigger: "schedule",
        schedule_id: schedule.id,
        server_id: a.id,
        created_at: "2026-11-22T02:00:00.000Z",
        expires_at: "2026-11-29T02:00:00.000Z",
      });
    }
    // The same firing again (a retry, a few seconds later): nothing new.
    const again = await fanOutSchedule(deps, schedule.id, new Date("2026-11-22T02:00:43Z"));
    expect(again.created).toEqual([]);
    expect(again.existing.sort()).toEqual(first.created.map((x) => x.id).sort());
    expect((await deps.store.backups.list({ schedule_id: schedule.id }, { limit: 100 })).items).toHaveLength(
      2,
    );
    // The next firing is a new set.
    const next = await fanOutSchedule(deps, schedule.id, new Date("2026-11-23T02:00:00Z"));
    expect(next.created).toHaveLength(2);
    expect((await deps.store.schedules.get(schedule.id))?.last_run).toMatchObject({
      backups_created: 2,
      error: null,
    });
  });

  it("covers every server when unscoped, one database when asked, and nothing when disabled", async () => {
    const all = await deps.store.schedules.create(makeSchedule());
    expect((await fanOutSchedule(deps, all.id, new Date())).created).toHaveLength(3);
    const one = await deps.store.schedules.create(makeSchedule({ server_id: b.id, database: "shop" }));
    expect((await fanOutSchedule(deps, one.id, new Date())).created.map((x) => x.server_id)).toEqual([b.id]);
    const off = await deps.store.schedules.create(makeSchedule({ enabled: false }));
    expect(await fanOutSchedule(deps, off.id, new Date())).toMatchObject({
      created: [],
      skipped: expect.any(String),
    });
  });
});

describe("dispatch", () => {
  it("starts the oldest queued backups within the per-server and total limits", async () => {
    await deps.store.settings.put(makeSettings({ concurrency: { per_server: 2, total: 3 } }));
    const queued = [];
    for (const server of [a, a, b, a, a, b]) {
      queued.push(await deps.store.backups.create(makeBackup({ server_id: server.id })));
    }
    const first = await dispatch(deps);
    // a, a (a's limit), then b: the total limit of 3 is reached.
    expect(first.started).toEqual([queued[0]?.id, queued[1]?.id, queued[2]?.id]);
    expect((await deps.store.backups.get(queued[0]?.id ?? ""))?.runner_ref).toBe(`test:${queued[0]?.id}`);
    // Handed over but not yet claimed: counted, not started twice.
    expect((await dispatch(deps)).started).toEqual([]);

    // One of a's finishes: the next of a's may start.
    await deps.store.backups.transition(queued[0]?.id ?? "", "running");
    await deps.store.backups.transition(queued[0]?.id ?? "", "completed");
    expect((await dispatch(deps)).started).toEqual([queued[3]?.id]);
    expect(runner.started).toHaveLength(4);
  });

  it("records a backup the runner refused as failed, with the reason", async () => {
    const backup = await deps.store.backups.create(makeBackup({ server_id: a.id }));
    runner.failNext = "RESOURCE:MEMORY";
    await dispatch(deps);
    expect(await deps.store.backups.get(backup.id)).toMatchObject({
      status: "failed",
      error: "the job could not be started: RESOURCE:MEMORY",
    });
  });

  it("rations drills with backups: oldest first, in the total; a sandbox drill counts against its sandbox", async () => {
    await deps.store.settings.put(makeSettings({ concurrency: { per_server: 1, total: 3 } }));
    const sandbox = await deps.store.servers.create(makeServer({ name: "staging", sandbox: true }));
    const backupOfA = await deps.store.backups.create(makeBackup({ server_id: a.id }));
    const ephemeral = await deps.store.drills.create(makeDrill({ server_id: a.id }));
    const onSandbox1 = await deps.store.drills.create(
      makeDrill({ server_id: a.id, target: { kind: "sandbox", server_id: sandbox.id } }),
    );
    const onSandbox2 = await deps.store.drills.create(
      makeDrill({ server_id: b.id, target: { kind: "sandbox", server_id: sandbox.id } }),
    );
    const secondOfA = await deps.store.backups.create(makeBackup({ server_id: a.id }));
    const ofB = await deps.store.backups.create(makeBackup({ server_id: b.id }));
    const first = await dispatch(deps);
    // The ephemeral drill loads no server, so a's limit of 1 does not hold it back; the second
    // sandbox drill waits for the first (the sandbox's limit), a's second backup for a's first;
    // then the total of 3 is reached before b's backup.
    expect(first.started).toEqual([backupOfA.id, ephemeral.id, onSandbox1.id]);
    expect(runner.started.slice(-3)).toEqual([
      { kind: "backup", id: backupOfA.id },
      { kind: "verify", id: ephemeral.id },
      { kind: "verify", id: onSandbox1.id },
    ]);
    expect((await deps.store.drills.get(ephemeral.id))?.runner_ref).toBe(`test:${ephemeral.id}`);
    expect((await dispatch(deps)).started).toEqual([]);
    // The first sandbox drill ends: the total has room for one, and the oldest waiting that its
    // server allows is the second sandbox drill (a's second backup still waits for a's first).
    await deps.store.drills.transition(onSandbox1.id, "running");
    await deps.store.drills.transition(onSandbox1.id, "completed");
    expect((await dispatch(deps)).started).toEqual([onSandbox2.id]);
    expect(secondOfA.id < ofB.id).toBe(true);
  });

  it("starts a queued import with the import program", async () => {
    const imported = await deps.store.backups.create(
      makeBackup({ server_id: a.id, trigger: "import", imported_from: "imports/shop.archive" }),
    );
    expect((await dispatch(deps)).started).toEqual([imported.id]);
    expect(runner.started.at(-1)).toEqual({ kind: "import", id: imported.id });
  });

  it("leaves jobs queued where no runner is configured", async () => {
    await deps.store.backups.create(makeBackup({ server_id: a.id }));
    expect((await dispatch({ ...deps, runner: null })).started).toEqual([]);
  });
});
