// Defaults: retention, concurrency and the heartbeat timeout. Only changed fields are sent, and
// the API's 422 details (e.g. "concurrency.per_server") land next to their field.
import { useEffect, useRef, useState } from "preact/hooks";
import { ErrorBanner, Field, fieldErrorsOf } from "../../components/ui.tsx";
import type { Body } from "../../lib/api.ts";
import { useApp, useCanChange } from "../../lib/context.ts";
import { useAction } from "../../lib/hooks.ts";
import type { Settings } from "../../lib/types.ts";

/** The fields, by their API name (422 details use these), with the API's own ranges. */
const FIELDS = [
  {
    field: "retention_days",
    label: "Retention (days)",
    min: 1,
    max: 36500,
    hint: "How long a manual backup is kept; a schedule's own retention wins for its backups.",
    read: (s: Settings) => s.retention_days,
  },
  {
    field: "keep_last",
    label: "Keep last",
    min: 1,
    max: 1000,
    hint: "The newest completed backups of each database that retention never deletes.",
    read: (s: Settings) => s.keep_last,
  },
  {
    field: "concurrency.per_server",
    label: "Backups at once per server",
    min: 1,
    max: 50,
    hint: "How many backups run at the same time on one server.",
    read: (s: Settings) => s.concurrency.per_server,
  },
  {
    field: "concurrency.total",
    label: "Backups at once in total",
    min: 1,
    max: 500,
    hint: "How many backups run at the same time overall.",
    read: (s: Settings) => s.concurrency.total,
  },
  {
    field: "heartbeat_timeout_minutes",
    label: "Heartbeat timeout (minutes)",
    min: 2,
    max: 1440,
    hint: "A running job silent this long is presumed dead and recorded failed.",
    read: (s: Settings) => s.heartbeat_timeout_minutes,
  },
] as const;

type FieldName = (typeof FIELDS)[number]["field"];
type Values = Record<FieldName, string>;

const valuesOf = (s: Settings) =>
  Object.fromEntries(FIELDS.map((f) => [f.field, String(f.read(s))])) as Values;

/** Only what differs from the saved settings, nested as the API takes it. */
type SettingsBody = Body<"PUT", "/api/settings">;
function changedBody(settings: Settings, values: Values): SettingsBody {
  const body: SettingsBody = {};
  const concurrency: NonNullable<SettingsBody["concurrency"]> = {};
  for (const f of FIELDS) {
    const value = Number(values[f.field]);
    if (value === f.read(settings)) continue;
    if (f.field === "concurrency.per_server") concurrency.per_server = value;
    else if (f.field === "concurrency.total") concurrency.total = value;
    else body[f.field] = value;
  }
  if (Object.keys(concurrency).length > 0) body.concurrency = concurrency;
  return body;
}

interface Props {
  settings: Settings;
  onSaved: (settings: Settings) => void;
}

export function DefaultsSection({ settings, onSaved }: Props) {
  const canChange = useCanChange();
  return (
    <section aria-labelledby="defaults-title" class="settings-section">
      <h2 id="defaults-title">Defaults</h2>
      {canChange ? (
        <DefaultsForm settings={settings} onSaved={onSaved} />
      ) : (
        <dl class="settings-list">
          {FIELDS.map((f) => (
            <div key={f.field}>
              <dt>{f.label}</dt>
              <dd>{f.read(settings)}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

function DefaultsForm({ settings, onSaved }: Props) {
  const { api } = useApp();
  const [values, setValues] = useState<Values>(() => valuesOf(settings));
  const [clientErrors, setClientErrors] = useState<Record<string, string>>({});
  const [outcome, setOutcome] = useState<string | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const [focusInvalid, setFocusInvalid] = useState(0);
  useEffect(() => {
    if (focusInvalid > 0) formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [focusInvalid]);

  const save = useAction(async (body: SettingsBody) => {
    const saved = await api.put("/api/settings", { body });
    onSaved(saved);
    setOutcome("Defaults saved.");
  });

  const submit = async (event: Event) => {
    event.preventDefault();
    setOutcome(null);
    save.clearError();
    const errors: Record<string, string> = {};
    for (const f of FIELDS) {
      const text = values[f.field].trim();
      const value = Number(text);
      if (!/^\d+$/.test(text) || value < f.min || value > f.max) {
        errors[f.field] = `A whole number from ${f.min} to ${f.max}.`;
      }
    }
    setClientErrors(errors);
    if (Object.keys(errors).length > 0) {
      setFocusInvalid((n) => n + 1);
      return;
    }
    const body = changedBody(settings, values);
    if (Object.keys(body).length === 0) {
      setOutcome("Nothing changed.");
      return;
    }
    if (!(await save.run(body))) setFocusInvalid((n) => n + 1);
  };

  const apiErrors = fieldErrorsOf(save.error);
  return (
    <form ref={formRef} class="defaults-form" noValidate onSubmit={submit} aria-labelledby="defaults-title">
      <div class="form-grid">
        {FIELDS.map((f) => (
          <Field
            key={f.field}
            label={f.label}
            hint={f.hint}
            error={clientErrors[f.field] ?? apiErrors[f.field]}
          >
            {(props) => (
              <input
                {...props}
                type="number"
                inputMode="numeric"
                min={f.min}
                max={f.max}
                step={1}
                value={values[f.field]}
                onInput={(e) => {
                  const value = e.currentTarget.value;
                  setValues((v) => ({ ...v, [f.field]: value }));
                }}
              />
            )}
          </Field>
        ))}
      </div>
      <ErrorBanner error={save.error} />
      {outcome && (
        <p class={`banner ${outcome === "Nothing changed." ? "banner-info" : "banner-ok"}`} role="status">
          {outcome}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={save.busy}>
          {save.busy ? "Saving…" : "Save defaults"}
        </button>
      </div>
    </form>
  );
}
