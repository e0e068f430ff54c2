// Create or edit a schedule. Checks everything the API would before sending (the cron and the zone
// with the API's own validators), then shows any 422 details next to their fields.
import { useEffect, useRef, useState } from "preact/hooks";
import { TargetOptions, targetOf, targetValue } from "../../components/drills.tsx";
import { ErrorBanner, Field, fieldErrorsOf } from "../../components/ui.tsx";
import type { Body } from "../../lib/api.ts";
import { useApp } from "../../lib/context.ts";
import { useAction, useLoad } from "../../lib/hooks.ts";
import { allDatabasesOf } from "../../lib/list-all.ts";
import type { ScheduleView, Server } from "../../lib/types.ts";
import {
  browserTimeZone,
  type CronState,
  cronStateErrors,
  cronStateOf,
  DEFAULT_PARTS,
  expressionOf,
} from "./cron.ts";
import { CronBuilder } from "./cron-builder.tsx";

type Props = {
  /** The schedule to edit; undefined creates one. */
  schedule?: ScheduleView | undefined;
  servers: Server[];
  onSaved: (schedule: ScheduleView) => void;
  onCancel: () => void;
};

type Values = {
  name: string;
  timezone: string;
  server_id: string; // "" = all servers
  database: string; // "" = all enabled databases of the server
  retention_days: string;
  keep_last: string;
  /** verify_every as a choice: 1, N (`verify_n`) or 0. */
  verify: "every" | "nth" | "never";
  verify_n: string;
  /** A drill-target select value ("" = the settings' default). */
  drill_target: string;
  enabled: boolean;
};

type ScheduleBody = Body<"POST", "/api/schedules">;
/** The document lists the canonical IANA names; the API accepts their aliases too, as typed here. */
type TimeZoneName = NonNullable<ScheduleBody["timezone"]>;

function verifyChoiceOf(every: number | undefined): Pick<Values, "verify" | "verify_n"> {
  if (every === undefined || every === 1) return { verify: "every", verify_n: "2" };
  if (every === 0) return { verify: "never", verify_n: "2" };
  return { verify: "nth", verify_n: String(every) };
}

const NEW_CRON: CronState = {
  preset: "daily",
  parts: DEFAULT_PARTS,
  expression: expressionOf("daily", DEFAULT_PARTS)!,
};

function wholeNumber(value: string, min: number, max: number, optional: boolean): string | undefined {
  if (value.trim() === "" && optional) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    return `Enter a whole number from ${min} to ${max}`;
  }
  return undefined;
}

export function ScheduleForm({ schedule, servers, onSaved, onCancel }: Props) {
  const { api, notify } = useApp();
  const creating = !schedule;
  const [values, setValues] = useState<Values>(() => ({
    name: schedule?.name ?? "",
    timezone: schedule?.timezone ?? browserTimeZone(),
    server_id: schedule?.server_id ?? "",
    database: schedule?.database ?? "",
    retention_days: schedule ? String(schedule.retention_days) : "",
    keep_last: schedule ? String(schedule.keep_last) : "",
    ...verifyChoiceOf(schedule?.verify_every),
    drill_target: targetValue(schedule?.drill_target),
    enabled: schedule?.enabled ?? true,
  }));
  const [cron, setCron] = useState<CronState>(() =>
    schedule ? cronStateOf(schedule.cron_expression) : NEW_CRON,
  );
  const [submitted, setSubmitted] = useState(false);
  // The API's 422 messages by field; a field's message goes when the field is changed.
  const [apiErrors, setApiErrors] = useState<Record<string, string>>({});
  const nameRef = useRef<HTMLInputElement>(null);
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => nameRef.current?.focus(), []);
  // After a refused submit, focus the first field that says what is wrong (once it is rendered).
  const [focusInvalid, setFocusInvalid] = useState(0);
  useEffect(() => {
    if (focusInvalid) formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [focusInvalid]);

  // New schedules start from the settings' retention defaults (left empty if they cannot be read:
  // the API then applies them itself).
  const settings = useLoad(() => (creating ? api.get("/api/settings") : Promise.resolve(null)), []);
  useEffect(() => {
    const s = settings.data;
    if (!s) return;
    setValues((v) => ({
      ...v,
      retention_days: v.retention_days || String(s.retention_days),
      keep_last: v.keep_last || String(s.keep_last),
    }));
  }, [settings.data]);

  const databases = useLoad(() => allDatabasesOf(api, values.server_id), [values.server_id]);

  const set = <K extends keyof Values>(key: K, value: Values[K]) => {
    setValues((v) => ({ ...v, [key]: value, ...(key === "server_id" ? { database: "" } : {}) }));
    setApiErrors(({ [key]: _gone, ...rest }) => rest);
  };

  const cronErrors = cronStateErrors(cron, values.timezone);
  const cronBlocked = Boolean(
    cronErrors.expression || cronErrors.timezone || Object.keys(cronErrors.parts).length > 0,
  );
  const localErrors: Record<string, string | undefined> = {
    name: values.name.trim() ? undefined : "Enter a name",
    retention_days: wholeNumber(values.retention_days, 1, 36500, creating),
    keep_last: wholeNumber(values.keep_last, 1, 1000, creating),
    verify_every: values.verify === "nth" ? wholeNumber(values.verify_n, 2, 1000, false) : undefined,
  };
  const errorOf = (field: string) => (submitted ? localErrors[field] : undefined) ?? apiErrors[field];

  const save = useAction(async () => {
    const body = {
      name: values.name.trim(),
      cron_expression: cron.expression.trim(),
      timezone: values.timezone.trim() as TimeZoneName,
      server_id: values.server_id || null,
      database: values.server_id && values.database ? values.database : null,
      ...(values.retention_days.trim() ? { retention_days: Number(values.retention_days) } : {}),
      ...(values.keep_last.trim() ? { keep_last: Number(values.keep_last) } : {}),
      verify_every: values.verify === "every" ? 1 : values.verify === "never" ? 0 : Number(values.verify_n),
      drill_target: targetOf(values.drill_target),
      enabled: values.enabled,
    } satisfies ScheduleBody;
    try {
      const saved = schedule
        ? await api.put("/api/schedules/{id}", { params: { id: schedule.id }, body })
        : await api.post("/api/schedules", { body });
      notify(`Schedule ${saved.name} ${schedule ? "saved" : "created"}`);
      onSaved(saved);
    } catch (error) {
      setApiErrors(fieldErrorsOf(error));
      throw error;
    }
  });

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setSubmitted(true);
    if (Object.values(localErrors).some(Boolean) || cronBlocked) {
      setFocusInvalid((n) => n + 1);
      return;
    }
    if (!(await save.run())) setFocusInvalid((n) => n + 1);
  };

  const dbList = databases.data ?? [];
  const title = schedule ? `Edit ${schedule.name}` : "New schedule";
  return (
    <section class="panel schedule-form" aria-labelledby="schedule-form-title">
      <h2 id="schedule-form-title">{title}</h2>
      <form ref={formRef} noValidate onSubmit={onSubmit}>
        <ErrorBanner error={save.error} onDismiss={save.clearError} />
        <Field label="Name" error={errorOf("name")}>
          {(a) => (
            <input
              {...a}
              ref={nameRef}
              maxLength={200}
              autocomplete="off"
              value={values.name}
              onInput={(e) => set("name", e.currentTarget.value)}
            />
          )}
        </Field>
        <CronBuilder
          state={cron}
          timezone={values.timezone}
          onChange={(next) => {
            setCron(next);
            setApiErrors(({ cron_expression: _gone, ...rest }) => rest);
          }}
          onTimezone={(tz) => set("timezone", tz)}
          apiErrors={{ cron_expression: apiErrors.cron_expression, timezone: apiErrors.timezone }}
        />
        <fieldset>
          <legend>What to back up</legend>
          <div class="form-grid">
            <Field label="Server" error={errorOf("server_id")}>
              {(a) => (
                <select
                  {...a}
                  value={values.server_id}
                  onChange={(e) => set("server_id", e.currentTarget.value)}
                >
                  <option value="">All servers</option>
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
              error={errorOf("database") ?? databases.error ?? undefined}
              hint={
                !values.server_id
                  ? "Every enabled database of every server, at each run."
                  : databases.data && dbList.length === 0
                    ? "No databases known on this server yet: sync its databases first."
                    : values.database
                      ? "Only this database, even while it is disabled."
                      : "Every enabled database of this server, at each run."
              }
            >
              {(a) => (
                <select
                  {...a}
                  value={values.database}
                  disabled={!values.server_id || databases.loading}
                  onChange={(e) => set("database", e.currentTarget.value)}
                >
                  <option value="">All databases{values.server_id ? " of this server" : ""}</option>
                  {dbList.map((d) => (
                    <option key={d.id} value={d.name}>
                      {d.name}
                      {d.enabled ? "" : " (disabled)"}
                      {d.vanished_at ? " (vanished)" : ""}
                    </option>
                  ))}
                  {/* The saved database stays selectable while the list loads, and if it is no longer listed. */}
                  {values.database && !dbList.some((d) => d.name === values.database) && (
                    <option value={values.database}>
                      {values.database}
                      {databases.data && !databases.loading ? " (not found)" : ""}
                    </option>
                  )}
                </select>
              )}
            </Field>
          </div>
        </fieldset>
        <fieldset>
          <legend>Retention of this schedule's backups</legend>
          <div class="form-grid">
            <Field
              label="Retention days"
              error={errorOf("retention_days")}
              hint="Each backup expires this many days after it was made."
            >
              {(a) => (
                <input
                  {...a}
                  type="number"
                  inputMode="numeric"
                  min={1}
                  max={36500}
                  value={values.retention_days}
                  onInput={(e) => set("retention_days", e.currentTarget.value)}
                />
              )}
            </Field>
            <Field
              label="Keep last"
              error={errorOf("keep_last")}
              hint="The newest completed backups of each database that are never expired."
            >
              {(a) => (
                <input
                  {...a}
                  type="number"
                  inputMode="numeric"
                  min={1}
                  max={1000}
                  value={values.keep_last}
                  onInput={(e) => set("keep_last", e.currentTarget.value)}
                />
              )}
            </Field>
          </div>
        </fieldset>
        <fieldset>
          <legend>Restore drills of this schedule's backups</legend>
          <div class="form-grid">
            <fieldset class="field">
              <legend>Drill</legend>
              <div>
                {(
                  [
                    ["every", "Every backup"],
                    ["nth", "Every Nth backup"],
                    ["never", "Never"],
                  ] as const
                ).map(([value, label]) => (
                  <label class="checkbox" key={value}>
                    <input
                      type="radio"
                      name="verify"
                      value={value}
                      checked={values.verify === value}
                      onChange={() => {
                        set("verify", value);
                        setApiErrors(({ verify_every: _gone, ...rest }) => rest);
                      }}
                    />
                    {label}
                  </label>
                ))}
              </div>
            </fieldset>
            {values.verify === "nth" && (
              <Field
                label="Drill every how many backups"
                error={errorOf("verify_every")}
                hint="Counted per database: 3 drills the 3rd, 6th, 9th… backup of each."
              >
                {(a) => (
                  <input
                    {...a}
                    type="number"
                    inputMode="numeric"
                    min={2}
                    max={1000}
                    value={values.verify_n}
                    onInput={(e) => set("verify_n", e.currentTarget.value)}
                  />
                )}
              </Field>
            )}
            <Field
              label="Drill target"
              error={errorOf("drill_target") ?? errorOf("drill_target.server_id")}
              hint="Where its drills restore: a throwaway server, or a server saved as a sandbox."
            >
              {(a) => (
                <select
                  {...a}
                  value={values.drill_target}
                  disabled={values.verify === "never"}
                  onChange={(e) => set("drill_target", e.currentTarget.value)}
                >
                  <TargetOptions
                    servers={servers}
                    current={values.drill_target}
                    defaultLabel="The settings' default"
                  />
                </select>
              )}
            </Field>
          </div>
        </fieldset>
        <label class="checkbox">
          <input
            type="checkbox"
            checked={values.enabled}
            onChange={(e) => set("enabled", e.currentTarget.checked)}
          />
          Enabled
        </label>
        <div class="actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={save.busy || cronBlocked}>
            {save.busy ? "Saving…" : schedule ? "Save schedule" : "Create schedule"}
          </button>
        </div>
        {cronBlocked && (
          <p class="hint form-blocked">
            Fix the schedule's timing above to {schedule ? "save" : "create"} it.
          </p>
        )}
      </form>
    </section>
  );
}
