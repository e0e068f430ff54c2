// /settings: servers, managed databases, defaults, restore drills and the webhook. Viewers see them read-only.
import "./settings.css";
import { useState } from "preact/hooks";
import { ErrorBanner, Loading, PageHeader } from "../components/ui.tsx";
import { useApp } from "../lib/context.ts";
import { useLoad } from "../lib/hooks.ts";
import { allServers } from "../lib/list-all.ts";
import type { Settings } from "../lib/types.ts";
import { DatabasesSection } from "./settings/databases-section.tsx";
import { DefaultsSection } from "./settings/defaults-section.tsx";
import { DrillsSection } from "./settings/drills-section.tsx";
import { ServersSection } from "./settings/servers-section.tsx";
import { WebhookSection } from "./settings/webhook-section.tsx";

export function SettingsPage() {
  const { api } = useApp();
  const servers = useLoad(() => allServers(api), []);
  const loadedSettings = useLoad(() => api.get("/api/settings"), []);
  // The reply of the last save is the newest settings: no need to load them again.
  const [savedSettings, setSavedSettings] = useState<Settings | null>(null);
  const settings = savedSettings ?? loadedSettings.data;
  const [databasesKey, setDatabasesKey] = useState(0);

  return (
    <section class="settings-page">
      <PageHeader title="Settings" />
      <ServersSection
        servers={servers.data}
        error={servers.error}
        onChanged={(what) => {
          void servers.reload();
          // Renames and deletions show in the databases list too.
          if (what !== "tested") setDatabasesKey((k) => k + 1);
        }}
      />
      <DatabasesSection servers={servers.data} refreshKey={databasesKey} />
      {loadedSettings.error && !settings && <ErrorBanner error={loadedSettings.error} />}
      {!settings ? (
        !loadedSettings.error && <Loading what="settings" />
      ) : (
        <>
          <DefaultsSection settings={settings} onSaved={setSavedSettings} />
          <DrillsSection settings={settings} servers={servers.data} onSaved={setSavedSettings} />
          <WebhookSection settings={settings} onSaved={setSavedSettings} />
        </>
      )}
    </section>
  );
}
