// The EventBridge Scheduler adapter against moto, plus a stubbed client for the answers moto never gives.
//
// What moto 5.2.5 does not do, so these tests cannot check it against moto:
// - It validates nothing of a schedule: not the expression (any string is stored), the time zone, the
//   name's pattern or length, the description's length, the role ARN, the retry policy's ranges. So
//   AWS's ValidationException cannot be provoked: its translation is tested with a stub.
// - ClientToken (idempotent create/update) is ignored.
// - It never runs a schedule, so that the times match what croner computes is checked by the unit test
//   (test/unit/scheduler-cron.test.ts), not here.
// - CreateSchedule in a group that does not exist is an HTTP 500 (a KeyError; AWS answers
//   ResourceNotFoundException); CreateScheduleGroup of an existing name replaces the group (AWS:
//   ConflictException). Each run uses a fresh group, so neither matters here.
// What it does like AWS: ConflictException for an existing name, ResourceNotFoundException for a
// missing one on Get/Update/Delete, UpdateSchedule replacing every field, GetSchedule returning the
// target with its Input, RetryPolicy and DeadLetterConfig as sent.
import {
  ConflictException,
  CreateScheduleGroupCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ResourceNotFoundException,
  SchedulerClient,
  ValidationException,
} from "@aws-sdk/client-scheduler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EventBridgeScheduler,
  type EventBridgeSchedulerOptions,
  SCHEDULED_TIME,
} from "#adapters/aws/eventbridge-scheduler.ts";
import { ValidationError } from "#core/errors.ts";
import { awsClientConfig, uniqueName } from "#test/support/env.ts";
import { makeSchedule } from "#test/support/fixtures.ts";

const ACCOUNT = "123456789012";
const TARGET = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:mbm-schedule-fanout`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/mbm-scheduler`;
const DLQ = `arn:aws:sqs:us-east-1:${ACCOUNT}:mbm-scheduler-dlq`;
const PREFIX = "mbm-";

const group = uniqueName("mbm-schedules");
const client = new SchedulerClient(awsClientConfig("scheduler"));
/** Every command the adapter sends, in order. */
const sent: string[] = [];
client.middlewareStack.add(
  (next, context) => (args) => {
    sent.push(context.commandName ?? "");
    return next(args);
  },
  { step: "initialize", name: "recordCommands" },
);
const options: EventBridgeSchedulerOptions = {
  client,
  groupName: group,
  targetArn: TARGET,
  roleArn: ROLE,
  deadLetterArn: DLQ,
  namePrefix: PREFIX,
};
const scheduler = new EventBridgeScheduler(options);

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

async function getSchedule(id: string): Promise<GetScheduleCommandOutput> {
  return client.send(new GetScheduleCommand({ Name: `${PREFIX}${id}`, GroupName: group }));
}

async function expectGone(id: string): Promise<void> {
  expect(await caught(getSchedule(id))).toBeInstanceOf(ResourceNotFoundException);
}

beforeAll(async () => {
  await client.send(new CreateScheduleGroupCommand({ Name: group }));
});

afterAll(async () => {
  await client.send(new DeleteScheduleGroupCommand({ Name: group }));
});

describe("EventBridgeScheduler against moto", () => {
  it("creates the schedule's timer on the first upsert", async () => {
    const schedule = makeSchedule({
      name: "Nightly shop",
      cron_expression: "30 2 * * 1-5",
      timezone: "Europe/Paris",
    });
    sent.length = 0;
    await scheduler.upsert(schedule);
    expect(sent).toEqual(["CreateScheduleCommand"]);

    const got = await getSchedule(schedule.id);
    expect(got.Name).toBe(`${PREFIX}${schedule.id}`);
    expect(got.GroupName).toBe(group);
    expect(got.Description).toBe("Nightly shop");
    expect(got.ScheduleExpression).toBe("cron(30 2 ? * 2-6 *)");
    expect(got.ScheduleExpressionTimezone).toBe("Europe/Paris");
    expect(got.State).toBe("ENABLED");
    expect(got.FlexibleTimeWindow).toEqual({ Mode: "OFF" });
    expect(got.Target?.Arn).toBe(TARGET);
    expect(got.Target?.RoleArn).toBe(ROLE);
    expect(JSON.parse(got.Target?.Input ?? "null")).toEqual({
      schedule_id: schedule.id,
      scheduled_time: SCHEDULED_TIME,
    });
    expect(got.Target?.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 });
    expect(got.Target?.DeadLetterConfig).toEqual({ Arn: DLQ });
  });

  it("updates it on the next upsert: new times, new zone, disabled", async () => {
    const schedule = makeSchedule({ cron_expression: "0 3 * * *", timezone: "UTC" });
    await scheduler.upsert(schedule);
    sent.length = 0;
    await scheduler.upsert({
      ...schedule,
      name: "Weekly",
      cron_expression: "*/15 8-17 * * SAT,SUN",
      timezone: "america/new_york",
      enabled: false,
    });
    expect(sent).toEqual(["CreateScheduleCommand", "UpdateScheduleCommand"]);

    const got = await getSchedule(schedule.id);
    expect(got.Description).toBe("Weekly");
    expect(got.ScheduleExpression).toBe("cron(0/15 8-17 ? * SUN,SAT *)");
    // croner accepts any case; Scheduler gets the exact IANA name.
    expect(got.ScheduleExpressionTimezone).toBe("America/New_York");
    expect(got.State).toBe("DISABLED");
    // UpdateSchedule replaces the whole schedule: the target is sent again, whole.
    expect(JSON.parse(got.Target?.Input ?? "null")).toEqual({
      schedule_id: schedule.id,
      scheduled_time: SCHEDULED_TIME,
    });
    expect(got.Target?.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 });
    expect(got.Target?.DeadLetterConfig).toEqual({ Arn: DLQ });

    await scheduler.upsert({ ...schedule, enabled: true });
    expect((await getSchedule(schedule.id)).State).toBe("ENABLED");
  });

  it("survives concurrent upserts of one new schedule", async () => {
    const schedule = makeSchedule();
    const crons = ["0 1 * * *", "0 2 * * *", "0 3 * * *", "0 4 * * *"];
    await Promise.all(crons.map((cron) => scheduler.upsert({ ...schedule, cron_expression: cron })));
    const got = await getSchedule(schedule.id);
    expect(crons.map((c) => `cron(${c.replace(/ \*$/, " ? *")})`)).toContain(got.ScheduleExpression);
  });

  it("removes it, and removing again (or something never scheduled) is fine", async () => {
    const schedule = makeSchedule();
    await scheduler.upsert(schedule);
    await scheduler.remove(schedule.id);
    await expectGone(schedule.id);
    await scheduler.remove(schedule.id);
    await scheduler.remove(makeSchedule().id);
    // And it can be scheduled again afterwards.
    await scheduler.upsert(schedule);
    expect((await getSchedule(schedule.id)).State).toBe("ENABLED");
  });

  it("refuses what EventBridge cannot express before sending anything", async () => {
    const schedule = makeSchedule({ cron_expression: "0 0 1 * MON" });
    sent.length = 0;
    const error = await caught(scheduler.upsert(schedule));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe("cron_expression");
    expect((error as ValidationError).message).toContain("day-of-month OR day-of-week");
    const zone = await caught(scheduler.upsert(makeSchedule({ timezone: "Mars/Olympus" })));
    expect((zone as ValidationError).field).toBe("timezone");
    const id = await caught(scheduler.upsert(makeSchedule({ id: "x".repeat(61) })));
    expect((id as ValidationError).field).toBe("schedule_id");
    expect(await caught(scheduler.remove("../etc"))).toBeInstanceOf(ValidationError);
    expect(sent).toEqual([]);
    await expectGone(schedule.id);
  });

  it("sends no dead-letter queue when none is configured, and no prefix by default", async () => {
    const plain = new EventBridgeScheduler({ client, groupName: group, targetArn: TARGET, roleArn: ROLE });
    const schedule = makeSchedule();
    await plain.upsert(schedule);
    const got = await client.send(new GetScheduleCommand({ Name: schedule.id, GroupName: group }));
    expect(got.Target?.DeadLetterConfig).toBeUndefined();
    await plain.remove(schedule.id);
    expect(
      await caught(client.send(new GetScheduleCommand({ Name: schedule.id, GroupName: group }))),
    ).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe("EventBridgeScheduler's request", () => {
  it("trims the description to Scheduler's 512 characters without splitting a character", () => {
    const long = scheduler.request(makeSchedule({ name: `a${"😀".repeat(300)}` }));
    expect(long.Description).toHaveLength(511);
    expect(long.Description?.endsWith("😀")).toBe(true);
    expect(scheduler.request(makeSchedule({ name: "b".repeat(600) })).Description).toHaveLength(512);
  });

  it("refuses a bad group name or prefix at construction", () => {
    expect(() => new EventBridgeScheduler({ ...options, groupName: "a/b" })).toThrow(/group name/);
    expect(() => new EventBridgeScheduler({ ...options, namePrefix: "mbm/" })).toThrow(/name prefix/);
  });
});

/** A client whose answers are scripted: each call takes the next answer (an error is thrown). */
function stubbed(answers: unknown[]): { scheduler: EventBridgeScheduler; calls: string[] } {
  const calls: string[] = [];
  const stub = {
    send: async (command: object) => {
      calls.push(command.constructor.name);
      const answer = answers.shift();
      if (answer instanceof Error) throw answer;
      return answer ?? {};
    },
  } as unknown as SchedulerClient;
  return { scheduler: new EventBridgeScheduler({ ...options, client: stub }), calls };
}

const $metadata = {};
const conflict = () =>
  new ConflictException({
    message: "Schedule x already exists.",
    Message: "Schedule x already exists.",
    $metadata,
  });
const notFound = () =>
  new ResourceNotFoundException({
    message: "Schedule x does not exist.",
    Message: "Schedule x does not exist.",
    $metadata,
  });
const invalid = (message: string) => new ValidationException({ message, Message: message, $metadata });

describe("EventBridgeScheduler with a stubbed client (what moto never answers)", () => {
  it("creates again when the schedule is deleted between the conflict and the update", async () => {
    const { scheduler, calls } = stubbed([conflict(), notFound(), {}]);
    await scheduler.upsert(makeSchedule());
    expect(calls).toEqual(["CreateScheduleCommand", "UpdateScheduleCommand", "CreateScheduleCommand"]);
  });

  it("gives up after a few rounds of that race", async () => {
    const { scheduler, calls } = stubbed([
      conflict(),
      notFound(),
      conflict(),
      notFound(),
      conflict(),
      notFound(),
    ]);
    const error = await caught(scheduler.upsert(makeSchedule()));
    expect(String(error)).toContain("upsert of the timer of schedule");
    expect(calls).toHaveLength(6);
  });

  it.each([
    ["Invalid Schedule Expression cron(0 0 ? * 9 *).", "cron_expression"],
    ["The schedule expression timezone Foo/Bar is not valid.", "timezone"],
    ["Invalid timezone.", "timezone"],
  ])("reads the ValidationException %j as a ValidationError on %s", async (message, field) => {
    const schedule = makeSchedule();
    for (const answers of [[invalid(message)], [conflict(), invalid(message)]]) {
      const error = await caught(stubbed(answers).scheduler.upsert(schedule));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
      // Our own words with the user's own values, not AWS's text.
      expect((error as ValidationError).message).not.toContain(message);
    }
  });

  it("reports other failures as our own, naming the schedule and the AWS error only", async () => {
    const schedule = makeSchedule();
    const roleError = invalid(`Role ${ROLE} does not allow scheduler.amazonaws.com to assume it.`);
    const error = await caught(stubbed([roleError]).scheduler.upsert(schedule));
    expect(error).not.toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe(
      `scheduler: create of the timer of schedule ${schedule.id} failed (ValidationException)`,
    );
    const removal = await caught(stubbed([new Error("socket hang up")]).scheduler.remove(schedule.id));
    expect((removal as Error).message).toContain(`delete of the timer of schedule ${schedule.id} failed`);
  });
});
