// Servers: the connection entries, their last connection test, and (operators) add, edit, test
// and delete. Passwords never come back from the API, so none is ever shown here.
import { useEffect, useRef, useState } from "preact/hooks";
import { ConfirmDialog, EmptyState, ErrorBanner, Loading } from "../../components/ui.tsx";
import { useApp, useCanChange } from "../../lib/context.ts";
import { formatTime, relativeTime } from "../../lib/format.ts";
import { useAction } from "../../lib/hooks.ts";
import type { Server } from "../../lib/types.ts";
import { type FailureKind, splitTestError, type TestReply } from "./data.ts";
import { ServerForm } from "./server-form.tsx";

interface Props {
  servers: Server[] | undefined;
  error: string | null;
  /** A server was added, changed, tested or deleted: reload what depends on the list. */
  onChanged: (what: "saved" | "tested" | "deleted") => void;
}

export function ServersSection({ servers, error, onChanged }: Props) {
  const { api, notify } = useApp();
  const canChange = useCanChange();
  const [editing, setEditing] = useState<Server | "new" | null>(null);
  // Closing the form removes the focused field: focus goes back to the button that opened it
  // ("new": Add server; else that server's Edit), or a keyboard user starts again from the top.
  const [refocus, setRefocus] = useState<string | null>(null);
  const sectionRef = useRef<HTMLElement>(null);
  const closeForm = () => {
    setRefocus(editing === "new" ? "new" : (editing?.id ?? null));
    setEditing(null);
  };
  useEffect(() => {
    if (refocus === null || editing !== null) return;
    sectionRef.current?.querySelector<HTMLElement>(`[data-opens-form="${refocus}"]`)?.focus();
    setRefocus(null);
  }, [refocus, editing]);
  const [deleting, setDeleting] = useState<Server | null>(null);
  const [alsoBackups, setAlsoBackups] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  // The latest test of each server made on this page, shown in its row.
  const [tests, setTests] = useState<Record<string, TestReply | { error: unknown }>>({});
  const [testing, setTesting] = useState<Record<string, boolean>>({});

  const test = async (server: Server) => {
    setTesting((t) => ({ ...t, [server.id]: true }));
    try {
      const reply = await api.post("/api/servers/{id}/test", { params: { id: server.id } });
      setTests((t) => ({ ...t, [server.id]: reply }));
      notify(
        reply.ok
          ? `Connection to ${server.name} works`
          : `Connection to ${server.name} failed: ${reply.kind ?? "other"}`,
      );
      onChanged("tested");
    } catch (e) {
      setTests((t) => ({ ...t, [server.id]: { error: e } }));
    } finally {
      setTesting((t) => ({ ...t, [server.id]: false }));
    }
  };

  const remove = useAction(async (server: Server) => {
    const result = await api.delete("/api/servers/{id}", {
      params: { id: server.id },
      query: { delete_backups: alsoBackups ? "true" : undefined },
    });
    const text = `Deleted ${server.name}${alsoBackups ? ` and ${result.deleted_backups} backups` : "; its backups are kept"}.`;
    setMessage(text);
    onChanged("deleted");
  });

  return (
    <section aria-labelledby="servers-title" class="settings-section" ref={sectionRef}>
      <div class="section-header">
        <h2 id="servers-title">Servers</h2>
        {canChange && editing === null && (
          <button
            type="button"
            class="primary"
            data-opens-form="new"
            onClick={() => {
              setMessage(null);
              setEditing("new");
            }}
          >
            Add server
          </button>
        )}
      </div>
      <ErrorBanner error={error} />
      {message && (
        <p class="banner banner-ok" role="status">
          {message}
        </p>
      )}
      {editing !== null && (
        <ServerForm
          key={editing === "new" ? "new" : editing.id}
          server={editing === "new" ? null : editing}
          onCancel={closeForm}
          onSaved={(saved, created) => {
            closeForm();
            const text = created
              ? `Added ${saved.name}. Test its connection, then sync its databases below.`
              : `Saved ${saved.name}.`;
            setMessage(text);
            setTests(({ [saved.id]: _, ...rest }) => rest);
            onChanged("saved");
          }}
        />
      )}
      {!servers ? (
        !error && <Loading what="servers" />
      ) : servers.length === 0 ? (
        <EmptyState title="No servers yet">
          {canChange
            ? "Press “Add server” to register a MongoDB server, then sync its databases."
            : "An operator adds MongoDB servers here."}
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="servers-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Address</th>
                <th scope="col">User</th>
                <th scope="col">TLS</th>
                <th scope="col">Last test</th>
                {canChange && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {servers.map((server) => (
                <tr key={server.id}>
                  <th scope="row">
                    {server.name}
                    {server.sandbox && (
                      <>
                        {" "}
                        <span class="tag" title="Restore drills may use it for scratch databases">
                          sandbox
                        </span>
                      </>
                    )}
                  </th>
                  <td>
                    {server.connection_string ? (
                      <span title={server.connection_string}>connection string</span>
                    ) : (
                      <code>
                        {server.host}:{server.port}
                      </code>
                    )}
                    {server.replica_set && (
                      <div class="muted small-text">replica set {server.replica_set}</div>
                    )}
                  </td>
                  <td>
                    {server.username ?? <span class="muted">none</span>}
                    {server.username && server.auth_source && (
                      <div class="muted small-text">auth source {server.auth_source}</div>
                    )}
                  </td>
                  <td>{server.tls ? "yes" : "no"}</td>
                  <td class="test-cell">
                    {testing[server.id] ? (
                      <span class="muted">Testing…</span>
                    ) : (
                      <TestVerdict server={server} latest={tests[server.id]} />
                    )}
                  </td>
                  {canChange && (
                    <td>
                      <div class="row-actions">
                        <button
                          type="button"
                          class="small"
                          aria-label={`Test connection to ${server.name}`}
                          disabled={testing[server.id]}
                          onClick={() => void test(server)}
                        >
                          Test connection
                        </button>
                        <button
                          type="button"
                          class="small"
                          aria-label={`Edit ${server.name}`}
                          data-opens-form={server.id}
                          onClick={() => {
                            setMessage(null);
                            setEditing(server);
                          }}
                        >
                          Edit
                        </button>
                        <button
                          type="button"
                          class="small danger"
                          aria-label={`Delete ${server.name}`}
                          onClick={() => {
                            setAlsoBackups(false);
                            remove.clearError();
                            setDeleting(server);
                          }}
                        >
                          Delete
                        </button>
                      </div>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          confirmLabel="Delete server"
          typeToConfirm={deleting.name}
          danger
          busy={remove.busy}
          error={remove.error}
          onConfirm={() => remove.run(deleting)}
          onClose={() => setDeleting(null)}
        >
          <p>
            The server's connection details, password, managed databases and the schedules that name it are
            deleted. Its backups are kept (they can still be restored elsewhere) unless you tick the box.
          </p>
          <label class="checkbox">
            <input
              type="checkbox"
              checked={alsoBackups}
              onChange={(e) => setAlsoBackups(e.currentTarget.checked)}
            />
            <span>Also delete its backups</span>
          </label>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** The newest verdict: this page's own test if there is one, else the stored last test. */
function TestVerdict({
  server,
  latest,
}: {
  server: Server;
  latest: TestReply | { error: unknown } | undefined;
}) {
  if (latest && "error" in latest) return <ErrorBanner error={latest.error} />;
  const last = latest?.server.last_test ?? server.last_test;
  if (latest && !latest.ok) {
    return <Failed kind={latest.kind} message={latest.message ?? ""} at={last?.at ?? null} />;
  }
  if (!last) return <span class="muted">not tested</span>;
  if (!last.ok) {
    const { kind, message } = splitTestError(last.error);
    return <Failed kind={kind} message={message} at={last.at} />;
  }
  return (
    <div>
      <span class="badge badge-completed">ok</span>{" "}
      {last.server_version && <span>MongoDB {last.server_version}</span>}
      <div class="muted small-text">
        <time dateTime={last.at} title={formatTime(last.at)}>
          {relativeTime(last.at)}
        </time>
      </div>
    </div>
  );
}

function Failed({ kind, message, at }: { kind: FailureKind | null; message: string; at: string | null }) {
  return (
    <div>
      <span class="badge badge-failed">failed</span> <strong class="failure-kind">{kind ?? "other"}</strong>
      {message && <div class="error-text test-message">{message}</div>}
      {at && (
        <div class="muted small-text">
          <time dateTime={at} title={formatTime(at)}>
            {relativeTime(at)}
          </time>
        </div>
      )}
    </div>
  );
}
