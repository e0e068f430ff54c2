// The SNS notifier against moto: a topic with SQS queues subscribed (raw delivery off, so each message
// is SNS's JSON envelope), one of them with a filter policy on the `event_type` attribute.
//
// What moto 5.2.5 does differently from AWS:
// - It accepts a subject with line breaks, non-ASCII characters, or an empty one (AWS refuses all
//   three); it refuses one over 100 characters, as AWS does. The test checks what reaches the topic.
// - Delivery to SQS ignores the queue's policy (AWS needs sns.amazonaws.com allowed to SendMessage):
//   the test sets one anyway, so it also holds against AWS_ENDPOINT_URL.
// - It refuses a message over 256 KiB ("Message too long") like AWS, so the cut of a long text is
//   checked against it.
import { CreateTopicCommand, DeleteTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PUBLISH_MAX_BYTES, SnsNotifier, TRUNCATED } from "#adapters/aws/sns-notifier.ts";
import { backupEvent, type DomainEvent, notificationText, scheduleStaleEvent } from "#core/events.ts";
import { awsClientConfig, uniqueName } from "#test/support/env.ts";
import { makeBackup, makeSchedule } from "#test/support/fixtures.ts";

const sns = new SNSClient(awsClientConfig("sns"));
const sqs = new SQSClient(awsClientConfig("sqs"));
/** Every Publish input the notifier sends. */
const published: Record<string, unknown>[] = [];
sns.middlewareStack.add(
  (next, context) => (args) => {
    if (context.commandName === "PublishCommand") published.push(args.input as Record<string, unknown>);
    return next(args);
  },
  { step: "initialize", name: "recordPublish" },
);

let topicArn: string;
/** Gets every message; `stale` only the ScheduleStale ones (filter policy on event_type). */
let everyQueue: string;
let staleQueue: string;

interface Envelope {
  Type: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

async function createSubscribedQueue(filterPolicy?: Record<string, unknown>): Promise<string> {
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName("mbm-alerts") }))).QueueUrl!;
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  const queueArn = Attributes!.QueueArn!;
  const statement = {
    Effect: "Allow",
    Principal: { Service: "sns.amazonaws.com" },
    Action: "sqs:SendMessage",
    Resource: queueArn,
    Condition: { ArnEquals: { "aws:SourceArn": topicArn } },
  };
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: url,
      Attributes: { Policy: JSON.stringify({ Version: "2012-10-17", Statement: [statement] }) },
    }),
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "sqs",
      Endpoint: queueArn,
      Attributes: {
        RawMessageDelivery: "false",
        ...(filterPolicy ? { FilterPolicy: JSON.stringify(filterPolicy) } : {}),
      },
    }),
  );
  return url;
}

async function receive(queueUrl: string, waitSeconds = 5): Promise<Message[]> {
  const res = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: waitSeconds, MaxNumberOfMessages: 10 }),
  );
  return res.Messages ?? [];
}
const envelope = (m: Message) => JSON.parse(m.Body!) as Envelope;

function failedBackup(error = "mongodump exited with code 1: connection refused"): DomainEvent {
  const event = backupEvent(
    makeBackup({ status: "failed", finished_at: "2025-03-04T05:06:07.890Z", duration_ms: 7890, error }),
  );
  if (!event) throw new Error("a failed backup has an event");
  return event;
}

beforeAll(async () => {
  topicArn = (await sns.send(new CreateTopicCommand({ Name: uniqueName("mbm-alerts") }))).TopicArn!;
  everyQueue = await createSubscribedQueue();
  staleQueue = await createSubscribedQueue({ event_type: ["ScheduleStale"] });
});

afterAll(async () => {
  await sns.send(new DeleteTopicCommand({ TopicArn: topicArn }));
  await Promise.all(
    [everyQueue, staleQueue].map((QueueUrl) => sqs.send(new DeleteQueueCommand({ QueueUrl }))),
  );
});

describe("SnsNotifier", () => {
  it("publishes the subject, the text and the event type as a message attribute", async () => {
    const notifier = new SnsNotifier({ client: sns, topicArn });
    expect(notifier.channel).toBe("sns");
    const event = failedBackup();
    const { subject, text } = notificationText(event);
    await notifier.notify(subject, text, event);

    const messages = await receive(everyQueue);
    expect(messages).toHaveLength(1);
    const body = envelope(messages[0]!);
    expect(body.Type).toBe("Notification");
    expect(body.TopicArn).toBe(topicArn);
    expect(body.Subject).toBe("[mongo-backup-manager] backup of shop failed");
    expect(body.Message).toBe(text);
    expect(body.MessageAttributes).toEqual({ event_type: { Type: "String", Value: "BackupFailed" } });
  });

  it("lets a subscription filter on event_type", async () => {
    const notifier = new SnsNotifier({ client: sns, topicArn });
    const backup = failedBackup();
    const stale = scheduleStaleEvent(
      makeSchedule({ name: "nightly" }),
      "2025-03-03T02:00:00.000Z",
      null,
      new Date("2025-03-04T02:05:00.000Z"),
    );
    for (const event of [backup, stale]) {
      const { subject, text } = notificationText(event);
      await notifier.notify(subject, text, event);
    }
    const filtered = (await receive(staleQueue)).map(envelope);
    expect(filtered.map((e) => e.MessageAttributes?.event_type?.Value)).toEqual(["ScheduleStale"]);
    expect(filtered[0]!.Subject).toBe("[mongo-backup-manager] schedule nightly is stale");
    const every = (await receive(everyQueue)).map((m) => envelope(m).MessageAttributes?.event_type?.Value);
    expect(every.sort()).toEqual(["BackupFailed", "ScheduleStale"]);
  });

  it("makes a subject SNS would refuse a printable ASCII line of at most 100 characters", async () => {
    const notifier = new SnsNotifier({ client: sns, topicArn });
    const event = failedBackup();
    await notifier.notify(`  backup of «café»\nfailed ${"x".repeat(150)}`, "text", event);
    const [message] = await receive(everyQueue);
    const subject = envelope(message!).Subject!;
    expect(subject).toMatch(/^backup of \?caf\?\? failed x+$/);
    expect(subject).toHaveLength(100);

    // Nothing printable: no subject at all rather than an empty one.
    await notifier.notify(" \n\t ", "text", event);
    expect(published.at(-1)).not.toHaveProperty("Subject");
    const [bare] = await receive(everyQueue);
    expect(envelope(bare!).Message).toBe("text");
  });

  it("cuts a text too long for SNS, between two characters", async () => {
    const notifier = new SnsNotifier({ client: sns, topicArn });
    const event = failedBackup(`😀é${"é😀".repeat(60_000)}`);
    const { subject, text } = notificationText(event);
    expect(Buffer.byteLength(text)).toBeGreaterThan(PUBLISH_MAX_BYTES);
    await notifier.notify(subject, text, event); // moto refuses a message over 256 KiB

    const sent = published.at(-1)!.Message as string;
    const attributeBytes = Buffer.byteLength("event_typeStringBackupFailed");
    expect(Buffer.byteLength(sent) + attributeBytes).toBeLessThanOrEqual(PUBLISH_MAX_BYTES);
    expect(Buffer.byteLength(sent) + attributeBytes).toBeGreaterThan(PUBLISH_MAX_BYTES - 4);
    expect(sent.endsWith(TRUNCATED)).toBe(true);
    const kept = sent.slice(0, -TRUNCATED.length);
    expect(text.startsWith(kept)).toBe(true);
    expect(kept).not.toContain("\ufffd");
    // The SQS copy (over SQS's own 256 KiB with the envelope) is not what this test is about.
    await receive(everyQueue, 0);
  });

  it("rejects, naming the topic, when the topic does not exist", async () => {
    const missing = `${topicArn}-missing`;
    const notifier = new SnsNotifier({ client: sns, topicArn: missing });
    const event = failedBackup();
    await expect(notifier.notify("subject", "text", event)).rejects.toThrow(
      `SNS Publish of BackupFailed to ${missing} failed: NotFoundException`,
    );
  });
});
