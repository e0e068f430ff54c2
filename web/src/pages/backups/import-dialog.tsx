// "Import a dump": make a backup of an existing mongodump archive or dump-directory tarball that was
// put under `imports/` (the bucket on AWS, DATA_DIR locally). The API answers with the queued
// backup; a source already imported is its 409, which names the backup that holds it.
import { useRef, useState } from "preact/hooks";
import { ErrorBanner, Field, fieldErrorsOf, useModal } from "../../components/ui.tsx";
import { useApp } from "../../lib/context.ts";
import { useAction, useLoad } from "../../lib/hooks.ts";
import { allDatabasesOf } from "../../lib/list-all.ts";
import type { Backup, Server } from "../../lib/types.ts";

const PREFIX = "imports/";

export function ImportDialog({
  servers,
  onClose,
  onQueued,
}: {
  servers: Server[];
  onClose: () => void;
  onQueued: (backup: Backup) => void;
}) {
  const { api } = useApp();
  const ref = useRef<HTMLDialogElement>(null);
  const [serverId, setServerId] = useState(servers[0]?.id ?? "");
  const [database, setDatabase] = useState("");
  const [sourceKey, setSourceKey] = useState(PREFIX);
  const [name, setName] = useState("");
  const [notes, setNotes] = useState("");
  const [problems, setProblems] = useState<Record<string, string>>({});
  // Offered, not imposed: the dump may be of a database this server no longer has.
  const databases = useLoad(() => allDatabasesOf(api, serverId), [serverId]);
  useModal(ref);

  const send = useAction(async () => {
    const backup = await api.post("/api/backups/import", {
      body: {
        server_id: serverId,
        database: database.trim(),
        source_key: sourceKey.trim(),
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(notes.trim() ? { notes } : {}),
      },
    });
    onQueued(backup);
  });

  const submit = async (e: Event) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    if (!serverId) found.server_id = "Choose the server the dump was made from.";
    if (!database.trim()) found.database = "Name the database the dump is of.";
    const key = sourceKey.trim();
    if (!key.startsWith(PREFIX) || key.length === PREFIX.length || key.endsWith("/")) {
      found.source_key = `The key of one file under ${PREFIX}, e.g. ${PREFIX}2026/11/01/shop.archive.gz.`;
    }
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    if (await send.run()) onClose();
  };
  const apiProblems = fieldErrorsOf(send.error);
  const problem = (field: string) => problems[field] ?? apiProblems[field];

  return (
    <dialog ref={ref} class="dialog" aria-labelledby="import-title" onClose={onClose} onCancel={onClose}>
      <form onSubmit={submit} noValidate>
        <h2 id="import-title">Import a dump</h2>
        <p class="muted">
          A <code>mongodump --archive</code> file (gzip, zstd or plain) or a <code>.tar.gz</code> of a{" "}
          <code>mongodump --out</code> directory, put under <code>{PREFIX}</code> (Help says where). It
          becomes a backup like any other; the file stays where it is.
        </p>
        <Field label="Server" error={problem("server_id")} hint="The server the dump was made from.">
          {(props) => (
            <select {...props} value={serverId} onChange={(e) => setServerId(e.currentTarget.value)}>
              {servers.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          label="Database"
          error={problem("database")}
          hint="The database the dump is of; a dump of several keeps only this one."
        >
          {(props) => (
            <>
              <input
                {...props}
                list="import-databases"
                autocomplete="off"
                spellcheck={false}
                maxLength={64}
                value={database}
                onInput={(e) => setDatabase(e.currentTarget.value)}
              />
              <datalist id="import-databases">
                {(databases.data ?? []).map((d) => (
                  <option key={d.id} value={d.name} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <Field label="Source key" error={problem("source_key")} hint={`Starts with ${PREFIX}.`}>
          {(props) => (
            <input
              {...props}
              autocomplete="off"
              spellcheck={false}
              maxLength={1024}
              value={sourceKey}
              onInput={(e) => setSourceKey(e.currentTarget.value)}
            />
          )}
        </Field>
        <Field label="Name (optional)" error={problem("name")}>
          {(props) => (
            <input {...props} maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          )}
        </Field>
        <Field label="Notes (optional)" error={problem("notes")}>
          {(props) => (
            <textarea
              {...props}
              maxLength={4000}
              value={notes}
              onInput={(e) => setNotes(e.currentTarget.value)}
            />
          )}
        </Field>
        <ErrorBanner error={databases.error ?? send.error} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={send.busy}>
            {send.busy ? "Starting…" : "Start import"}
          </button>
        </div>
      </form>
    </dialog>
  );
}
