// "Back up now": every enabled database, one server's, or one database, with an optional name
// and notes. The API answers with the queued backups.
import { useEffect, useRef, useState } from "preact/hooks";
import { ErrorBanner, Field, fieldErrorsOf, useModal } from "../../components/ui.tsx";
import type { Body } from "../../lib/api.ts";
import { useApp } from "../../lib/context.ts";
import { useAction, useLoad } from "../../lib/hooks.ts";
import { allDatabasesOf } from "../../lib/list-all.ts";
import type { Backup, Server } from "../../lib/types.ts";

type Scope = "database" | "server" | "everything";

export function TriggerDialog({
  servers,
  onClose,
  onQueued,
}: {
  servers: Server[];
  onClose: () => void;
  onQueued: (backups: Backup[]) => void;
}) {
  const { api } = useApp();
  const ref = useRef<HTMLDialogElement>(null);
  const [scope, setScope] = useState<Scope>("database");
  const [serverId, setServerId] = useState(servers[0]?.id ?? "");
  const [database, setDatabase] = useState("");
  const [name, setName] = useState("");
  const [notes, setNotes] = useState("");
  const [problems, setProblems] = useState<Record<string, string>>({});
  const databases = useLoad(
    // Disabled ones too: naming one database backs it up even when fan-outs skip it.
    () => allDatabasesOf(api, serverId),
    [serverId],
  );
  useEffect(() => {
    const first = databases.data?.[0]?.name ?? "";
    setDatabase((current) => (databases.data?.some((d) => d.name === current) ? current : first));
  }, [databases.data]);
  useModal(ref);

  const send = useAction(async () => {
    const body: Body<"POST", "/api/backups"> = {};
    if (scope !== "everything") body.server_id = serverId;
    if (scope === "database") body.database = database;
    if (name.trim()) body.name = name.trim();
    if (notes.trim()) body.notes = notes;
    const reply = await api.post("/api/backups", { body });
    onQueued(reply.items);
  });

  const submit = async (e: Event) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    if (scope !== "everything" && !serverId) found.server_id = "Choose a server.";
    if (scope === "database" && !database)
      found.database = "Choose a database (sync the server first if none is listed).";
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    if (await send.run()) onClose();
  };
  const apiProblems = fieldErrorsOf(send.error);
  const problem = (field: string) => problems[field] ?? apiProblems[field];

  return (
    <dialog ref={ref} class="dialog" aria-labelledby="trigger-title" onClose={onClose} onCancel={onClose}>
      <form onSubmit={submit} noValidate>
        <h2 id="trigger-title">Back up now</h2>
        <fieldset>
          <legend>What to back up</legend>
          {(
            [
              ["database", "One database"],
              ["server", "Every enabled database of a server"],
              ["everything", "Every enabled database of every server"],
            ] as const
          ).map(([value, label]) => (
            <label class="checkbox" key={value}>
              <input
                type="radio"
                name="scope"
                value={value}
                checked={scope === value}
                onChange={() => setScope(value)}
              />
              {label}
            </label>
          ))}
        </fieldset>
        {scope !== "everything" && (
          <Field label="Server" error={problem("server_id")}>
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
        )}
        {scope === "database" && (
          <Field
            label="Database"
            error={problem("database")}
            hint={databases.data?.length === 0 ? "No databases: sync this server in Settings." : undefined}
          >
            {(props) => (
              <select {...props} value={database} onChange={(e) => setDatabase(e.currentTarget.value)}>
                {(databases.data ?? []).map((d) => (
                  <option key={d.id} value={d.name}>
                    {d.enabled ? d.name : `${d.name} (disabled)`}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
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
            {send.busy ? "Starting…" : "Start backup"}
          </button>
        </div>
      </form>
    </dialog>
  );
}
