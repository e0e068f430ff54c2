// /restore: start a restore (operators) and follow the history (everyone).
import "./restore.css";
import { useState } from "preact/hooks";
import { ErrorBanner, PageHeader } from "../components/ui.tsx";
import { useApp, useCanChange } from "../lib/context.ts";
import { useLoad } from "../lib/hooks.ts";
import { allServers } from "../lib/list-all.ts";
import { RestoreForm } from "./restore/restore-form.tsx";
import { RestoreHistory } from "./restore/restore-history.tsx";

export function RestorePage() {
  const { api } = useApp();
  const canChange = useCanChange();
  const servers = useLoad(() => allServers(api), []);
  const [refreshKey, setRefreshKey] = useState(0);

  const names = new Map((servers.data ?? []).map((s) => [s.id, s.name]));
  // Backups outlive their server (it may have been deleted): say so rather than show an id.
  const serverName = (id: string) => names.get(id) ?? (servers.data ? "a deleted server" : "…");

  return (
    <section class="restore-page">
      <PageHeader title="Restore" />
      <p class="muted intro">
        Restore a completed backup to its own server or another one, under a new name or over an existing
        database.
      </p>
      <ErrorBanner error={servers.error} />
      {canChange && servers.data && (
        <div class="panel restore-panel">
          <RestoreForm
            servers={servers.data}
            serverName={serverName}
            onStarted={() => setRefreshKey((k) => k + 1)}
          />
        </div>
      )}
      <RestoreHistory serverName={serverName} refreshKey={refreshKey} />
    </section>
  );
}
