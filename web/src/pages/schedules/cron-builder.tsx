// "When": a preset writes the 5-field expression, which can also be typed; beside it, the expression
// in words and the next five runs in the chosen zone, recomputed on every keystroke.
import { useMemo } from "preact/hooks";
import { Field } from "../../components/ui.tsx";
import { formatTime } from "../../lib/format.ts";
import {
  type CronState,
  cronStateErrors,
  detectPreset,
  expressionOf,
  inWords,
  type Parts,
  PRESETS,
  type Preset,
  partsOf,
  timeZones,
  upcoming,
  WEEKDAYS,
} from "./cron.ts";

type Props = {
  state: CronState;
  timezone: string;
  onChange: (state: CronState) => void;
  onTimezone: (timezone: string) => void;
  /** The API's 422 messages for cron_expression and timezone, shown until the field changes. */
  apiErrors: { cron_expression?: string | undefined; timezone?: string | undefined };
};

const PART_LABELS: Record<keyof Parts, string> = {
  minute: "Minute",
  hour: "Hour",
  weekday: "Day of week",
  day: "Day of month",
};

const PART_HINTS: Partial<Record<keyof Parts, string>> = {
  hour: "0–23, 24-hour clock",
};

export function CronBuilder({ state, timezone, onChange, onTimezone, apiErrors }: Props) {
  const errors = cronStateErrors(state, timezone);
  const words = useMemo(
    () => (errors.expression ? null : inWords(state.expression)),
    [state.expression, errors.expression],
  );
  const runs = useMemo(
    () => (errors.expression || errors.timezone ? [] : upcoming(state.expression, timezone)),
    [state.expression, timezone, errors.expression, errors.timezone],
  );

  const choosePreset = (preset: Preset) => {
    // Custom keeps the current expression to edit; the others write theirs from the parts.
    onChange({
      preset,
      parts: state.parts,
      expression: expressionOf(preset, state.parts) ?? state.expression,
    });
  };
  const setPart = (part: keyof Parts, value: string) => {
    const parts = { ...state.parts, [part]: value };
    // While a part is invalid the expression keeps its last good value; the part shows the error.
    onChange({
      preset: state.preset,
      parts,
      expression: expressionOf(state.preset, parts) ?? state.expression,
    });
  };
  const typeExpression = (expression: string) => {
    // Typing what a preset would write selects that preset, except when Custom was chosen on purpose.
    if (state.preset === "custom") onChange({ ...state, expression });
    else onChange({ ...detectPreset(expression), expression });
  };

  const dayHint =
    state.preset === "monthly" && Number(state.parts.day) > 28
      ? "Months without this day are skipped."
      : undefined;

  return (
    <fieldset class="cron-builder">
      <legend>When</legend>
      <div class="cron-grid">
        <div class="cron-controls">
          <Field label="Repeat">
            {(a) => (
              <select
                {...a}
                value={state.preset}
                onChange={(e) => choosePreset(e.currentTarget.value as Preset)}
              >
                {PRESETS.map((p) => (
                  <option key={p.value} value={p.value}>
                    {p.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {partsOf(state.preset).length > 0 && (
            <div class="cron-parts">
              {partsOf(state.preset).map((part) => (
                <Field
                  key={part}
                  label={PART_LABELS[part]}
                  error={errors.parts[part]}
                  hint={
                    part === "day"
                      ? dayHint
                      : part === "minute" && state.preset === "hourly"
                        ? "Past every hour, 0–59"
                        : PART_HINTS[part]
                  }
                >
                  {(a) =>
                    part === "weekday" ? (
                      <select
                        {...a}
                        value={state.parts.weekday}
                        onChange={(e) => setPart(part, e.currentTarget.value)}
                      >
                        {WEEKDAYS.map((name, i) => (
                          <option key={name} value={String(i)}>
                            {name}
                          </option>
                        ))}
                      </select>
                    ) : (
                      <input
                        {...a}
                        type="number"
                        inputMode="numeric"
                        min={part === "day" ? 1 : 0}
                        max={part === "minute" ? 59 : part === "hour" ? 23 : 31}
                        step={1}
                        class="cron-number"
                        value={state.parts[part]}
                        onInput={(e) => setPart(part, e.currentTarget.value)}
                      />
                    )
                  }
                </Field>
              ))}
            </div>
          )}
          <Field
            label="Cron expression"
            error={errors.expression ?? apiErrors.cron_expression}
            hint="minute hour day-of-month month day-of-week; a day matches when either day field does"
          >
            {(a) => (
              <input
                {...a}
                class="mono"
                autocomplete="off"
                spellcheck={false}
                value={state.expression}
                onInput={(e) => typeExpression(e.currentTarget.value)}
              />
            )}
          </Field>
          <Field
            label="Timezone"
            error={errors.timezone ?? apiErrors.timezone}
            hint="IANA name; runs follow its clock and daylight saving"
          >
            {(a) => (
              <input
                {...a}
                list="schedule-time-zones"
                autocomplete="off"
                spellcheck={false}
                value={timezone}
                onInput={(e) => onTimezone(e.currentTarget.value)}
              />
            )}
          </Field>
          <datalist id="schedule-time-zones">
            {timeZones().map((zone) => (
              <option key={zone} value={zone} />
            ))}
          </datalist>
        </div>
        <section class="cron-preview" aria-label="Preview">
          <h3>In words</h3>
          <p class="cron-words">
            {errors.expression ? (
              <span class="muted plain">Fix the expression to see it in words.</span>
            ) : (
              (words ?? "—")
            )}
          </p>
          <h3>Next 5 runs</h3>
          {runs.length > 0 ? (
            <ol class="cron-runs">
              {runs.map((iso) => (
                <li key={iso}>
                  <time dateTime={iso}>{formatTime(iso, timezone)}</time>{" "}
                  <span class="muted">{timezone}</span>
                </li>
              ))}
            </ol>
          ) : (
            <p class="muted">
              {errors.expression
                ? "Fix the expression to see the next runs."
                : errors.timezone
                  ? "Fix the timezone to see the next runs."
                  : "No runs ahead."}
            </p>
          )}
        </section>
      </div>
    </fieldset>
  );
}
