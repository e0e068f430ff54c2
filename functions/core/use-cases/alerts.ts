// Announcing what happened: every event to the bus; failures and stale schedules also to people (the
// notifiers, and the settings' webhook with a Slack-compatible `text`).
//
// Whoever moves a job to its end announces it (the task for its own outcome, the task-state handler
// or the reaper for a task that died, the dispatcher for a task that could not start), so each
// outcome is announced once. A delivery that fails is never silent: it is written to the audit log
// (actor "system", target_type "alert_channel") and health reports the channel as failing until a
// later delivery on it succeeds. Announcing never throws: an alert must not break the job it reports.
import type { AuditEntry } from "../entities.ts";
import { ConflictError, errorMessage } from "../errors.ts";
import { type DomainEvent, needsNotification, notificationText } from "../events.ts";
import { newId, nowIso } from "../ids.ts";
import { WebhookDeliveryError } from "../ports.ts";
import type { HealthCheck } from "../views.ts";
import { type Actor, audited, type CoreDeps } from "./deps.ts";
import { currentSettings } from "./settings.ts";

type AlertDeps = Pick<CoreDeps, "store" | "alerts">;

const ALERT_CHANNEL = "alert_channel";
export const SYSTEM_ACTOR = "system";

/** The JSON a webhook receives: Slack reads `text`; automation reads the rest. */
function webhookBody(event: DomainEvent): Record<string, unknown> {
  const { subject, text } = notificationText(event);
  return { text: `*${subject}*\n${text}`, event: event.type, time: event.time, detail: event.detail };
}

export async function announce(deps: AlertDeps, event: DomainEvent | undefined): Promise<void> {
  if (!event) return;
  const work: Array<Promise<unknown>> = [
    deliver(deps, "event_bus", event.type, async () => {
      await deps.alerts.bus.publish(event);
    }),
  ];
  if (needsNotification(event)) {
    const { subject, text } = notificationText(event);
    for (const notifier of deps.alerts.notifiers) {
      work.push(deliver(deps, notifier.channel, event.type, () => notifier.notify(subject, text, event)));
    }
    const webhook = deps.alerts.webhook;
    if (webhook) {
      work.push(
        (async () => {
          const settings = await currentSettings(deps).catch(() => undefined);
          const url = settings?.webhook_url;
          const allowlist = settings?.outbound_allowlist;
          if (url)
            await deliver(deps, "webhook", event.type, () =>
              webhook.post(url, webhookBody(event), { allowlist }),
            );
        })(),
      );
    }
  }
  await Promise.all(work);
}

/** Sends a test notification to the configured webhook, recorded like any delivery. */
export async function deliverTestWebhook(
  deps: AlertDeps,
  url: string,
  allowlist: readonly string[],
): Promise<{ delivered: boolean; attempts: number; error: string | null }> {
  if (!deps.alerts.webhook)
    return { delivered: false, attempts: 0, error: "this deployment has no webhook sender" };
  const body = {
    text: "*[mongo-backup-manager] test notification*\nThe webhook is reachable: failures and stale schedules will be posted here.",
    event: "Test",
    time: nowIso(),
    detail: {},
  };
  const outcome = await deliver(deps, "webhook", "Test", () =>
    deps.alerts.webhook!.post(url, body, { allowlist }),
  );
  return outcome;
}

async function deliver(
  deps: AlertDeps,
  channel: string,
  eventType: string,
  send: () => Promise<unknown>,
): Promise<{ delivered: boolean; attempts: number; error: string | null }> {
  let attempts = 1;
  try {
    const result = await send();
    if (result && typeof result === "object" && "attempts" in result && typeof result.attempts === "number") {
      attempts = result.attempts;
    }
  } catch (error) {
    attempts = error instanceof WebhookDeliveryError ? error.attempts : 1;
    const message = errorMessage(error);
    await record(deps, channel, "failure", { event: eventType, attempts, error: message });
    return { delivered: false, attempts, error: message };
  }
  // A success is recorded only when it ends a run of failures (health then clears).
  const last = await lastDelivery(deps, channel).catch(() => undefined);
  if (last?.outcome === "failure") await record(deps, channel, "success", { event: eventType, attempts });
  return { delivered: true, attempts, error: null };
}

async function record(
  deps: AlertDeps,
  channel: string,
  outcome: AuditEntry["outcome"],
  details: Record<string, unknown>,
): Promise<void> {
  await deps.store.audit
    .create({
      id: newId(),
      at: nowIso(),
      actor: SYSTEM_ACTOR,
      action: "alert.deliver",
      target_type: ALERT_CHANNEL,
      target_id: channel,
      outcome,
      details,
    })
    .catch(() => undefined); // nowhere else to write it; the task's or function's log has the error
}

async function lastDelivery(deps: Pick<CoreDeps, "store">, channel: string): Promise<AuditEntry | undefined> {
  const page = await deps.store.audit.list({ target_type: ALERT_CHANNEL, target_id: channel }, { limit: 1 });
  return page.items[0];
}

/** One health check per alert channel in use: failing while its latest recorded delivery failed. */
export async function alertChannelChecks(deps: AlertDeps): Promise<Record<string, HealthCheck>> {
  const channels = ["event_bus", ...deps.alerts.notifiers.map((n) => n.channel)];
  if (deps.alerts.webhook && (await currentSettings(deps)).webhook_url) channels.push("webhook");
  const checks: Record<string, HealthCheck> = {};
  await Promise.all(
    channels.map(async (channel) => {
      const last = await lastDelivery(deps, channel);
      checks[`alerts_${channel}`] =
        last?.outcome === "failure"
          ? {
              ok: false,
              detail: `the last delivery failed at ${last.at} (${String(last.details?.event)}, ${String(
                last.details?.attempts,
              )} attempts): ${String(last.details?.error)}`,
            }
          : { ok: true, detail: last ? `delivering again since ${last.at}` : "no failed delivery recorded" };
    }),
  );
  return checks;
}

/** Posts a test notification to the configured webhook; the outcome is recorded like any delivery. */
export async function testWebhook(deps: CoreDeps, actor: Actor) {
  const { webhook_url: url, outbound_allowlist: allowlist } = await currentSettings(deps);
  if (!url) throw new ConflictError("no webhook_url is set: set one in the settings first");
  return await audited(deps, actor, { action: "settings.webhook_test", target_type: "settings" }, () =>
    deliverTestWebhook(deps, url, allowlist),
  );
}
