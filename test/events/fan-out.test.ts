// The fan-out function as EventBridge Scheduler invokes it (the input its adapter writes, with the
// scheduled time filled in), on the DynamoDB store and EventBridge Scheduler (moto).
import {
  CreateScheduleGroupCommand,
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
} from "@aws-sdk/client-scheduler";
import { beforeAll, describe, expect, it } from "vitest";
import { EventBridgeScheduler } from "#adapters/aws/eventbridge-scheduler.ts";
import type { Schedule, Server } from "#core/entities.ts";
import { type CoreDeps, listAll } from "#core/use-cases/deps.ts";
import { fanOutHandler } from "#functions/events/fan-out.ts";
import { createLogger } from "#functions/logger.ts";
import { coreDepsOf } from "#test/support/core-deps.ts";
import { awsWorld, type EngineWorld } from "#test/support/engine-harness.ts";
import { awsClientConfig, uniqueName } from "#test/support/env.ts";
import { makeDatabase, makeSchedule, makeServer } from "#test/support/fixtures.ts";

const ACCOUNT = "123456789012";
const group = uniqueName("mbm-schedules");
const schedulerClient = new SchedulerClient(awsClientConfig("scheduler"));
const quiet = createLogger("test", { level: "silent" });

let world: EngineWorld;
let deps: CoreDeps;
let server: Server;
let handle: ReturnType<typeof fanOutHandler>;

async function schedule(overrides: Partial<Schedule> = {}): Promise<Schedule> {
  return await world.store.schedules.create(
    makeSchedule({ cron_expression: "0 3 * * *", server_id: server.id, database: null, ...overrides }),
  );
}

beforeAll(async () => {
  world = await awsWorld();
  await schedulerClient.send(new CreateScheduleGroupCommand({ Name: group }));
  deps = coreDepsOf(world, {
    scheduler: new EventBridgeScheduler({
      client: schedulerClient,
      groupName: group,
      targetArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:mbm-fan-out`,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/mbm-scheduler`,
    }),
  });
  server = await world.store.servers.create(makeServer({ name: "prod" }));
  for (const name of ["shop", "crm", "analytics"]) {
    await world.store.databases.create(
      makeDatabase({ server_id: server.id, name, enabled: name !== "analytics" }),
    );
  }
  handle = fanOutHandler(() => deps, quiet);
});

describe("fan-out function", () => {
  it("creates one queued backup per enabled database, tagged with the schedule, once per firing however often it is delivered", async () => {
    const s = await schedule({ retention_days: 7 });
    const event = { schedule_id: s.id, scheduled_time: "2026-11-22T03:00:00Z" };
    const first = await handle(event);
    expect(first).toMatchObject({ schedule_id: s.id, created: 2, existing: 0, skipped: null });
    // EventBridge Scheduler's retry of the same firing, and an at-least-once duplicate.
    expect(await handle(event)).toMatchObject({ created: 0, existing: 2 });
    expect(await handle({ ...event, scheduled_time: "2026-11-22T03:00:07Z" })).toMatchObject({
      created: 0,
      existing: 2,
    });

    const backups = await listAll((f, p) => world.store.backups.list(f, p), { schedule_id: s.id });
    expect(backups.map((b) => b.database).sort()).toEqual(["crm", "shop"]);
    for (const b of backups) {
      expect(b).toMatchObject({
        status: "queued",
        trigger: "schedule",
        schedule_id: s.id,
        server_id: server.id,
      });
      expect(b.created_at).toBe("2026-11-22T03:00:00.000Z");
      expect(b.expires_at).toBe("2026-11-29T03:00:00.000Z");
    }
    // The next firing is a new set.
    expect(await handle({ schedule_id: s.id, scheduled_time: "2026-11-23T03:00:00Z" })).toMatchObject({
      created: 2,
    });
    expect((await world.store.schedules.get(s.id))?.last_run?.backups_created).toBe(2);
  });

  it("ignores a firing for a schedule that no longer exists, and removes its orphaned timer", async () => {
    const s = await schedule();
    await deps.scheduler!.upsert(s);
    const name = `${s.id}`;
    await schedulerClient.send(new GetScheduleCommand({ Name: name, GroupName: group }));
    await world.store.schedules.delete(s.id);

    const result = await handle({ schedule_id: s.id, scheduled_time: "2026-11-22T03:00:00Z" });
    expect(result).toEqual({
      schedule_id: s.id,
      scheduled_at: "2026-11-22T03:00:00.000Z",
      created: 0,
      existing: 0,
      skipped: "unknown schedule",
    });
    await expect(
      schedulerClient.send(new GetScheduleCommand({ Name: name, GroupName: group })),
    ).rejects.toThrow(ResourceNotFoundException);
    expect((await listAll((f, p) => world.store.backups.list(f, p), { schedule_id: s.id })).length).toBe(0);
  });

  it("a schedule whose one database is no longer managed fails the firing, keeps its timer, and says why", async () => {
    const db = await world.store.databases.create(makeDatabase({ server_id: server.id, name: "gone" }));
    const s = await schedule({ database: "gone" });
    await deps.scheduler!.upsert(s);
    await world.store.databases.delete(db.id);

    await expect(handle({ schedule_id: s.id, scheduled_time: "2026-11-22T03:00:00Z" })).rejects.toThrow(
      /database gone on server/,
    );
    // The schedule is not "unknown": its timer stays, and its last run records the reason.
    await schedulerClient.send(new GetScheduleCommand({ Name: s.id, GroupName: group }));
    expect((await world.store.schedules.get(s.id))?.last_run?.error).toMatch(/database gone on server/);
  });

  it("a disabled schedule's firing creates nothing", async () => {
    const s = await schedule({ enabled: false });
    expect(await handle({ schedule_id: s.id, scheduled_time: "2026-11-22T03:00:00Z" })).toMatchObject({
      created: 0,
      skipped: "the schedule is disabled",
    });
  });

  it("refuses what is not a schedule firing (so it ends in the dead-letter queue after the retries)", async () => {
    await expect(handle({})).rejects.toThrow(/fan-out: not a schedule firing/);
    await expect(
      handle({ schedule_id: "x", scheduled_time: "<aws.scheduler.scheduled-time>" }),
    ).rejects.toThrow(/not a schedule firing/);
  });
});
