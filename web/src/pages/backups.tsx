// Backups: filter, page, start, import, annotate, download, restore from, cancel and delete; each
// completed backup's drill badge, and a link to its detail page (the drill's proof, Verify now). While any
// listed backup is queued or running the list refreshes every 2 s, so status and bytes move live.

import { useMemo, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { isActive as isActiveStatus } from "../../../functions/core/state-machine.ts";
import { DrillBadge, drillStateOf, ImportedTag } from "../components/drills.tsx";
import {
  ConfirmDialog,
  EmptyState,
  ErrorBanner,
  Loading,
  PageHeader,
  Pager,
  StatusBadge,
} from "../components/ui.tsx";
import type { Api } from "../lib/api.ts";
import { useApp, useCanChange } from "../lib/context.ts";
import { formatBytes, formatDuration, formatTime, relativeTime } from "../lib/format.ts";
import { useAction, useLoad } from "../lib/hooks.ts";
import { allDatabasesOf, allServers } from "../lib/list-all.ts";
import type { Backup, Drill, JobStatus } from "../lib/types.ts";
import { AnnotateDialog } from "./backups/annotate-dialog.tsx";
import { ImportDialog } from "./backups/import-dialog.tsx";
import { TriggerDialog } from "./backups/trigger-dialog.tsx";

const STATUSES: JobStatus[] = ["queued", "running", "completed", "failed", "cancelled"];
const PAGE_SIZE = 20;
const isActive = (b: Backup) => isActiveStatus(b.status);

/**
 * The queued and running drills by backup (two indexed queries), so a row can say "running". The
 * newest 100 of each: more drills waiting than that is a queue no badge needs to be exact about.
 */
async function activeDrills(api: Api): Promise<Map<string, Drill>> {
  const pages = await Promise.all(
    (["queued", "running"] as const).map((status) =>
      api.get("/api/drills", { query: { status, limit: 100 } }),
    ),
  );
  return new Map(pages.flatMap((p) => p.items).map((d) => [d.backup_id, d]));
}

type Filters = { status: string; server_id: string; database: string };
type Pending =
  | { kind: "trigger" }
  | { kind: "import" }
  | { kind: "annotate"; backup: Backup }
  | { kind: "delete"; backup: Backup }
  | { kind: "cancel"; backup: Backup };

export function BackupsPage() {
  const { api } = useApp();
  const canChange = useCanChange();
  const { query } = useLocation();
  const [filters, setFilters] = useState<Filters>({
    status: query.status ?? "",
    server_id: query.server_id ?? "",
    database: query.database ?? "",
  });
  // Cursor paging: `cursors[i]` opens page i; going back pops the trail.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors.at(-1);
  const [pending, setPending] = useState<Pending | null>(null);
  const [flash, setFlash] = useState<string | null>(null);

  const servers = useLoad(() => allServers(api), []);
  const databases = useLoad(() => allDatabasesOf(api, filters.server_id), [filters.server_id]);
  const backups = useLoad(
    async () => {
      const [page, drills] = await Promise.all([
        api.get("/api/backups", {
          query: {
            limit: PAGE_SIZE,
            cursor,
            // From the address bar or the select; the API refuses a status it does not know.
            status: filters.status as JobStatus | "",
            server_id: filters.server_id,
            database: filters.server_id ? filters.database : "",
          },
        }),
        activeDrills(api),
      ]);
      return { ...page, activeDrills: drills };
    },
    [cursor, filters.status, filters.server_id, filters.database],
    {
      ms: 2000,
      while: (page) => page.items.some((b) => isActive(b) || page.activeDrills.has(b.id)),
    },
  );
  const serverName = useMemo(() => new Map((servers.data ?? []).map((s) => [s.id, s.name])), [servers.data]);

  const setFilter = (key: keyof Filters, value: string) => {
    setFilters((f) => ({ ...f, [key]: value, ...(key === "server_id" ? { database: "" } : {}) }));
    setCursors([undefined]);
  };

  const remove = useAction(async (backup: Backup) => {
    await api.delete("/api/backups/{id}", { params: { id: backup.id } });
    setFlash(`Deleted the backup of ${backup.database} from ${formatTime(backup.created_at)}.`);
    await backups.reload();
  });
  const cancel = useAction(async (backup: Backup) => {
    await api.post("/api/backups/{id}/cancel", { params: { id: backup.id } });
    setFlash(`Cancelled the backup of ${backup.database}.`);
    await backups.reload();
  });
  const download = useAction(async (backup: Backup) => {
    const link = await api.get("/api/backups/{id}/download", { params: { id: backup.id } });
    // A short-lived signed link (S3 on AWS, this server locally): the browser downloads it directly.
    window.location.assign(link.url);
  });

  const items = backups.data?.items ?? [];
  const filtered = Boolean(filters.status || filters.server_id);
  return (
    <section>
      <PageHeader title="Backups">
        {canChange && (
          <>
            <button type="button" onClick={() => setPending({ kind: "import" })} disabled={!servers.data}>
              Import a dump
            </button>
            <button type="button" class="primary" onClick={() => setPending({ kind: "trigger" })}>
              Back up now
            </button>
          </>
        )}
      </PageHeader>
      {flash && (
        <p class="banner banner-ok" role="status">
          {flash}
        </p>
      )}
      <ErrorBanner error={download.error} onDismiss={download.clearError} />
      <ErrorBanner error={servers.error} />
      <ErrorBanner error={databases.error} />
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <div class="field">
          <label for="filter-status">Status</label>
          <select
            id="filter-status"
            value={filters.status}
            onChange={(e) => setFilter("status", e.currentTarget.value)}
          >
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-server">Server</label>
          <select
            id="filter-server"
            value={filters.server_id}
            onChange={(e) => setFilter("server_id", e.currentTarget.value)}
          >
            <option value="">Any server</option>
            {(servers.data ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-database">Database</label>
          <select
            id="filter-database"
            value={filters.database}
            disabled={!filters.server_id}
            title={filters.server_id ? undefined : "Choose a server first"}
            onChange={(e) => setFilter("database", e.currentTarget.value)}
          >
            <option value="">Any database</option>
            {(databases.data ?? []).map((d) => (
              <option key={d.id} value={d.name}>
                {d.name}
              </option>
            ))}
          </select>
        </div>
        {filtered && (
          <button
            type="button"
            onClick={() => {
              setFilters({ status: "", server_id: "", database: "" });
              setCursors([undefined]);
            }}
          >
            Clear filters
          </button>
        )}
      </form>
      <ErrorBanner error={backups.error} />
      {!backups.data && !backups.error && <Loading what="backups" />}
      {backups.data && items.length === 0 && (
        <EmptyState title={filtered ? "No backups match these filters" : "No backups yet"}>
          {filtered ? (
            <p>Clear the filters to see every backup.</p>
          ) : (
            <p>
              Press <strong>Back up now</strong> to back up a database (sync its server in{" "}
              <a href="/settings">Settings</a> first), or create a <a href="/schedules">schedule</a>.
            </p>
          )}
        </EmptyState>
      )}
      {items.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Database</th>
                <th scope="col">Status</th>
                <th scope="col">Name and notes</th>
                <th scope="col" class="num">
                  Size
                </th>
                <th scope="col">Created</th>
                <th scope="col" class="num">
                  Took
                </th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((b) => (
                <BackupRow
                  key={b.id}
                  backup={b}
                  activeDrill={backups.data?.activeDrills.get(b.id)}
                  serverName={serverName.get(b.server_id) ?? b.server_id}
                  canChange={canChange}
                  onAction={(kind) =>
                    kind === "download" ? void download.run(b) : setPending({ kind, backup: b } as Pending)
                  }
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager
        hasPrevious={cursors.length > 1}
        hasNext={Boolean(backups.data?.next_cursor)}
        onPrevious={() => setCursors((c) => c.slice(0, -1))}
        onNext={() => setCursors((c) => [...c, backups.data?.next_cursor ?? undefined])}
      />

      {pending?.kind === "trigger" && servers.data && (
        <TriggerDialog
          servers={servers.data}
          onClose={() => setPending(null)}
          onQueued={(queued) => {
            // (An empty scope is the API's 409, shown in the dialog.) The banner is a status region.
            setFlash(`${queued.length} backup${queued.length === 1 ? "" : "s"} queued.`);
            void backups.reload();
          }}
        />
      )}
      {pending?.kind === "import" && servers.data && (
        <ImportDialog
          servers={servers.data}
          onClose={() => setPending(null)}
          onQueued={(backup) => {
            setFlash(
              `Import of ${backup.imported_from ?? "the dump"} queued as a backup of ${backup.database}.`,
            );
            void backups.reload();
          }}
        />
      )}
      {pending?.kind === "annotate" && (
        <AnnotateDialog
          backup={pending.backup}
          onClose={() => setPending(null)}
          onSaved={() => void backups.reload()}
        />
      )}
      {pending?.kind === "delete" && (
        <ConfirmDialog
          title="Delete this backup?"
          confirmLabel="Delete backup"
          danger
          busy={remove.busy}
          error={remove.error}
          onConfirm={() => remove.run(pending.backup)}
          onClose={() => {
            remove.clearError();
            setPending(null);
          }}
        >
          <p>
            The archive of <strong>{pending.backup.database}</strong> from{" "}
            {formatTime(pending.backup.created_at)} ({formatBytes(pending.backup.size_bytes)}) and its record
            are deleted. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
      {pending?.kind === "cancel" && (
        <ConfirmDialog
          title="Cancel this backup?"
          confirmLabel="Cancel backup"
          danger
          busy={cancel.busy}
          error={cancel.error}
          onConfirm={() => cancel.run(pending.backup)}
          onClose={() => {
            cancel.clearError();
            setPending(null);
          }}
        >
          <p>
            The backup of <strong>{pending.backup.database}</strong> stops and nothing of it is kept.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function BackupRow({
  backup: b,
  activeDrill,
  serverName,
  canChange,
  onAction,
}: {
  backup: Backup;
  activeDrill: Drill | undefined;
  serverName: string;
  canChange: boolean;
  onAction: (kind: "annotate" | "delete" | "cancel" | "download") => void;
}) {
  const label = `${b.database} ${formatTime(b.created_at)}`;
  const drillState = drillStateOf(b, activeDrill);
  return (
    <tr data-backup-id={b.id} data-status={b.status}>
      <td>
        <a href={`/backups/${encodeURIComponent(b.id)}`} aria-label={`Details of ${label}`}>
          <strong>{b.database}</strong>
        </a>
        <div class="muted">
          {serverName} · {b.trigger === "import" ? <ImportedTag from={b.imported_from} /> : b.trigger}
        </div>
      </td>
      <td>
        <StatusBadge status={b.status} />
        {drillState && (
          <div>
            <DrillBadge state={drillState} />
          </div>
        )}
        {b.status === "running" && b.progress && (
          <div class="muted">{formatBytes(b.progress.bytes)} so far</div>
        )}
        {b.error && <div class="error-text">{b.error}</div>}
      </td>
      <td>
        {b.name && <div>{b.name}</div>}
        {b.notes && <div class="muted notes">{b.notes}</div>}
      </td>
      <td class="num">{formatBytes(b.size_bytes)}</td>
      <td title={formatTime(b.created_at)}>{relativeTime(b.created_at)}</td>
      <td class="num">{formatDuration(b.duration_ms)}</td>
      <td>
        <div class="row-actions">
          {b.status === "completed" && (
            <>
              <button
                type="button"
                class="small"
                aria-label={`Download ${label}`}
                onClick={() => onAction("download")}
              >
                Download
              </button>
              {canChange && (
                <a
                  class="button small"
                  href={`/restore?backup=${encodeURIComponent(b.id)}`}
                  aria-label={`Restore ${label}`}
                >
                  Restore
                </a>
              )}
            </>
          )}
          {canChange && (
            <button
              type="button"
              class="small"
              aria-label={`Edit name and notes of ${label}`}
              onClick={() => onAction("annotate")}
            >
              Edit
            </button>
          )}
          {canChange && isActive(b) && (
            <button
              type="button"
              class="small"
              aria-label={`Cancel ${label}`}
              onClick={() => onAction("cancel")}
            >
              Cancel
            </button>
          )}
          {canChange && !isActive(b) && (
            <button
              type="button"
              class="small danger"
              aria-label={`Delete ${label}`}
              onClick={() => onAction("delete")}
            >
              Delete
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}
