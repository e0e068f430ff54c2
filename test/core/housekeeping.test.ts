// Housekeeping on both metadata stores: the reaper (jobs whose heartbeat stopped), stale-schedule
// detection and drill staleness (DrillStale), with announcements received by a real HTTP webhook server.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Backup, ManagedDatabase, Schedule, Server } from "#core/entities.ts";
import type { JobRef, JobRunner } from "#core/ports.ts";
import type { CoreDeps } from "#core/use-cases/deps.ts";
import { checkDrillStale, checkStaleSchedule, housekeeping } from "#core/use-cases/housekeeping.ts";
import { reapSilentJobs } from "#core/use-cases/jobs.ts";
import { coreDepsOf, quietAlerts } from "#test/support/core-deps.ts";
import { awsWorld, localWorld } from "#test/support/engine-harness.ts";
import {
  makeBackup,
  makeDatabase,
  makeDrill,
  makeRestore,
  makeSchedule,
  makeServer,
  makeSettings,
  makeVerification,
} from "#test/support/fixtures.ts";
import { startWebhookServer, type WebhookServer } from "#test/support/webhook-server.ts";

/** Records stops: the reaper asks the runner to stop a silent task (this is not what is under test). */
class StopRecordingRunner implements JobRunner {
  stopped: string[] = [];
  async start(job: JobRef) {
    return { runnerRef: `test:${job.id}` };
  }
  async stop(ref: string) {
    this.stopped.push(ref);
  }
}

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const iso = (ms: number) => new Date(ms).toISOString();

let hook: WebhookServer;
beforeAll(async () => {
  hook = await startWebhookServer();
});
afterAll(async () => {
  await hook.close();
});

describe.each(["local", "aws"] as const)("housekeeping (%s store)", (kind) => {
  let deps: CoreDeps;
  let runner: StopRecordingRunner;
  let server: Server;

  beforeEach(async () => {
    const world = kind === "aws" ? await awsWorld() : await localWorld();
    runner = new StopRecordingRunner();
    deps = coreDepsOf(world, { runner, alerts: quietAlerts({ webhook: true }) });
    await deps.store.settings.put(
      makeSettings({
        heartbeat_timeout_minutes: 15,
        webhook_url: hook.url,
        outbound_allowlist: ["127.0.0.1/32"],
      }),
    );
    server = await deps.store.servers.create(makeServer({ name: "prod" }));
    hook.deliveries.length = 0;
  });

  const backup = (o: Partial<Backup>) =>
    deps.store.backups.create(makeBackup({ server_id: server.id, database: "shop", ...o }));

  it("reaper: fails jobs silent for longer than heartbeat_timeout_minutes, stops their tasks, announces them, and leaves live or waiting ones", async () => {
    const now = Date.parse("2026-11-22T12:00:00Z");
    const silent = await backup({
      status: "running",
      created_at: iso(now - 60 * MIN),
      started_at: iso(now - 50 * MIN),
      progress: { bytes: 1234, at: iso(now - 16 * MIN) },
      runner_ref: "task-a",
    });
    const alive = await backup({
      status: "running",
      created_at: iso(now - 60 * MIN),
      started_at: iso(now - 50 * MIN),
      progress: { bytes: 99, at: iso(now - 1 * MIN) },
      runner_ref: "task-b",
    });
    const neverStarted = await backup({
      status: "queued",
      created_at: iso(now - 40 * MIN),
      progress: { bytes: 0, at: iso(now - 20 * MIN) }, // the hand-over's first heartbeat
      runner_ref: "task-c",
    });
    const waiting = await backup({ status: "queued", created_at: iso(now - 300 * MIN), runner_ref: null });
    const restore = await deps.store.restores.create(
      makeRestore({
        backup_id: alive.id,
        source_server_id: server.id,
        source_database: "shop",
        target_server_id: server.id,
        target_database: "shop_copy",
        status: "running",
        created_at: iso(now - 30 * MIN),
        started_at: iso(now - 29 * MIN), // no progress written at all
        runner_ref: "task-d",
      }),
    );

    const drill = await deps.store.drills.create(
      makeDrill({
        backup_id: alive.id,
        server_id: server.id,
        status: "running",
        created_at: iso(now - 30 * MIN),
        started_at: iso(now - 29 * MIN),
        progress: { bytes: 10, at: iso(now - 17 * MIN) },
        runner_ref: "task-e",
      }),
    );

    const reaped = await reapSilentJobs(deps, new Date(now));
    expect(reaped.map((j) => j.id).sort()).toEqual([silent.id, neverStarted.id, restore.id, drill.id].sort());
    expect(reaped.find((j) => j.id === drill.id)?.kind).toBe("verify");
    // A drill presumed lost proves nothing: failed, with the reason as its proof, on the backup too.
    const lost = await deps.store.drills.get(drill.id);
    expect(lost).toMatchObject({ status: "failed", result: { status: "failed", error: lost?.error } });
    expect((await deps.store.backups.get(alive.id))?.verification).toEqual(lost?.result);
    const after = await deps.store.backups.get(silent.id);
    expect(after?.status).toBe("failed");
    expect(after?.error).toBe(
      `no heartbeat for more than 15 minutes (last sign of life at ${iso(now - 16 * MIN)}): the task is presumed lost`,
    );
    expect((await deps.store.backups.get(alive.id))?.status).toBe("running");
    expect((await deps.store.backups.get(waiting.id))?.status).toBe("queued");
    expect((await deps.store.restores.get(restore.id))?.status).toBe("failed");
    expect(runner.stopped.sort()).toEqual(["task-a", "task-c", "task-d", "task-e"]);

    const events = (await hook.waitFor(4)).map((d) => d.body.event).sort();
    expect(events).toEqual(["BackupFailed", "BackupFailed", "BackupVerificationFailed", "RestoreFailed"]);
    // A second pass finds nothing more to do.
    expect(await reapSilentJobs(deps, new Date(now))).toEqual([]);
  });

  describe("stale schedules", () => {
    // Weekdays at 09:00 UTC. Monday 2026-11-23 10:00: the two latest firings are Mon 09:00 and Fri 09:00.
    const monday = new Date("2026-11-23T10:00:00Z");
    let schedule: Schedule;
    beforeEach(async () => {
      schedule = await deps.store.schedules.create(
        makeSchedule({
          cron_expression: "0 9 * * 1-5",
          timezone: "UTC",
          enabled: true,
          created_at: "2026-11-01T00:00:00.000Z",
          updated_at: "2026-11-01T00:00:00.000Z",
          stale_since: null,
        }),
      );
    });
    const success = (createdAt: string) =>
      backup({ status: "completed", trigger: "schedule", schedule_id: schedule.id, created_at: createdAt });

    it("is not stale over a weekend when Friday's backup completed (twice the smallest interval would say it is)", async () => {
      await success("2026-11-20T09:00:00.000Z");
      expect((await checkStaleSchedule(deps, schedule, monday)).stale).toBe(false);
    });

    it("is stale when two firings in a row brought no success: announced once, cleared by the next success", async () => {
      await success("2026-11-19T09:00:00.000Z"); // Thursday
      await backup({
        status: "failed",
        trigger: "schedule",
        schedule_id: schedule.id,
        created_at: "2026-11-20T09:00:00.000Z",
      });
      const first = await checkStaleSchedule(deps, schedule, monday);
      expect(first).toMatchObject({ stale: true, announced: true });
      const [delivery] = await hook.waitFor(1);
      expect(delivery?.body.event).toBe("ScheduleStale");
      expect(delivery?.body.detail).toMatchObject({
        schedule_id: schedule.id,
        expected_since: "2026-11-20T09:00:00.000Z",
        last_success_at: "2026-11-19T09:00:00.000Z",
      });
      expect(String(delivery?.body.text)).toContain("two firings ago");

      const again = await checkStaleSchedule(deps, (await deps.store.schedules.get(schedule.id))!, monday);
      expect(again).toMatchObject({ stale: true, announced: false });
      await new Promise((r) => setTimeout(r, 200));
      expect(hook.deliveries).toHaveLength(1);

      await success("2026-11-23T09:00:00.000Z");
      const recovered = await checkStaleSchedule(
        deps,
        (await deps.store.schedules.get(schedule.id))!,
        monday,
      );
      expect(recovered).toMatchObject({ stale: false, recovered: true });
      expect((await deps.store.schedules.get(schedule.id))?.stale_since).toBeNull();
    });

    it("is not judged before it had two firings since it was created or changed, nor when disabled", async () => {
      const fresh = { ...schedule, updated_at: "2026-11-21T00:00:00.000Z" };
      expect((await checkStaleSchedule(deps, fresh, monday)).stale).toBe(false);
      expect((await checkStaleSchedule(deps, { ...schedule, enabled: false }, monday)).stale).toBe(false);
      expect((await checkStaleSchedule(deps, schedule, monday)).stale).toBe(true); // never succeeded
    });

    it("housekeeping runs the reaper, the stale check and the dispatcher together", async () => {
      const queued = await backup({ status: "queued", runner_ref: null });
      const result = await housekeeping(deps, monday);
      expect(result.errors).toEqual([]);
      expect(result.stale).toEqual([schedule.id]);
      expect(result.started).toEqual([queued.id]);
    });
  });

  describe("drill staleness", () => {
    const now = Date.parse("2026-11-23T10:00:00Z");
    const settings = makeSettings({ drills: { target: { kind: "ephemeral" }, max_age_days: 7 } });
    let database: ManagedDatabase;
    beforeEach(async () => {
      await deps.store.settings.put({
        ...settings,
        webhook_url: hook.url,
        outbound_allowlist: ["127.0.0.1/32"],
      });
      database = await deps.store.databases.create(makeDatabase({ server_id: server.id, name: "shop" }));
    });
    /** A completed backup of shop that finished `daysAgo` days before `now`, drilled as told. */
    const completed = (daysAgo: number, drill?: { status: "passed" | "failed"; daysAgo: number }) =>
      backup({
        status: "completed",
        created_at: iso(now - daysAgo * DAY - 10 * MIN),
        finished_at: iso(now - daysAgo * DAY),
        verification: drill
          ? makeVerification({ status: drill.status, at: iso(now - drill.daysAgo * DAY) })
          : null,
      });
    const check = async () =>
      await checkDrillStale(deps, (await deps.store.databases.get(database.id))!, settings, new Date(now));

    it("announces once when the newest pass is older than max_age_days, and clears when a newer pass arrives", async () => {
      const proven = await completed(10, { status: "passed", daysAgo: 10 });
      await completed(6, { status: "failed", daysAgo: 6 }); // a recent drill that failed is no proof
      const unproven = await completed(1);
      await backup({ status: "failed", created_at: iso(now - DAY), finished_at: iso(now - DAY) });

      expect(await check()).toMatchObject({ stale: true, announced: true, recovered: false });
      const [delivery] = await hook.waitFor(1);
      expect(delivery?.body.event).toBe("DrillStale");
      expect(delivery?.body.detail).toEqual({
        server_id: server.id,
        database: "shop",
        max_age_days: 7,
        last_passed_at: proven.verification!.at,
        last_passed_backup_id: proven.id,
      });
      expect(String(delivery?.body.text)).toContain("no restore drill that passed in the last 7 day(s)");
      expect((await deps.store.databases.get(database.id))?.drill_stale_since).toBe(iso(now));

      // Still stale: not announced again (announce awaits its delivery, so none can be on its way).
      expect(await check()).toMatchObject({ stale: true, announced: false });
      expect(hook.deliveries).toHaveLength(1);

      await deps.store.backups.update(unproven.id, {
        verification: makeVerification({ at: iso(now - 30 * MIN) }),
      });
      expect(await check()).toMatchObject({ stale: false, recovered: true });
      expect((await deps.store.databases.get(database.id))?.drill_stale_since).toBeNull();
      expect(hook.deliveries).toHaveLength(1);
    });

    it("counts the newest pass by when it ran, whichever backup it proved", async () => {
      await completed(1);
      await completed(20, { status: "passed", daysAgo: 2 }); // an old backup drilled again lately
      expect(await check()).toMatchObject({ stale: false, announced: false });
      expect((await deps.store.databases.get(database.id))?.drill_stale_since).toBeNull();
    });

    it("a database never drilled: stale once its oldest completed backup is a day old; none completed: not stale", async () => {
      await backup({ status: "failed", created_at: iso(now - 9 * DAY), finished_at: iso(now - 9 * DAY) });
      expect(await check()).toMatchObject({ stale: false });
      await completed(0.5); // its first drill has had no time to run yet
      expect(await check()).toMatchObject({ stale: false });
      await completed(1.5);
      expect(await check()).toMatchObject({ stale: true, announced: true });
      const [delivery] = await hook.waitFor(1);
      expect(delivery?.body.detail).toMatchObject({ last_passed_at: null, last_passed_backup_id: null });
      expect(String(delivery?.body.text)).toContain("Newest pass: never");
    });

    it("housekeeping judges each enabled database, not disabled ones", async () => {
      await completed(10, { status: "passed", daysAgo: 10 });
      const paused = await deps.store.databases.create(
        makeDatabase({ server_id: server.id, name: "paused", enabled: false }),
      );
      await backup({
        database: "paused",
        status: "completed",
        created_at: iso(now - 5 * DAY),
        finished_at: iso(now - 5 * DAY),
      });
      const fresh = await deps.store.databases.create(makeDatabase({ server_id: server.id, name: "fresh" }));
      await backup({
        database: "fresh",
        status: "completed",
        created_at: iso(now - 2 * DAY),
        finished_at: iso(now - 2 * DAY),
        verification: makeVerification({ at: iso(now - 2 * DAY) }),
      });
      const result = await housekeeping(deps, new Date(now));
      expect(result.errors).toEqual([]);
      expect(result.drill_stale).toEqual([database.id]);
      expect((await deps.store.databases.get(paused.id))?.drill_stale_since).toBeNull();
      expect((await deps.store.databases.get(fresh.id))?.drill_stale_since).toBeNull();
      const events = (await hook.waitFor(1)).map((d) => [
        d.body.event,
        (d.body.detail as { database: string }).database,
      ]);
      expect(events).toEqual([["DrillStale", "shop"]]);
    });
  });
});
