// EventBus on an EventBridge bus: each event is one PutEvents entry (source EVENT_SOURCE, detail-type
// the event's type, detail its fields), for rules written against README "Events and alerts".
// PutEvents answers HTTP 200 even for an entry it refused: that counts as a failure here.
// On AWS, PutEvents to a bus that does not exist also answers 200, with an EventId and no error, and
// the event is dropped (its API reference lists no not-found error for it; moto refuses the call with
// ResourceNotFoundException, LocalStack answers as AWS does). So before its first event the adapter
// asks DescribeEventBus, which does fail for a missing bus, and rejects instead of losing events.
// A bus found once is not asked about again (a bus deleted later is the operator's doing).
import {
  DescribeEventBusCommand,
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from "@aws-sdk/client-eventbridge";
import { type DomainEvent, EVENT_SOURCE } from "#core/events.ts";
import type { EventBus } from "#core/ports.ts";

export interface EventBridgeEventBusOptions {
  client: EventBridgeClient;
  /** Name or ARN of the bus. */
  busName: string;
}

/** PutEvents' limit on one entry: Source, DetailType, Detail and 14 bytes for Time, in UTF-8. */
export const ENTRY_MAX_BYTES = 256 * 1024;
const TIME_BYTES = 14;
export const TRUNCATED = " … [truncated]";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");
const describe = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

export class EventBridgeEventBus implements EventBus {
  readonly #o: EventBridgeEventBusOptions;
  /** Set once DescribeEventBus has found the bus; a failed check is asked again on the next event. */
  #busFound: Promise<void> | undefined;

  constructor(options: EventBridgeEventBusOptions) {
    this.#o = options;
  }

  async publish(event: DomainEvent): Promise<void> {
    const time = new Date(event.time);
    const entry: PutEventsRequestEntry = {
      Source: EVENT_SOURCE,
      DetailType: event.type,
      Detail: detailJson(event),
      // Without a valid time EventBridge uses the time of the call.
      ...(Number.isNaN(time.getTime()) ? {} : { Time: time }),
      EventBusName: this.#o.busName,
    };
    const what = `${event.type} to the EventBridge bus ${this.#o.busName}`;
    let failed: { ErrorCode?: string | undefined; ErrorMessage?: string | undefined } | undefined;
    try {
      await this.#busExists();
      const res = await this.#o.client.send(new PutEventsCommand({ Entries: [entry] }));
      if ((res.FailedEntryCount ?? 0) > 0 || res.Entries?.[0]?.ErrorCode) failed = res.Entries?.[0] ?? {};
    } catch (error) {
      throw new Error(`publishing ${what} failed: ${describe(error)}`, { cause: error });
    }
    if (failed) {
      throw new Error(
        `EventBridge refused ${what}: ${failed.ErrorCode ?? "no error code"}: ${failed.ErrorMessage ?? "no message"}`,
      );
    }
  }

  #busExists(): Promise<void> {
    this.#busFound ??= this.#o.client.send(new DescribeEventBusCommand({ Name: this.#o.busName })).then(
      () => undefined,
      (error: unknown) => {
        this.#busFound = undefined;
        throw error;
      },
    );
    return this.#busFound;
  }
}

/**
 * The event's detail as JSON, its `error` (the one field of unbounded length) cut so that the entry
 * fits PutEvents' limit. An event still too big without its error is sent anyway, for EventBridge
 * to refuse (publish then rejects).
 */
function detailJson(event: DomainEvent): string {
  const json = JSON.stringify(event.detail);
  const budget = ENTRY_MAX_BYTES - TIME_BYTES - bytes(EVENT_SOURCE) - bytes(event.type);
  const error = "error" in event.detail ? event.detail.error : null;
  if (bytes(json) <= budget || !error) return json;
  const withError = (n: number) =>
    JSON.stringify({ ...event.detail, error: `${cutUnits(error, n)}${TRUNCATED}` });
  // The longest start of the error that fits (the size grows with it: a binary search, log2 of its length rounds).
  let fits = 0;
  let tooLong = error.length;
  while (tooLong - fits > 1) {
    const mid = Math.floor((fits + tooLong) / 2);
    if (bytes(withError(mid)) <= budget) fits = mid;
    else tooLong = mid;
  }
  return withError(fits);
}

/** The first `n` UTF-16 units of `s`, without splitting a surrogate pair. */
function cutUnits(s: string, n: number): string {
  if (n <= 0) return "";
  const cut = s.slice(0, n);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
