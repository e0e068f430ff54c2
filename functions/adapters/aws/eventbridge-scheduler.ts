// Scheduler port on EventBridge Scheduler: one schedule per backup schedule, named `${prefix}${id}` in
// one schedule group, that invokes the fan-out function with `{"schedule_id": id}` at the times of the
// schedule's cron (converted by adapters/aws/scheduler-cron.ts) in its time zone.
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  type SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
} from "@aws-sdk/client-scheduler";
import type { Schedule } from "#core/entities.ts";
import { ValidationError } from "#core/errors.ts";
import type { Scheduler } from "#core/ports.ts";
import { schedulerTimezone, toSchedulerCron } from "./scheduler-cron.ts";

/** Scheduler's rule for schedule (and group) names. */
const NAME = /^[0-9a-zA-Z_.-]{1,64}$/;
const DESCRIPTION_MAX = 512;
/** EventBridge Scheduler's context attribute for the time a firing was due (ISO 8601, UTC). */
export const SCHEDULED_TIME = "<aws.scheduler.scheduled-time>";
/** Retries of one invocation, and how long an event may wait for them (after that: the dead letters). */
const RETRY_POLICY = { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 } as const;
/** Create, update when it exists, create again when it was deleted in between: a few rounds at most. */
const UPSERT_ATTEMPTS = 3;

export interface EventBridgeSchedulerOptions {
  client: SchedulerClient;
  /** The schedule group that holds our schedules (created by the stack). */
  groupName: string;
  /** ARN of the fan-out function the schedules invoke. */
  targetArn: string;
  /** ARN of the role EventBridge Scheduler assumes to invoke it. */
  roleArn: string;
  /** ARN of an SQS queue for invocations that failed every retry. */
  deadLetterArn?: string | undefined;
  /** Prepended to the schedule id to name its EventBridge schedule. Default: none. */
  namePrefix?: string | undefined;
}

/** At most `max` UTF-16 units, without cutting a surrogate pair in two. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

function failure(action: string, scheduleId: string, error: unknown): Error {
  const code = error instanceof Error ? error.name : "unknown error";
  return new Error(`scheduler: ${action} of the timer of schedule ${scheduleId} failed (${code})`, {
    cause: error,
  });
}

/**
 * EventBridge's ValidationException as our ValidationError when it is about what the user wrote (the
 * expression or the time zone); anything else (an ARN, the group) is our configuration, not theirs.
 * The message is ours: the values were the user's own, AWS's text is not passed on.
 */
function translate(action: string, schedule: Schedule, error: unknown): Error {
  if (error instanceof ValidationException) {
    // The SDK copies the body's Message to `message`; both, in case one is missing.
    const message = `${error.message ?? ""} ${error.Message ?? ""}`;
    if (/time ?zone/i.test(message)) {
      return new ValidationError(
        "timezone",
        `EventBridge Scheduler does not accept the time zone ${JSON.stringify(schedule.timezone)}`,
        { cause: error },
      );
    }
    if (/expression|cron/i.test(message)) {
      return new ValidationError(
        "cron_expression",
        `EventBridge Scheduler does not accept ${JSON.stringify(schedule.cron_expression)}`,
        { cause: error },
      );
    }
  }
  return failure(action, schedule.id, error);
}

export class EventBridgeScheduler implements Scheduler {
  readonly #client: SchedulerClient;
  readonly #groupName: string;
  readonly #targetArn: string;
  readonly #roleArn: string;
  readonly #deadLetterArn: string | undefined;
  readonly #prefix: string;

  constructor({
    client,
    groupName,
    targetArn,
    roleArn,
    deadLetterArn,
    namePrefix,
  }: EventBridgeSchedulerOptions) {
    if (!NAME.test(groupName))
      throw new Error(`scheduler: group name ${JSON.stringify(groupName)} is not valid`);
    if (namePrefix && !NAME.test(namePrefix)) {
      throw new Error(`scheduler: name prefix ${JSON.stringify(namePrefix)} is not valid`);
    }
    this.#client = client;
    this.#groupName = groupName;
    this.#targetArn = targetArn;
    this.#roleArn = roleArn;
    this.#deadLetterArn = deadLetterArn;
    this.#prefix = namePrefix ?? "";
  }

  /** The name of a schedule's EventBridge schedule. */
  scheduleName(scheduleId: string): string {
    const name = `${this.#prefix}${scheduleId}`;
    if (!NAME.test(name)) {
      throw new ValidationError(
        "schedule_id",
        `with the prefix it must match ${NAME.source} (EventBridge Scheduler's names), got ${JSON.stringify(scheduleId)}`,
      );
    }
    return name;
  }

  /** The request that creates or replaces the schedule's timer (UpdateSchedule replaces every field). */
  request(schedule: Schedule): CreateScheduleCommandInput {
    return {
      Name: this.scheduleName(schedule.id),
      GroupName: this.#groupName,
      Description: truncate(schedule.name, DESCRIPTION_MAX),
      ScheduleExpression: toSchedulerCron(schedule.cron_expression),
      ScheduleExpressionTimezone: schedulerTimezone(schedule.timezone),
      State: schedule.enabled ? "ENABLED" : "DISABLED",
      FlexibleTimeWindow: { Mode: "OFF" },
      Target: {
        Arn: this.#targetArn,
        RoleArn: this.#roleArn,
        // Scheduler fills in the firing's own time, the same on every retry of it: fan-out derives
        // its backup ids from it, which makes a retried or duplicated invocation add nothing.
        Input: JSON.stringify({ schedule_id: schedule.id, scheduled_time: SCHEDULED_TIME }),
        RetryPolicy: { ...RETRY_POLICY },
        ...(this.#deadLetterArn ? { DeadLetterConfig: { Arn: this.#deadLetterArn } } : {}),
      },
    };
  }

  async upsert(schedule: Schedule): Promise<void> {
    // Converted and checked before any call, so a refusal names the field and changes nothing.
    const input = this.request(schedule);
    let lastError: unknown;
    for (let attempt = 0; attempt < UPSERT_ATTEMPTS; attempt++) {
      try {
        await this.#client.send(new CreateScheduleCommand(input));
        return;
      } catch (error) {
        if (!(error instanceof ConflictException)) throw translate("create", schedule, error);
        lastError = error;
      }
      try {
        await this.#client.send(new UpdateScheduleCommand(input));
        return;
      } catch (error) {
        // Deleted between our create and update (a concurrent remove or upsert): create it again.
        if (!(error instanceof ResourceNotFoundException)) throw translate("update", schedule, error);
        lastError = error;
      }
    }
    throw failure("upsert", schedule.id, lastError);
  }

  async remove(scheduleId: string): Promise<void> {
    const name = this.scheduleName(scheduleId);
    try {
      await this.#client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.#groupName }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return;
      throw failure("delete", scheduleId, error);
    }
  }
}
