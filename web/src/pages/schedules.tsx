// /schedules: the cron schedules that queue backups on their own. Operators create, edit, switch
// on/off and delete them; viewers see the list.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ConfirmDialog, EmptyState, ErrorBanner, Loading, PageHeader, Pager } from "../components/ui.tsx";
import { useApp, useCanChange } from "../lib/context.ts";
import { useAction, useLoad } from "../lib/hooks.ts";
import { allServers } from "../lib/list-all.ts";
import type { ScheduleView } from "../lib/types.ts";
import { ScheduleForm } from "./schedules/schedule-form.tsx";
import { ScheduleTable } from "./schedules/schedule-table.tsx";
import "./schedules.css";

const PAGE_SIZE = 25;
// Next and last runs move on their own; a minute is how often a schedule can fire.
const REFRESH_MS = 60_000;

type Editing = { schedule?: ScheduleView } | null;

export function SchedulesPage() {
  const { api, notify } = useApp();
  const canChange = useCanChange();
  // Cursor paging: the trail of cursors that led to this page, so "Newer" can go back.
  const [trail, setTrail] = useState<(string | null)[]>([null]);
  const cursor = trail[trail.length - 1] ?? null;
  const list = useLoad(() => api.get("/api/schedules", { query: { limit: PAGE_SIZE, cursor } }), [cursor], {
    ms: REFRESH_MS,
    while: () => true,
  });
  const servers = useLoad(() => allServers(api), []);
  const serverMap = useMemo(() => new Map((servers.data ?? []).map((s) => [s.id, s])), [servers.data]);

  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<ScheduleView | null>(null);
  const [toggling, setToggling] = useState<string | null>(null);
  // When the form closes, focus returns to the button that opens it, not to the top of the document.
  const newButton = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);
  useEffect(() => {
    if (wasEditing.current && !editing) newButton.current?.focus();
    wasEditing.current = Boolean(editing);
  }, [editing]);

  const toggle = useAction(async (schedule: ScheduleView) => {
    setToggling(schedule.id);
    try {
      const updated = await api.post("/api/schedules/{id}/toggle", { params: { id: schedule.id } });
      notify(`Schedule ${updated.name} ${updated.enabled ? "enabled" : "disabled"}`);
      await list.reload();
    } finally {
      setToggling(null);
    }
  });
  const remove = useAction(async (schedule: ScheduleView) => {
    await api.delete("/api/schedules/{id}", { params: { id: schedule.id } });
    notify(`Schedule ${schedule.name} deleted`);
    if (editing?.schedule?.id === schedule.id) setEditing(null);
    await list.reload();
  });

  const items = list.data?.items ?? [];
  const firstPage = trail.length === 1;
  return (
    <section class="schedules-page">
      <PageHeader title="Schedules">
        {canChange && !editing && (
          <button ref={newButton} type="button" class="primary" onClick={() => setEditing({})}>
            New schedule
          </button>
        )}
      </PageHeader>
      <p class="muted intro">
        Each run queues one backup of every database in the schedule's scope, at the times of its cron
        expression in its own time zone. <a href="/help#schedules">How schedules work</a>
      </p>

      {editing && (
        <ScheduleForm
          key={editing.schedule?.id ?? "new"}
          schedule={editing.schedule}
          servers={servers.data ?? []}
          onSaved={() => {
            setEditing(null);
            void list.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      )}

      <ErrorBanner error={list.error} />
      <ErrorBanner error={servers.error} />
      <ErrorBanner error={toggle.error} onDismiss={toggle.clearError} />

      {list.data === undefined ? (
        list.loading && <Loading what="schedules" />
      ) : items.length === 0 && firstPage ? (
        !editing && (
          <EmptyState title="No schedules yet">
            {canChange ? (
              <p>
                Create one with <strong>New schedule</strong>: pick when it runs and what it covers. On each
                run it queues a backup of every enabled database in its scope (or the one database you name).
              </p>
            ) : (
              <p>
                An operator can create one. On each run a schedule queues a backup of every enabled database
                in its scope.
              </p>
            )}
          </EmptyState>
        )
      ) : (
        <ScheduleTable
          schedules={items}
          servers={serverMap}
          canChange={canChange}
          toggling={toggling}
          onToggle={(s) => void toggle.run(s)}
          onEdit={(s) => {
            setEditing({ schedule: s });
            window.scrollTo({ top: 0 });
          }}
          onDelete={(s) => {
            remove.clearError();
            setDeleting(s);
          }}
        />
      )}
      <Pager
        hasPrevious={!firstPage}
        hasNext={Boolean(list.data?.next_cursor)}
        onPrevious={() => setTrail((t) => t.slice(0, -1))}
        onNext={() => {
          const next = list.data?.next_cursor;
          if (next) setTrail((t) => [...t, next]);
        }}
      />

      {deleting && (
        <ConfirmDialog
          title={`Delete schedule ${deleting.name}?`}
          confirmLabel="Delete schedule"
          danger
          busy={remove.busy}
          error={remove.error}
          onConfirm={() => remove.run(deleting)}
          onClose={() => setDeleting(null)}
        >
          <p>
            It stops running. The backups it made stay until they expire: each got its expiry date when it was
            made.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
