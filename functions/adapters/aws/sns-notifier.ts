// Notifier on an SNS topic: one Publish per notification, with the event's type as the message
// attribute `event_type`, so a subscription's filter policy can pick the events it wants.
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { DomainEvent } from "#core/events.ts";
import type { Notifier } from "#core/ports.ts";

export interface SnsNotifierOptions {
  client: SNSClient;
  topicArn: string;
}

/** SNS: a subject is at most 100 printable ASCII characters, with no line break. */
const SUBJECT_MAX = 100;
/** SNS: the message and its attributes (names, types, values) are at most 256 KiB in UTF-8. */
export const PUBLISH_MAX_BYTES = 256 * 1024;
export const TRUNCATED = " … [truncated]";
const EVENT_TYPE_ATTRIBUTE = "event_type";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");
const describe = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

export class SnsNotifier implements Notifier {
  readonly channel = "sns";
  readonly #o: SnsNotifierOptions;

  constructor(options: SnsNotifierOptions) {
    this.#o = options;
  }

  async notify(subject: string, text: string, event: DomainEvent): Promise<void> {
    // The caller's subject already fits; this keeps a Publish from being refused if it does not.
    const safeSubject = subject
      .replace(/\s/g, " ")
      .replace(/[^\x20-\x7e]/g, "?")
      .trim()
      .slice(0, SUBJECT_MAX)
      .trim();
    const budget = PUBLISH_MAX_BYTES - bytes(EVENT_TYPE_ATTRIBUTE) - bytes("String") - bytes(event.type);
    try {
      await this.#o.client.send(
        new PublishCommand({
          TopicArn: this.#o.topicArn,
          // An empty subject is refused; without one, SNS uses its default (emails).
          ...(safeSubject ? { Subject: safeSubject } : {}),
          Message: bytes(text) <= budget ? text : `${cutBytes(text, budget - bytes(TRUNCATED))}${TRUNCATED}`,
          MessageAttributes: { [EVENT_TYPE_ATTRIBUTE]: { DataType: "String", StringValue: event.type } },
        }),
      );
    } catch (error) {
      throw new Error(`SNS Publish of ${event.type} to ${this.#o.topicArn} failed: ${describe(error)}`, {
        cause: error,
      });
    }
  }
}

/** The longest start of `s` of at most `max` bytes in UTF-8, cut between two characters. */
function cutBytes(s: string, max: number): string {
  const utf8 = Buffer.from(s, "utf8");
  let end = Math.max(0, max);
  // Back to the first byte of the character the cut falls in (continuation bytes are 10xxxxxx).
  while (end > 0 && end < utf8.length && (utf8[end]! & 0xc0) === 0x80) end--;
  return utf8.subarray(0, end).toString("utf8");
}
