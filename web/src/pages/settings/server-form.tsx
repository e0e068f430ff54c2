// Add or edit a server: host and port, or a connection string (never both: the API refuses it).
// The password is write-only: an edit leaves it as it is unless one is typed or "Remove password"
// is ticked, and nothing here ever shows a stored one.
import { useEffect, useRef, useState } from "preact/hooks";
import { ErrorBanner, Field, fieldErrorsOf } from "../../components/ui.tsx";
import { useApp } from "../../lib/context.ts";
import { useAction } from "../../lib/hooks.ts";
import type { Server } from "../../lib/types.ts";
import {
  AUTH_MECHANISMS,
  check,
  createBody,
  type Draft,
  draftOf,
  dropsPassword,
  type Errors,
  URI_DECIDES,
  updateBody,
} from "./server-draft.ts";

interface Props {
  /** null: a new server. */
  server: Server | null;
  onSaved: (server: Server, created: boolean) => void;
  onCancel: () => void;
}

export function ServerForm({ server, onSaved, onCancel }: Props) {
  const { api } = useApp();
  const [draft, setDraft] = useState<Draft>(() => draftOf(server));
  const [clientErrors, setClientErrors] = useState<Errors>({});
  const [unchanged, setUnchanged] = useState(false);
  const [focusInvalid, setFocusInvalid] = useState(0);
  const formRef = useRef<HTMLFormElement>(null);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => {
    setDraft((d) => ({ ...d, [key]: value }));
    setUnchanged(false);
  };

  useEffect(() => {
    formRef.current?.querySelector<HTMLElement>("input")?.focus();
  }, []);
  useEffect(() => {
    if (focusInvalid > 0) formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [focusInvalid]);

  const save = useAction(async (send: () => Promise<Server>) => {
    onSaved(await send(), server === null);
  });

  /** The update call, or null when nothing changed. */
  const updateOf = (current: Server) => {
    const body = updateBody(current, draft);
    if (Object.keys(body).length === 0) return null;
    return () => api.put("/api/servers/{id}", { params: { id: current.id }, body });
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    save.clearError();
    const errors = check(draft);
    setClientErrors(errors);
    if (Object.keys(errors).length > 0) {
      setFocusInvalid((n) => n + 1);
      return;
    }
    const send = server ? updateOf(server) : () => api.post("/api/servers", { body: createBody(draft) });
    if (!send) {
      setUnchanged(true);
      return;
    }
    if (!(await save.run(send))) setFocusInvalid((n) => n + 1);
  };

  const apiErrors = fieldErrorsOf(save.error);
  const errorOf = (field: string) => clientErrors[field] ?? apiErrors[field];
  // In connection-string mode the URI decides host, port...: their errors belong to it.
  const uriError =
    errorOf("connection_string") ??
    URI_DECIDES.map((f) => apiErrors[f])
      .filter(Boolean)
      .join(" ");
  const title = server ? `Edit ${server.name}` : "New server";
  const passwordHint = server
    ? dropsPassword(server, draft)
      ? "This change of where or how the server is reached removes the stored password: type it again to keep one."
      : server.has_password
        ? "A password is stored. Leave empty to keep it."
        : "No password is stored. Leave empty for none."
    : "Optional. Stored in the secret store; it is never shown again.";

  return (
    <form
      ref={formRef}
      class="panel server-form"
      noValidate
      onSubmit={submit}
      aria-labelledby="server-form-title"
    >
      <h3 id="server-form-title">{title}</h3>
      <Field label="Name" error={errorOf("name")}>
        {(f) => (
          <input
            {...f}
            value={draft.name}
            autocomplete="off"
            onInput={(e) => set("name", e.currentTarget.value)}
          />
        )}
      </Field>
      <fieldset class="connect-with">
        <legend>Connect with</legend>
        {(
          [
            ["host", "Host and port"],
            ["uri", "Connection string"],
          ] as const
        ).map(([mode, label]) => (
          <label key={mode} class="checkbox">
            <input
              type="radio"
              name="connect-with"
              value={mode}
              checked={draft.mode === mode}
              onChange={() => set("mode", mode)}
            />
            <span>{label}</span>
          </label>
        ))}
      </fieldset>
      {draft.mode === "host" ? (
        <div class="form-grid">
          <Field label="Host" error={errorOf("host")} hint="A host name or IP address.">
            {(f) => (
              <input
                {...f}
                value={draft.host}
                autocomplete="off"
                spellcheck={false}
                onInput={(e) => set("host", e.currentTarget.value)}
              />
            )}
          </Field>
          <Field label="Port" error={errorOf("port")}>
            {(f) => (
              <input
                {...f}
                type="number"
                inputMode="numeric"
                min={1}
                max={65535}
                value={draft.port}
                onInput={(e) => set("port", e.currentTarget.value)}
              />
            )}
          </Field>
          <Field label="Username" error={errorOf("username")} hint="Optional.">
            {(f) => (
              <input
                {...f}
                value={draft.username}
                autocomplete="off"
                spellcheck={false}
                onInput={(e) => set("username", e.currentTarget.value)}
              />
            )}
          </Field>
          <PasswordField
            draft={draft}
            set={set}
            server={server}
            hint={passwordHint}
            error={errorOf("password")}
          />
          <Field label="Auth source" error={errorOf("auth_source")} hint="Optional, e.g. admin.">
            {(f) => (
              <input
                {...f}
                value={draft.authSource}
                autocomplete="off"
                spellcheck={false}
                onInput={(e) => set("authSource", e.currentTarget.value)}
              />
            )}
          </Field>
          <Field label="Replica set" error={errorOf("replica_set")} hint="Optional: the replica set's name.">
            {(f) => (
              <input
                {...f}
                value={draft.replicaSet}
                autocomplete="off"
                spellcheck={false}
                onInput={(e) => set("replicaSet", e.currentTarget.value)}
              />
            )}
          </Field>
          <Field
            label="Authentication"
            error={errorOf("auth_mechanism")}
            hint="Default: SCRAM, the driver's choice. PLAIN (LDAP) needs TLS; MONGODB-AWS signs with this deployment's own AWS role."
          >
            {(f) => (
              <select
                {...f}
                value={draft.authMechanism}
                onChange={(e) => set("authMechanism", e.currentTarget.value as Draft["authMechanism"])}
              >
                <option value="">Default (SCRAM)</option>
                {AUTH_MECHANISMS.map((m) => (
                  <option value={m} key={m}>
                    {m}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <label class="checkbox tls-option">
            <input
              type="checkbox"
              checked={draft.tls}
              onChange={(e) => set("tls", e.currentTarget.checked)}
            />
            <span>Use TLS</span>
          </label>
        </div>
      ) : (
        <div class="form-grid">
          <Field
            label="Connection string"
            error={uriError || undefined}
            hint="mongodb:// or mongodb+srv://… A password in it is moved to the secret store and never shown again."
          >
            {(f) => (
              <input
                {...f}
                value={draft.connectionString}
                autocomplete="off"
                spellcheck={false}
                placeholder="mongodb+srv://user@cluster0.example.net/"
                onInput={(e) => set("connectionString", e.currentTarget.value)}
              />
            )}
          </Field>
          <PasswordField
            draft={draft}
            set={set}
            server={server}
            hint={passwordHint}
            error={errorOf("password")}
          />
        </div>
      )}
      <label class="checkbox sandbox-option">
        <input
          type="checkbox"
          checked={draft.sandbox}
          aria-describedby="sandbox-hint"
          onChange={(e) => set("sandbox", e.currentTarget.checked)}
        />
        <span>Sandbox for restore drills</span>
      </label>
      <small id="sandbox-hint" class="hint">
        Drills may create a scratch database <code>mbm_drill_…</code> here and drop it afterwards: tick only
        for a staging server, never a production one.
      </small>
      {errorOf("sandbox") && <small class="field-error">{errorOf("sandbox")}</small>}
      <ErrorBanner error={save.error} />
      {unchanged && (
        <p class="banner banner-info" role="status">
          Nothing changed.
        </p>
      )}
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={save.busy}>
          {save.busy ? "Saving…" : "Save server"}
        </button>
      </div>
    </form>
  );
}

function PasswordField(props: {
  draft: Draft;
  set: <K extends keyof Draft>(key: K, value: Draft[K]) => void;
  server: Server | null;
  hint: string;
  error: string | undefined;
}) {
  const { draft, set, server } = props;
  return (
    <div class="password-field">
      <Field label="Password" error={props.error} hint={props.hint}>
        {(f) => (
          <input
            {...f}
            type="password"
            autocomplete="new-password"
            value={draft.password}
            disabled={draft.removePassword}
            onInput={(e) => set("password", e.currentTarget.value)}
          />
        )}
      </Field>
      {server?.has_password && (
        <label class="checkbox">
          <input
            type="checkbox"
            checked={draft.removePassword}
            onChange={(e) => set("removePassword", e.currentTarget.checked)}
          />
          <span>Remove password</span>
        </label>
      )}
    </div>
  );
}
