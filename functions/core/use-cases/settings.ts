// Settings: one document of defaults. Until first saved, the built-in defaults apply.
import { defaultSettings, type Settings } from "../entities.ts";
import { nowIso } from "../ids.ts";
import type { UpdateSettingsInput } from "../inputs.ts";
import { type Actor, audited, type CoreDeps, definedOnly } from "./deps.ts";

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
        updated_at: nowIso(),
      };
      return await deps.store.settings.put(next);
    },
  );
}
