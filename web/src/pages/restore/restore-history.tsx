// Restore history, newest first. Polls every 2 s while a listed restore is queued or running, so
// its status and the bytes fed to mongorestore move on screen.
import { useEffect, useState } from "preact/hooks";
import { EmptyState, ErrorBanner, Loading, Pager, StatusBadge } from "../../components/ui.tsx";
import { useApp, useCanChange } from "../../lib/context.ts";
import { formatBytes, formatDuration, formatTime, relativeTime } from "../../lib/format.ts";
import { useLoad } from "../../lib/hooks.ts";
import type { Restore } from "../../lib/types.ts";
import { isActive } from "./names.ts";

const PAGE_SIZE = 25;

interface Props {
  serverName: (id: string) => string;
  /** Changes when a restore was started here, to show it at once. */
  refreshKey: number;
}

export function RestoreHistory({ serverName, refreshKey }: Props) {
  const { api } = useApp();
  const canChange = useCanChange();
  // The cursors of the pages before this one, to go back ("Newer").
  const [trail, setTrail] = useState<(string | undefined)[]>([]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  // A new restore is the newest: go back to the first page to show it.
  useEffect(() => {
    setTrail([]);
    setCursor(undefined);
  }, [refreshKey]);

  const restores = useLoad(
    () => api.get("/api/restore", { query: { limit: PAGE_SIZE, cursor } }),
    [cursor, refreshKey],
    { ms: 2000, while: (page) => page.items.some(isActive) },
  );

  const page = restores.data;
  return (
    <section aria-labelledby="restore-history-title">
      <h2 id="restore-history-title">History</h2>
      <ErrorBanner error={restores.error} />
      {!page ? (
        !restores.error && <Loading what="restores" />
      ) : page.items.length === 0 && trail.length === 0 ? (
        <EmptyState title="No restores yet">
          {canChange
            ? "Choose a completed backup under “New restore” above and press “Start restore”; it shows here with its progress."
            : "An operator can start one on this page; restores then show here with their progress."}
        </EmptyState>
      ) : (
        <>
          <div class="table-wrap">
            <table class="restore-table">
              <thead>
                <tr>
                  <th scope="col">Status</th>
                  <th scope="col">From</th>
                  <th scope="col">To</th>
                  <th scope="col">Collections</th>
                  <th scope="col">Drop</th>
                  <th scope="col">Created</th>
                  <th scope="col" class="num">
                    Duration
                  </th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((r) => (
                  <RestoreRow key={r.id} restore={r} serverName={serverName} />
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            hasPrevious={trail.length > 0}
            hasNext={Boolean(page.next_cursor)}
            onPrevious={() => {
              setCursor(trail[trail.length - 1]);
              setTrail(trail.slice(0, -1));
            }}
            onNext={() => {
              if (!page.next_cursor) return;
              setTrail([...trail, cursor]);
              setCursor(page.next_cursor);
            }}
          />
        </>
      )}
    </section>
  );
}

function RestoreRow({ restore: r, serverName }: { restore: Restore; serverName: (id: string) => string }) {
  const running = r.status === "running";
  const elapsed = running && r.started_at ? Date.now() - Date.parse(r.started_at) : null;
  return (
    <tr data-restore-id={r.id} data-status={r.status}>
      <td>
        <StatusBadge status={r.status} />
      </td>
      <td>
        <DbAt database={r.source_database} server={serverName(r.source_server_id)} />
      </td>
      <td>
        <DbAt arrow database={r.target_database} server={serverName(r.target_server_id)} />
      </td>
      <td>{r.collections ? r.collections.join(", ") : <span class="muted">all</span>}</td>
      <td>{r.drop ? "yes" : "no"}</td>
      <td>
        <time dateTime={r.created_at} title={formatTime(r.created_at)}>
          {relativeTime(r.created_at)}
        </time>
        <div class="muted small-text">by {r.created_by}</div>
      </td>
      <td class="num">
        {elapsed !== null ? `${formatDuration(elapsed)} so far` : formatDuration(r.duration_ms)}
      </td>
      <td class="restore-details">
        {isRunningOrQueued(r) && r.progress && r.progress.bytes > 0 && (
          <span>{formatBytes(r.progress.bytes)} of the archive read so far</span>
        )}
        {r.status === "queued" && !(r.progress && r.progress.bytes > 0) && (
          <span class="muted">waiting to start</span>
        )}
        {r.status === "failed" && <span class="error-text">{r.error ?? "failed (no reason recorded)"}</span>}
        {r.status === "completed" && r.progress && (
          <span class="muted">{formatBytes(r.progress.bytes)} of archive read</span>
        )}
        {r.status === "cancelled" && r.error && <span class="muted">{r.error}</span>}
      </td>
    </tr>
  );
}

function isRunningOrQueued(r: Restore) {
  return isActive(r);
}

function DbAt({ database, server, arrow }: { database: string; server: string; arrow?: boolean }) {
  return (
    <span class="db-at">
      {arrow && <span aria-hidden="true">→ </span>}
      <strong>{database}</strong> <span class="muted">@ {server}</span>
    </span>
  );
}
