// Databases: what sync found on each server, which of them fan-out backups include, and (operators)
// "Restore latest" of each.
import { useState } from "preact/hooks";
import { EmptyState, ErrorBanner, Field, Loading, Pager, StatusBadge } from "../../components/ui.tsx";
import type { Reply } from "../../lib/api.ts";
import { useApp, useCanChange } from "../../lib/context.ts";
import { formatBytes, formatTime, relativeTime } from "../../lib/format.ts";
import { useAction, useLoad } from "../../lib/hooks.ts";
import type { JobStatus, ManagedDatabase, Server } from "../../lib/types.ts";
import { useCursorTrail } from "./data.ts";
import { RestoreLatestDialog } from "./restore-latest-dialog.tsx";

const PAGE_SIZE = 25;

type SyncResult = Reply<"POST", "/api/databases/sync">["results"][number];

interface LastBackup {
  status: JobStatus;
  at: string | null;
}

interface Props {
  /** Undefined while the servers are loading (names show as "…", not as deleted). */
  servers: Server[] | undefined;
  /** Changes when the servers changed (a deleted server takes its databases along). */
  refreshKey: number;
}

export function DatabasesSection({ servers, refreshKey }: Props) {
  const { api, notify } = useApp();
  const canChange = useCanChange();
  const [chosenServerId, setServerId] = useState("");
  // A deleted server drops out of the filter.
  const serverId = (servers ?? []).some((s) => s.id === chosenServerId) ? chosenServerId : "";
  const [syncResults, setSyncResults] = useState<SyncResult[] | null>(null);
  const [toggling, setToggling] = useState<string | null>(null);
  const [syncCount, setSyncCount] = useState(0);
  const [restoring, setRestoring] = useState<ManagedDatabase | null>(null);
  const paging = useCursorTrail(`${serverId}/${refreshKey}/${syncCount}`);
  const names = new Map((servers ?? []).map((s) => [s.id, s.name]));
  const serverName = (id: string) => (servers ? (names.get(id) ?? "a deleted server") : "…");

  const databases = useLoad(
    () =>
      api.get("/api/databases", {
        query: { limit: PAGE_SIZE, cursor: paging.cursor, server_id: serverId || undefined },
      }),
    [paging.cursor, serverId, refreshKey, syncCount],
  );

  // Written by whoever records a backup's end (core/use-cases/last-backup.ts).
  const lastBackupOf = (db: ManagedDatabase): LastBackup | null =>
    db.last_backup ? { status: db.last_backup.status, at: db.last_backup.finished_at } : null;

  const sync = useAction(async () => {
    setSyncResults(null);
    const reply = await api.post("/api/databases/sync", { body: serverId ? { server_id: serverId } : {} });
    setSyncResults(reply.results);
    setSyncCount((n) => n + 1);
  });

  const toggle = useAction(async (db: ManagedDatabase, enabled: boolean) => {
    setToggling(db.id);
    try {
      await api.patch("/api/databases/{id}", { params: { id: db.id }, body: { enabled } });
      notify(`${db.name} on ${serverName(db.server_id)} is ${enabled ? "backed up" : "no longer backed up"}`);
      await databases.reload();
    } finally {
      setToggling(null);
    }
  });

  const page = databases.data;
  return (
    <section aria-labelledby="databases-title" class="settings-section">
      <div class="section-header">
        <h2 id="databases-title">Databases</h2>
      </div>
      <p class="muted">
        Sync reads the database list of each server. New databases are added and backed up by fan-out backups
        (everything, or a whole server) unless switched off here.
      </p>
      <div class="filters">
        <Field label="Server">
          {(f) => (
            <select {...f} value={serverId} onChange={(e) => setServerId(e.currentTarget.value)}>
              <option value="">All servers</option>
              {(servers ?? []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        {canChange && (
          <button type="button" onClick={() => void sync.run()} disabled={sync.busy || !servers?.length}>
            {sync.busy ? "Syncing…" : "Sync databases"}
          </button>
        )}
      </div>
      <ErrorBanner error={sync.error} onDismiss={sync.clearError} />
      {syncResults && <SyncReport results={syncResults} serverName={serverName} />}
      <ErrorBanner error={toggle.error} onDismiss={toggle.clearError} />
      <ErrorBanner error={databases.error} />
      {!page ? (
        !databases.error && <Loading what="databases" />
      ) : page.items.length === 0 && !paging.hasPrevious ? (
        <EmptyState title="No databases yet">
          {serverId ? "This server has no managed databases. " : ""}
          Add a server, then sync{canChange ? " with “Sync databases”" : " (an operator can)"}.
        </EmptyState>
      ) : (
        <>
          <div class="table-wrap">
            <table class="databases-table">
              <thead>
                <tr>
                  <th scope="col">Server</th>
                  <th scope="col">Database</th>
                  <th scope="col" class="num">
                    Size
                  </th>
                  <th scope="col">Last backup</th>
                  <th scope="col">Backed up</th>
                  {canChange && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {page.items.map((db) => {
                  const label = `Back up ${db.name} on ${serverName(db.server_id)}`;
                  return (
                    <tr key={db.id}>
                      <td>{serverName(db.server_id)}</td>
                      <th scope="row">
                        {db.name}
                        {db.vanished_at && (
                          <div class="vanished" title={formatTime(db.vanished_at)}>
                            <span aria-hidden="true">⚠ </span>
                            Not found on the server since {formatTime(db.vanished_at)}
                          </div>
                        )}
                      </th>
                      <td class="num">{formatBytes(db.size_on_disk)}</td>
                      <td>
                        <LastBackupCell last={lastBackupOf(db)} />
                      </td>
                      <td>
                        {canChange ? (
                          <label class="switch">
                            <input
                              type="checkbox"
                              role="switch"
                              aria-checked={db.enabled}
                              aria-label={label}
                              checked={db.enabled}
                              disabled={toggling === db.id}
                              onChange={(e) => void toggle.run(db, e.currentTarget.checked)}
                            />
                            <span aria-hidden="true">{db.enabled ? "on" : "off"}</span>
                          </label>
                        ) : db.enabled ? (
                          "yes"
                        ) : (
                          "no"
                        )}
                      </td>
                      {canChange && (
                        <td>
                          <button
                            type="button"
                            class="small"
                            aria-label={`Restore latest ${db.name} on ${serverName(db.server_id)}`}
                            disabled={!servers}
                            onClick={() => setRestoring(db)}
                          >
                            Restore latest
                          </button>
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <Pager
            hasPrevious={paging.hasPrevious}
            hasNext={Boolean(page.next_cursor)}
            onPrevious={paging.previous}
            onNext={() => paging.next(page.next_cursor)}
          />
        </>
      )}
      {restoring && servers && (
        <RestoreLatestDialog database={restoring} servers={servers} onClose={() => setRestoring(null)} />
      )}
    </section>
  );
}

function SyncReport({ results, serverName }: { results: SyncResult[]; serverName: (id: string) => string }) {
  const list = (names: string[]) => (names.length ? names.join(", ") : "none");
  const allOk = results.every((r) => r.ok);
  return (
    <div class={`banner ${allOk ? "banner-ok" : "banner-error"}`} role="status">
      <p>{results.length === 0 ? "No servers to sync." : "Sync finished:"}</p>
      <ul>
        {results.map((r) => (
          <li key={r.server_id}>
            <strong>{serverName(r.server_id)}</strong>:{" "}
            {r.ok
              ? `added ${list(r.added)}; vanished ${list(r.vanished)}; returned ${list(r.returned)}`
              : `could not be synced: ${r.error ?? "unknown error"}`}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** null: no backup of this database has ended yet. */
function LastBackupCell({ last }: { last: LastBackup | null }) {
  if (last === null) return <span class="muted">never</span>;
  return (
    <>
      <StatusBadge status={last.status} />{" "}
      {last.at && (
        <time dateTime={last.at} title={formatTime(last.at)}>
          {relativeTime(last.at)}
        </time>
      )}
    </>
  );
}
