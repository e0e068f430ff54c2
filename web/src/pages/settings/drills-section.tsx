// Restore drills: where a drill restores unless a schedule or a request names another target, and
// how old the newest passing drill of a database may get before housekeeping raises DrillStale.
import { useState } from "preact/hooks";
import { TargetOptions, targetLabel, targetOf, targetValue } from "../../components/drills.tsx";
import { ErrorBanner, Field, fieldErrorsOf } from "../../components/ui.tsx";
import type { Body } from "../../lib/api.ts";
import { useApp, useCanChange } from "../../lib/context.ts";
import { useAction } from "../../lib/hooks.ts";
import type { Server, Settings } from "../../lib/types.ts";

const MAX_AGE = { min: 1, max: 3650 };
/** What the API applies to settings saved before drills existed. */
const DEFAULT_DRILLS: NonNullable<Settings["drills"]> = { target: { kind: "ephemeral" }, max_age_days: 7 };

interface Props {
  settings: Settings;
  servers: Server[] | undefined;
  onSaved: (settings: Settings) => void;
}

export function DrillsSection({ settings, servers, onSaved }: Props) {
  const canChange = useCanChange();
  const drills = settings.drills ?? DEFAULT_DRILLS;
  const names = new Map((servers ?? []).map((s) => [s.id, s.name]));
  return (
    <section aria-labelledby="drills-title" class="settings-section">
      <h2 id="drills-title">Restore drills</h2>
      <p class="muted">
        A drill restores a backup into a throwaway target, checks counts, indexes and <code>validate</code>,
        and keeps the proof on the backup.
      </p>
      {canChange ? (
        <DrillsForm drills={drills} servers={servers ?? []} onSaved={onSaved} />
      ) : (
        <dl class="settings-list">
          <div>
            <dt>Default target</dt>
            <dd>{targetLabel(drills.target, (id) => names.get(id) ?? "a deleted server")}</dd>
          </div>
          <div>
            <dt>Proof may be this old (days)</dt>
            <dd>{drills.max_age_days}</dd>
          </div>
        </dl>
      )}
    </section>
  );
}

function DrillsForm({
  drills,
  servers,
  onSaved,
}: {
  drills: NonNullable<Settings["drills"]>;
  servers: Server[];
  onSaved: (settings: Settings) => void;
}) {
  const { api } = useApp();
  const [target, setTarget] = useState(() => targetValue(drills.target));
  const [maxAge, setMaxAge] = useState(() => String(drills.max_age_days));
  const [ageError, setAgeError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const save = useAction(async (body: Body<"PUT", "/api/settings">) => {
    onSaved(await api.put("/api/settings", { body }));
    setOutcome("Drill settings saved.");
  });

  const submit = async (event: Event) => {
    event.preventDefault();
    setOutcome(null);
    save.clearError();
    const text = maxAge.trim();
    const days = Number(text);
    const bad = !/^\d+$/.test(text) || days < MAX_AGE.min || days > MAX_AGE.max;
    setAgeError(bad ? `A whole number from ${MAX_AGE.min} to ${MAX_AGE.max}.` : null);
    if (bad) return;
    const change: NonNullable<Body<"PUT", "/api/settings">["drills"]> = {};
    const chosen = targetOf(target);
    if (chosen && target !== targetValue(drills.target)) change.target = chosen;
    if (days !== drills.max_age_days) change.max_age_days = days;
    if (Object.keys(change).length === 0) {
      setOutcome("Nothing changed.");
      return;
    }
    await save.run({ drills: change });
  };

  const apiErrors = fieldErrorsOf(save.error);
  const targetError =
    apiErrors["drills.target"] ?? apiErrors["drills.target.server_id"] ?? apiErrors["drills.target.kind"];
  return (
    <form class="defaults-form" noValidate onSubmit={submit} aria-labelledby="drills-title">
      <div class="form-grid">
        <Field
          label="Default drill target"
          error={targetError}
          hint={
            servers.some((s) => s.sandbox)
              ? "A schedule or a single drill may name another."
              : "Mark a staging server as a sandbox (edit it above) to offer it here."
          }
        >
          {(props) => (
            <select {...props} value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
              <TargetOptions servers={servers} current={target} />
            </select>
          )}
        </Field>
        <Field
          label="Proof may be this old (days)"
          error={ageError ?? apiErrors["drills.max_age_days"]}
          hint="A database whose newest passing drill is older raises DrillStale (an event and an alert)."
        >
          {(props) => (
            <input
              {...props}
              type="number"
              inputMode="numeric"
              min={MAX_AGE.min}
              max={MAX_AGE.max}
              step={1}
              value={maxAge}
              onInput={(e) => setMaxAge(e.currentTarget.value)}
            />
          )}
        </Field>
      </div>
      <ErrorBanner error={save.error} />
      {outcome && (
        <p class={`banner ${outcome === "Nothing changed." ? "banner-info" : "banner-ok"}`} role="status">
          {outcome}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={save.busy}>
          {save.busy ? "Saving…" : "Save drill settings"}
        </button>
      </div>
    </form>
  );
}
