// The use cases' dependencies over an engine-harness world: its store, secrets and blobs, the real
// driver inspector, no runner or scheduler, and alerts to a silent log (a webhook only when asked).
import { HttpWebhookSender } from "#adapters/http-webhook.ts";
import { LogEventBus } from "#adapters/log/log-event-bus.ts";
import { MongoDriverInspector } from "#adapters/mongo-driver-inspector.ts";
import { loopbackCidrs } from "#core/outbound-policy.ts";
import type { Alerts, CoreDeps } from "#core/use-cases/deps.ts";
import { createLogger } from "#functions/logger.ts";
import type { EngineWorld } from "./engine-harness.ts";

/** Events to a silent log; with `webhook`, a real sender with short backoff (20 ms). */
export function quietAlerts(options: { webhook?: boolean } = {}): Alerts {
  return {
    bus: new LogEventBus(createLogger("test", { level: "silent" })),
    notifiers: [],
    webhook: options.webhook ? new HttpWebhookSender({ minTimeoutMs: 20 }) : null,
  };
}

export function coreDepsOf(world: EngineWorld, overrides: Partial<CoreDeps> = {}): CoreDeps {
  return {
    store: world.store,
    secrets: world.secrets,
    blobs: world.blobs,
    // The test FerretDB runs on loopback: admitted explicitly, as local mode does (never by default).
    inspector: new MongoDriverInspector({ timeoutMs: 1_000, allowlist: loopbackCidrs }),
    runner: null,
    scheduler: null,
    alerts: quietAlerts(),
    ...overrides,
  };
}
