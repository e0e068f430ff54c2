// Settings: one document of defaults. Until first saved, the built-in defaults apply.
import { defaultSettings, type Settings } from "../entities.ts";
import { ValidationError } from "../errors.ts";
import { nowIso } from "../ids.ts";
import type { UpdateSettingsInput } from "../inputs.ts";
import { OutboundRefusedError } from "../outbound-policy.ts";
import { type Actor, audited, type CoreDeps, definedOnly } from "./deps.ts";
import { checkDrillTarget } from "./drill-targets.ts";

export async function currentSettings(deps: Pick<CoreDeps, "store">): Promise<Settings> {
  return (await deps.store.settings.get()) ?? { ...defaultSettings, updated_at: new Date(0).toISOString() };
}

/**
 * The settings as `actor` may see them. A webhook URL carries its secret in the path (Slack,
 * Teams, ...): operators, who set it, see it whole; viewers see only where it goes.
 */
export async function settingsFor(deps: Pick<CoreDeps, "store">, actor: Actor): Promise<Settings> {
  const settings = await currentSettings(deps);
  if (actor.role === "operator" || !settings.webhook_url) return settings;
  return { ...settings, webhook_url: `${new URL(settings.webhook_url).origin}/…` };
}

/** Merges the given fields into the current settings. */
export async function updateSettings(
  deps: CoreDeps,
  actor: Actor,
  input: UpdateSettingsInput,
): Promise<Settings> {
  return await audited(
    deps,
    actor,
    { action: "settings.update", target_type: "settings", details: { fields: Object.keys(input) } },
    async () => {
      const current = await currentSettings(deps);
      const next: Settings = {
        retention_days: input.retention_days ?? current.retention_days,
        keep_last: input.keep_last ?? current.keep_last,
        concurrency: { ...current.concurrency, ...definedOnly(input.concurrency ?? {}) },
        heartbeat_timeout_minutes: input.heartbeat_timeout_minutes ?? current.heartbeat_timeout_minutes,
        webhook_url: input.webhook_url === undefined ? current.webhook_url : input.webhook_url,
        outbound_allowlist: input.outbound_allowlist ?? current.outbound_allowlist,
        drills: { ...current.drills, ...definedOnly(input.drills ?? {}) },
        updated_at: nowIso(),
      };
      // A webhook URL or allowlist change is checked against the outbound policy now, so a refused
      // target is a 422 here rather than a failed delivery later. Deliveries check again: DNS moves.
      if (next.webhook_url && (input.webhook_url || input.outbound_allowlist)) {
        await refuseWebhook(
          deps,
          next.webhook_url,
          next.outbound_allowlist,
          input.webhook_url ? "webhook_url" : "outbound_allowlist",
        );
      }
      if (input.drills?.target) await checkDrillTarget(deps, input.drills.target, "drills.target");
      return await deps.store.settings.put(next);
    },
  );
}

/**
 * ValidationError on `field` when the policy refuses the URL's host. A host that does not resolve
 * is not refused: it may exist later (or only inside the VPC), and every delivery checks again.
 */
async function refuseWebhook(
  deps: CoreDeps,
  url: string,
  allowlist: readonly string[],
  field: "webhook_url" | "outbound_allowlist",
): Promise<void> {
  const sender = deps.alerts.webhook;
  if (!sender) return;
  try {
    await sender.check(url, { allowlist });
  } catch (error) {
    const refusal =
      error instanceof Error && error.cause instanceof OutboundRefusedError ? error.cause : undefined;
    if (refusal) throw new ValidationError(field, `refused: ${refusal.message}`);
  }
}
