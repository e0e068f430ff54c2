// The use cases' dependencies over an engine-harness world, from the composition root with the
// world's own stores: the real driver inspector, no runner or scheduler unless given, and alerts to
// a silent log (a webhook only when asked).
import { HttpWebhookSender } from "#adapters/http-webhook.ts";
import { LogEventBus } from "#adapters/log/log-event-bus.ts";
import type { Alerts, CoreDeps } from "#core/use-cases/deps.ts";
import { type ComposeOptions, composeCore } from "#functions/composition.ts";
import { parseEnv } from "#functions/config.ts";
import { createLogger } from "#functions/logger.ts";
import type { EngineWorld } from "./engine-harness.ts";

const quiet = createLogger("test", { level: "silent" });

/** Events to a silent log; with `webhook`, a real sender with short backoff (20 ms). */
export function quietAlerts(options: { webhook?: boolean } = {}): Alerts {
  return {
    bus: new LogEventBus(quiet),
    notifiers: [],
    webhook: options.webhook ? new HttpWebhookSender({ minTimeoutMs: 20 }) : null,
  };
}

/** composeCore for the world's configuration, on the world's store, secrets and blobs; `overrides` replace parts. */
export function coreDepsOf(
  world: EngineWorld,
  overrides: Partial<CoreDeps> = {},
  options: Pick<ComposeOptions, "inspectorTimeoutMs" | "mongoAllowlist"> = {},
): CoreDeps {
  return composeCore(parseEnv(world.env), {
    log: quiet,
    inspectorTimeoutMs: options.inspectorTimeoutMs ?? 1_000,
    ...(options.mongoAllowlist ? { mongoAllowlist: options.mongoAllowlist } : {}),
    overrides: {
      store: world.store,
      secrets: world.secrets,
      blobs: world.blobs,
      runner: null,
      scheduler: null,
      alerts: quietAlerts(),
      ...overrides,
    },
  });
}
