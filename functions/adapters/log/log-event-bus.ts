// EventBus for local mode (and any deployment without a bus): each event is one structured log line,
// at warn for failures and staleness, info otherwise, so `npm start`'s output shows what happened.
import type { DomainEvent } from "#core/events.ts";
import { needsNotification } from "#core/events.ts";
import type { EventBus } from "#core/ports.ts";
import type { Logger } from "#functions/logger.ts";

export class LogEventBus implements EventBus {
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  async publish(event: DomainEvent): Promise<void> {
    // `event_time`: pino already writes `time` (when the line was logged).
    const line = { event: event.type, event_time: event.time, detail: event.detail };
    if (needsNotification(event)) this.#log.warn(line, `event ${event.type}`);
    else this.#log.info(line, `event ${event.type}`);
  }
}
