// "Restore latest" on a database row: restore the newest completed backup of this database (or the
// newest one a drill proved) without picking it; the API chooses and its reply names the backup.
import { useRef, useState } from "preact/hooks";
import { ErrorBanner, Field, fieldErrorsOf, useModal } from "../../components/ui.tsx";
import { useApp } from "../../lib/context.ts";
import { formatTime } from "../../lib/format.ts";
import { useAction } from "../../lib/hooks.ts";
import type { Backup, ManagedDatabase, Restore, Server } from "../../lib/types.ts";
import { databaseNameProblem, restoredName } from "../restore/names.ts";

export function RestoreLatestDialog({
  database,
  servers,
  onClose,
}: {
  database: ManagedDatabase;
  servers: Server[];
  onClose: () => void;
}) {
  const { api, notify } = useApp();
  const ref = useRef<HTMLDialogElement>(null);
  const [targetServerId, setTargetServerId] = useState(database.server_id);
  const [targetDatabase, setTargetDatabase] = useState(() => restoredName(database.name));
  const [verified, setVerified] = useState(false);
  const [nameProblem, setNameProblem] = useState<string | null>(null);
  const [started, setStarted] = useState<{ restore: Restore; backup: Backup | null } | null>(null);
  useModal(ref);

  const start = useAction(async () => {
    const restore = await api.post("/api/restore", {
      body: {
        server_id: database.server_id,
        database: database.name,
        target_server_id: targetServerId,
        target_database: targetDatabase,
        ...(verified ? { verified: true } : {}),
      },
    });
    // The reply names the backup it chose; its record says when it was made.
    const backup = await api
      .get("/api/backups/{id}", { params: { id: restore.backup_id } })
      .catch(() => null);
    setStarted({ restore, backup });
    notify(`Restore of ${database.name} into ${restore.target_database} queued`);
  });

  const submit = async (e: Event) => {
    e.preventDefault();
    if (started) {
      onClose();
      return;
    }
    const problem = databaseNameProblem(targetDatabase);
    setNameProblem(problem);
    if (problem) return;
    await start.run();
  };
  const apiProblems = fieldErrorsOf(start.error);

  return (
    <dialog ref={ref} class="dialog" aria-labelledby="latest-title" onClose={onClose} onCancel={onClose}>
      <form onSubmit={submit} noValidate>
        <h2 id="latest-title">Restore the latest backup of {database.name}</h2>
        {started ? (
          <div class="banner banner-ok" role="status">
            <p>
              Restore queued: {database.name} into {started.restore.target_database}, from backup{" "}
              <a href={`/backups/${encodeURIComponent(started.restore.backup_id)}`}>
                <code>{started.restore.backup_id}</code>
              </a>
              {started.backup && ` made ${formatTime(started.backup.created_at)}`}
              {started.backup?.verification?.status === "passed" && " (proven by a drill)"}.
            </p>
            <p>
              Follow it on the <a href="/restore">Restore page</a>.
            </p>
          </div>
        ) : (
          <>
            <p class="muted">
              The newest completed backup of this database is restored; nothing of the target is dropped, so
              pick a database that does not exist yet (the Restore page can restore over one).
            </p>
            <Field label="Target server" error={apiProblems.target_server_id}>
              {(props) => (
                <select
                  {...props}
                  value={targetServerId}
                  onChange={(e) => setTargetServerId(e.currentTarget.value)}
                >
                  {servers.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Target database" error={nameProblem ?? apiProblems.target_database}>
              {(props) => (
                <input
                  {...props}
                  autocomplete="off"
                  spellcheck={false}
                  value={targetDatabase}
                  onInput={(e) => setTargetDatabase(e.currentTarget.value)}
                />
              )}
            </Field>
            <label class="checkbox">
              <input
                type="checkbox"
                checked={verified}
                onChange={(e) => setVerified(e.currentTarget.checked)}
              />
              <span>The newest proven backup (its latest restore drill passed)</span>
            </label>
            <ErrorBanner error={start.error} />
          </>
        )}
        <div class="actions">
          {!started && (
            <button type="button" onClick={onClose}>
              Cancel
            </button>
          )}
          <button type="submit" class="primary" disabled={start.busy}>
            {started ? "Close" : start.busy ? "Starting…" : "Restore latest"}
          </button>
        </div>
      </form>
    </dialog>
  );
}
