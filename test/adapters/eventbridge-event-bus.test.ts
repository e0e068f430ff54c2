// The EventBridge event bus against the run's emulator (moto, or LocalStack under `npm run
// test:localstack`) with a bus, a rule on our source and an SQS queue as its target, and against a
// local HTTP server speaking PutEvents' JSON protocol for the answers moto never gives.
//
// What moto 5.2.5 does differently from AWS, so these tests cannot check it against moto:
// - PutEvents never refuses an entry for its size (AWS: 256 KiB per entry): the trimming of a long
//   error is checked on what reaches the local server.
// - PutEvents with a well-formed entry never answers FailedEntryCount > 0 (only a Detail that is not
//   JSON does, which the adapter never sends): the local server answers it.
// - PutEvents to a bus that does not exist is a ResourceNotFoundException for the whole call. AWS
//   answers 200 with an EventId and drops the event (its API reference lists no not-found error for
//   PutEvents), and so does LocalStack: the adapter asks DescribeEventBus first, and that test shows
//   which emulator answers what.
// - Delivery to the SQS target ignores the queue's policy (AWS needs events.amazonaws.com allowed to
//   SendMessage): the test sets one anyway, so it also holds against AWS_ENDPOINT_URL.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENTRY_MAX_BYTES, EventBridgeEventBus, TRUNCATED } from "#adapters/aws/eventbridge-event-bus.ts";
import { type BackupEventDetail, backupEvent, type DomainEvent, EVENT_SOURCE } from "#core/events.ts";
import { awsClientConfig, awsEmulator, uniqueName } from "#test/support/env.ts";
import { makeBackup } from "#test/support/fixtures.ts";

const busName = uniqueName("mbm-bus");
const ruleName = uniqueName("mbm-rule");
const queueName = uniqueName("mbm-events");
const events = new EventBridgeClient(awsClientConfig("events"));
const sqs = new SQSClient(awsClientConfig("sqs"));
let queueUrl: string;

function failedBackup(error = "mongodump exited with code 1: connection refused"): DomainEvent {
  const event = backupEvent(
    makeBackup({
      status: "failed",
      trigger: "schedule",
      schedule_id: "0197a5a0-0000-7000-8000-000000000001",
      started_at: "2025-03-04T05:06:00.000Z",
      finished_at: "2025-03-04T05:06:07.890Z",
      duration_ms: 7890,
      error,
    }),
  );
  if (!event) throw new Error("a failed backup has an event");
  return event;
}

beforeAll(async () => {
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: queueName }))).QueueUrl!;
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
  );
  const queueArn = attributes.Attributes!.QueueArn!;
  await events.send(new CreateEventBusCommand({ Name: busName }));
  const { RuleArn } = await events.send(
    new PutRuleCommand({
      Name: ruleName,
      EventBusName: busName,
      EventPattern: JSON.stringify({ source: [EVENT_SOURCE] }),
    }),
  );
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: queueUrl,
      Attributes: {
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "events.amazonaws.com" },
              Action: "sqs:SendMessage",
              Resource: queueArn,
              Condition: { ArnEquals: { "aws:SourceArn": RuleArn } },
            },
          ],
        }),
      },
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: ruleName,
      EventBusName: busName,
      Targets: [{ Id: "queue", Arn: queueArn }],
    }),
  );
});

afterAll(async () => {
  await events.send(new RemoveTargetsCommand({ Rule: ruleName, EventBusName: busName, Ids: ["queue"] }));
  await events.send(new DeleteRuleCommand({ Name: ruleName, EventBusName: busName }));
  await events.send(new DeleteEventBusCommand({ Name: busName }));
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
});

describe(`EventBridgeEventBus against ${awsEmulator("events")}`, () => {
  it("puts the event on the bus, where a rule on our source delivers it", async () => {
    const event = failedBackup();
    await new EventBridgeEventBus({ client: events, busName }).publish(event);

    const res = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 10 }),
    );
    expect(res.Messages).toHaveLength(1);
    const delivered = JSON.parse(res.Messages![0]!.Body!);
    expect(delivered.source).toBe(EVENT_SOURCE);
    expect(delivered["detail-type"]).toBe("BackupFailed");
    expect(delivered.detail).toEqual(event.detail);
    // EventBridge keeps the time to the second.
    expect(delivered.time).toBe("2025-03-04T05:06:07Z");
  });

  it("rejects, naming the bus, when the bus does not exist", async () => {
    const missing = `${busName}-missing`;
    const putEvents = events.send(
      new PutEventsCommand({
        Entries: [{ Source: EVENT_SOURCE, DetailType: "BackupFailed", Detail: "{}", EventBusName: missing }],
      }),
    );
    // PutEvents alone: moto refuses the call; LocalStack accepts the entry as AWS does (200, an
    // EventId, no error, the event dropped), which is why the adapter asks DescribeEventBus first.
    if (awsEmulator("events") === "moto") {
      await expect(putEvents).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    } else {
      const answer = await putEvents;
      expect({ failed: answer.FailedEntryCount, error: answer.Entries?.[0]?.ErrorCode }).toEqual({
        failed: 0,
        error: undefined,
      });
      expect(answer.Entries?.[0]?.EventId).toBeTruthy();
    }
    const bus = new EventBridgeEventBus({ client: events, busName: missing });
    await expect(bus.publish(failedBackup())).rejects.toThrow(
      new RegExp(`BackupFailed to the EventBridge bus ${missing} failed: ResourceNotFoundException`),
    );
  });
});

describe("EventBridgeEventBus against a local PutEvents endpoint", () => {
  let server: Server;
  let client: EventBridgeClient;
  const requests: { target: string | undefined; body: { Entries: Record<string, unknown>[] } }[] = [];
  /** The buses DescribeEventBus was asked about, in order. */
  const described: string[] = [];
  let answer: Record<string, unknown> = {};

  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const target = req.headers["x-amz-target"] as string | undefined;
      const body = JSON.parse(await readBody(req));
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      if (target === "AWSEvents.DescribeEventBus") {
        described.push(body.Name);
        res.end(
          JSON.stringify({
            Name: body.Name,
            Arn: `arn:aws:events:us-east-1:123456789012:event-bus/${body.Name}`,
          }),
        );
        return;
      }
      requests.push({ target, body });
      res.end(JSON.stringify(answer));
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as AddressInfo;
    client = new EventBridgeClient({ ...awsClientConfig("events"), endpoint: `http://127.0.0.1:${port}` });
  });
  afterAll(async () => {
    client.destroy();
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  });

  it("sends one entry with our source, the type, the detail and the time", async () => {
    answer = { FailedEntryCount: 0, Entries: [{ EventId: "11111111-2222-3333-4444-555555555555" }] };
    const event = failedBackup();
    await new EventBridgeEventBus({ client, busName: "mbm-bus" }).publish(event);
    const request = requests.at(-1)!;
    expect(request.target).toBe("AWSEvents.PutEvents");
    expect(request.body).toEqual({
      Entries: [
        {
          Source: EVENT_SOURCE,
          DetailType: "BackupFailed",
          Detail: JSON.stringify(event.detail),
          Time: Date.parse("2025-03-04T05:06:07.890Z") / 1000,
          EventBusName: "mbm-bus",
        },
      ],
    });
  });

  it("asks DescribeEventBus once, before the first event, and not for the ones after it", async () => {
    answer = { FailedEntryCount: 0, Entries: [{ EventId: "1" }] };
    const bus = new EventBridgeEventBus({ client, busName: "mbm-bus-described" });
    const before = requests.length;
    await bus.publish(failedBackup());
    await bus.publish(failedBackup());
    expect(described.filter((name) => name === "mbm-bus-described")).toEqual(["mbm-bus-described"]);
    expect(requests.length - before).toBe(2);
  });

  it("rejects with the entry's error code and message when PutEvents answers FailedEntryCount", async () => {
    answer = { FailedEntryCount: 1, Entries: [{ ErrorCode: "InternalFailure", ErrorMessage: "x" }] };
    const bus = new EventBridgeEventBus({ client, busName: "mbm-bus" });
    await expect(bus.publish(failedBackup())).rejects.toThrow(
      "EventBridge refused BackupFailed to the EventBridge bus mbm-bus: InternalFailure: x",
    );
  });

  it("cuts a very long error so that the entry fits 256 KiB, and keeps every other field", async () => {
    answer = { FailedEntryCount: 0, Entries: [{ EventId: "1" }] };
    // Multi-byte characters and characters JSON escapes, so bytes, units and JSON length all differ.
    const long = `start ${'é"😀\n'.repeat(40_000)} end`;
    const event = failedBackup(long);
    await new EventBridgeEventBus({ client, busName: "mbm-bus" }).publish(event);

    const entry = requests.at(-1)!.body.Entries[0]!;
    const detail = entry.Detail as string;
    const size =
      14 + Buffer.byteLength(EVENT_SOURCE) + Buffer.byteLength("BackupFailed") + Buffer.byteLength(detail);
    expect(size).toBeLessThanOrEqual(ENTRY_MAX_BYTES);
    expect(size).toBeGreaterThan(ENTRY_MAX_BYTES - 64);
    const sent = JSON.parse(detail) as BackupEventDetail;
    expect(sent.error!.endsWith(TRUNCATED)).toBe(true);
    const kept = sent.error!.slice(0, -TRUNCATED.length);
    expect(long.startsWith(kept)).toBe(true);
    expect(kept).not.toMatch(/[\ud800-\udbff]$/); // no half of a surrogate pair
    expect({ ...sent, error: null }).toEqual({ ...event.detail, error: null });
  });

  it("sends a detail within the limit unchanged", async () => {
    answer = { FailedEntryCount: 0, Entries: [{ EventId: "1" }] };
    const event = failedBackup("x".repeat(200 * 1024));
    await new EventBridgeEventBus({ client, busName: "mbm-bus" }).publish(event);
    expect(requests.at(-1)!.body.Entries[0]!.Detail).toBe(JSON.stringify(event.detail));
  });
});
