// /backups/<id>: one backup, its latest restore drill's proof (per collection, recovery time,
// target, error), the drills of it, and "Verify now". While a drill of it is queued or running the
// page refreshes every 2 s, so the proof appears on the record as soon as the drill ends.
import { useMemo, useState } from "preact/hooks";
import { isActive } from "../../../functions/core/state-machine.ts";
import {
  DrillBadge,
  drillStateOf,
  ImportedTag,
  TargetOptions,
  targetLabel,
  targetOf,
  targetValue,
  VerificationTable,
} from "../components/drills.tsx";
import { ErrorBanner, Field, Loading, PageHeader, StatusBadge } from "../components/ui.tsx";
import { useApp, useCanChange } from "../lib/context.ts";
import { formatBytes, formatDuration, formatTime } from "../lib/format.ts";
import { useAction, useLoad } from "../lib/hooks.ts";
import { allServers } from "../lib/list-all.ts";
import type { Backup, Drill, Server } from "../lib/types.ts";

const DRILLS_SHOWN = 10;

export function BackupDetailPage({ id }: { id?: string }) {
  const { api, notify } = useApp();
  const canChange = useCanChange();
  const backupId = id ?? "";
  const record = useLoad(
    () =>
      Promise.all([
        api.get("/api/backups/{id}", { params: { id: backupId } }),
        api.get("/api/drills", { query: { backup_id: backupId, limit: DRILLS_SHOWN } }),
      ]),
    [backupId],
    {
      ms: 2000,
      while: ([backup, drills]) => isActive(backup.status) || drills.items.some((d) => isActive(d.status)),
    },
  );
  const servers = useLoad(() => allServers(api), []);
  const settings = useLoad(() => api.get("/api/settings"), []);
  const names = useMemo(() => new Map((servers.data ?? []).map((s) => [s.id, s.name])), [servers.data]);
  const serverName = (sid: string) => names.get(sid) ?? (servers.data ? "a deleted server" : "…");

  const [backup, drillPage] = record.data ?? [];
  const drills = drillPage?.items ?? [];
  const active = drills.find((d) => isActive(d.status));
  const title = backup ? `Backup of ${backup.database}` : "Backup";
  const state = backup ? drillStateOf(backup, active) : null;

  return (
    <section>
      <PageHeader title={title}>
        <a class="button" href="/backups">
          All backups
        </a>
      </PageHeader>
      <ErrorBanner error={record.error} />
      {!record.data && !record.error && <Loading what="the backup" />}
      {backup && (
        <>
          <BackupFacts backup={backup} serverName={serverName} />
          <section class="panel panel-spaced" aria-labelledby="drill-title">
            <h2 id="drill-title">Restore drill {state && <DrillBadge state={state} />}</h2>
            <ProofSummary backup={backup} serverName={serverName} />
            {canChange && backup.status === "completed" && (
              <VerifyNow
                backup={backup}
                servers={servers.data ?? []}
                defaultTarget={
                  settings.data?.drills ? targetLabel(settings.data.drills.target, serverName) : undefined
                }
                activeDrill={active}
                onQueued={() => {
                  notify(`Drill of ${backup.database} queued`);
                  void record.reload();
                }}
              />
            )}
            {backup.status !== "completed" && (
              <p class="muted">Only a completed backup can be drilled; this one is {backup.status}.</p>
            )}
          </section>
          <DrillHistory drills={drills} serverName={serverName} />
        </>
      )}
    </section>
  );
}

function BackupFacts({ backup: b, serverName }: { backup: Backup; serverName: (id: string) => string }) {
  return (
    <dl class="facts" aria-label="The backup">
      <div>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={b.status} /> {b.error && <span class="error-text">{b.error}</span>}
        </dd>
      </div>
      <div>
        <dt>Server</dt>
        <dd>{serverName(b.server_id)}</dd>
      </div>
      <div>
        <dt>Made by</dt>
        <dd>
          {b.trigger === "import" ? <ImportedTag from={b.imported_from} /> : b.trigger}
          {b.imported_from && <div class="muted">from {b.imported_from}</div>}
        </dd>
      </div>
      <div>
        <dt>Created</dt>
        <dd>{formatTime(b.created_at)}</dd>
      </div>
      <div>
        <dt>Size</dt>
        <dd>
          {formatBytes(b.size_bytes)} ({b.compression})
        </dd>
      </div>
      <div>
        <dt>Took</dt>
        <dd>{formatDuration(b.duration_ms)}</dd>
      </div>
      {b.name && (
        <div>
          <dt>Name</dt>
          <dd>{b.name}</dd>
        </div>
      )}
      {b.notes && (
        <div>
          <dt>Notes</dt>
          <dd class="notes">{b.notes}</dd>
        </div>
      )}
      <div>
        <dt>Expires</dt>
        <dd>{b.expires_at ? formatTime(b.expires_at) : "never (kept until deleted)"}</dd>
      </div>
      <div>
        <dt>sha256</dt>
        <dd>
          <code>{b.sha256 ?? "—"}</code>
        </dd>
      </div>
    </dl>
  );
}

function ProofSummary({ backup, serverName }: { backup: Backup; serverName: (id: string) => string }) {
  const v = backup.verification;
  if (!v) {
    return backup.status === "completed" ? (
      <p class="muted">
        No drill has restored this backup yet: its sha256 proves the bytes, not that they restore.
      </p>
    ) : null;
  }
  return (
    <>
      <dl class="facts" aria-label="The latest drill">
        <div>
          <dt>Outcome</dt>
          <dd>{v.status === "passed" ? "passed: restored and proved" : "failed"}</dd>
        </div>
        <div>
          <dt>Recovery time</dt>
          <dd data-recovery-ms={v.duration_ms ?? ""}>{formatDuration(v.duration_ms)}</dd>
        </div>
        <div>
          <dt>Target</dt>
          <dd>{targetLabel(v.target, serverName)}</dd>
        </div>
        <div>
          <dt>Drilled</dt>
          <dd>{formatTime(v.at)}</dd>
        </div>
      </dl>
      {v.error && (
        <p class="banner banner-error" data-drill-error="">
          {v.error}
        </p>
      )}
      <VerificationTable verification={v} />
    </>
  );
}

function VerifyNow({
  backup,
  servers,
  defaultTarget,
  activeDrill,
  onQueued,
}: {
  backup: Backup;
  servers: Server[];
  defaultTarget: string | undefined;
  activeDrill: Drill | undefined;
  onQueued: () => void;
}) {
  const { api } = useApp();
  const [target, setTarget] = useState("");
  const verify = useAction(async () => {
    const chosen = targetOf(target);
    await api.post("/api/backups/{id}/verify", {
      params: { id: backup.id },
      body: chosen ? { target: chosen } : {},
    });
    onQueued();
  });
  return (
    <form
      class="inline-form"
      aria-label="Verify now"
      onSubmit={(e) => {
        e.preventDefault();
        void verify.run();
      }}
    >
      <Field label="Drill target">
        {(props) => (
          <select {...props} value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
            <TargetOptions
              servers={servers}
              current={target}
              defaultLabel={`The settings' default${defaultTarget ? ` (${defaultTarget})` : ""}`}
            />
          </select>
        )}
      </Field>
      <button type="submit" class="primary" disabled={verify.busy}>
        {verify.busy ? "Queuing…" : "Verify now"}
      </button>
      {activeDrill && <span class="muted">A drill of this backup is {activeDrill.status}.</span>}
      <ErrorBanner error={verify.error} onDismiss={verify.clearError} />
    </form>
  );
}

function DrillHistory({ drills, serverName }: { drills: Drill[]; serverName: (id: string) => string }) {
  return (
    <section class="panel panel-spaced" aria-labelledby="drills-title">
      <h2 id="drills-title">Drills of this backup</h2>
      {drills.length === 0 ? (
        <p class="muted">None yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Asked</th>
                <th scope="col">Status</th>
                <th scope="col">Target</th>
                <th scope="col">By</th>
                <th scope="col" class="num">
                  Took
                </th>
              </tr>
            </thead>
            <tbody>
              {drills.map((d) => (
                <tr key={d.id} data-drill-id={d.id} data-status={d.status}>
                  <td>{formatTime(d.created_at)}</td>
                  <td>
                    <StatusBadge status={d.status} />
                    {d.result && <span class="muted"> {d.result.status}</span>}
                    {d.error && <div class="error-text">{d.error}</div>}
                  </td>
                  <td>{targetLabel(targetValue(d.target), serverName)}</td>
                  <td>{d.trigger === "schedule" ? "schedule" : d.created_by}</td>
                  <td class="num">{formatDuration(d.duration_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {drills.length >= DRILLS_SHOWN && (
        <p class="muted">The newest {DRILLS_SHOWN}; the audit log holds every drill.</p>
      )}
    </section>
  );
}
