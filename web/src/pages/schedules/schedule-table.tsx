// The schedules as a table: when (expression, words, zone), scope, retention, next and last run,
// and for operators the enabled switch, Edit and Delete.
import { formatTime, relativeTime } from "../../lib/format.ts";
import type { ScheduleView, Server } from "../../lib/types.ts";
import { inWords } from "./cron.ts";

type Props = {
  schedules: ScheduleView[];
  servers: Map<string, Server>;
  canChange: boolean;
  /** The id of the schedule whose switch is being flipped (its switch waits). */
  toggling: string | null;
  onToggle: (schedule: ScheduleView) => void;
  onEdit: (schedule: ScheduleView) => void;
  onDelete: (schedule: ScheduleView) => void;
};

function scopeOf(schedule: ScheduleView, servers: Map<string, Server>): string {
  if (!schedule.server_id) return "All servers";
  const server = servers.get(schedule.server_id)?.name ?? `server ${schedule.server_id}`;
  return schedule.database ? `${server} / ${schedule.database}` : `${server} (all databases)`;
}

function When({ at, timezone }: { at: string; timezone?: string }) {
  return (
    <>
      <time dateTime={at} title={formatTime(at, timezone) + (timezone ? ` ${timezone}` : "")}>
        {formatTime(at, timezone)}
      </time>
      <br />
      <span class="muted small-text">{relativeTime(at)}</span>
    </>
  );
}

export function ScheduleTable({
  schedules,
  servers,
  canChange,
  toggling,
  onToggle,
  onEdit,
  onDelete,
}: Props) {
  return (
    <div class="table-wrap">
      <table class="schedules-table">
        <caption class="sr-only">Schedules</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">When</th>
            <th scope="col">Scope</th>
            <th scope="col">Retention</th>
            <th scope="col">Next run</th>
            <th scope="col">Last run</th>
            <th scope="col">Enabled</th>
            {canChange && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {schedules.map((s) => (
            <tr key={s.id}>
              <th scope="row" class="schedule-name">
                {s.name}
                {s.stale_since && (
                  <p class="stale" title={`Stale since ${formatTime(s.stale_since)}`}>
                    <span class="badge badge-stale">Stale</span> no successful backup in its last two runs
                    (since {formatTime(s.stale_since)})
                  </p>
                )}
              </th>
              <td>
                <code>{s.cron_expression}</code>
                <br />
                <span>{inWords(s.cron_expression) ?? "—"}</span>
                <br />
                <span class="muted small-text">{s.timezone}</span>
              </td>
              <td>{scopeOf(s, servers)}</td>
              <td>
                {s.retention_days} {s.retention_days === 1 ? "day" : "days"}
                <br />
                <span class="muted small-text">keep last {s.keep_last}</span>
                <br />
                <span class="muted small-text">{drillsOf(s.verify_every ?? 1)}</span>
              </td>
              <td class="nowrap">
                {s.next_runs[0] ? (
                  <When at={s.next_runs[0]} timezone={s.timezone} />
                ) : (
                  <span class="muted">{s.enabled ? "None ahead" : "Disabled"}</span>
                )}
              </td>
              <td class="last-run">
                {s.last_run ? (
                  <>
                    <When at={s.last_run.at} />
                    <br />
                    <span class="small-text">
                      {s.last_run.backups_created} {s.last_run.backups_created === 1 ? "backup" : "backups"}{" "}
                      created
                    </span>
                    {s.last_run.error && <p class="error-text">{s.last_run.error}</p>}
                  </>
                ) : (
                  <span class="muted">Never</span>
                )}
              </td>
              <td>
                {canChange ? (
                  <button
                    type="button"
                    role="switch"
                    class="switch"
                    aria-checked={s.enabled}
                    aria-label={`Enabled ${s.name}`}
                    disabled={toggling === s.id}
                    onClick={() => onToggle(s)}
                  >
                    <span class="switch-track" aria-hidden="true">
                      <span class="switch-thumb" />
                    </span>
                    <span class="switch-text" aria-hidden="true">
                      {s.enabled ? "On" : "Off"}
                    </span>
                  </button>
                ) : s.enabled ? (
                  "Yes"
                ) : (
                  "No"
                )}
              </td>
              {canChange && (
                <td>
                  <div class="row-actions">
                    <button
                      type="button"
                      class="small"
                      aria-label={`Edit ${s.name}`}
                      onClick={() => onEdit(s)}
                    >
                      Edit
                    </button>
                    <button
                      type="button"
                      class="small"
                      aria-label={`Delete ${s.name}`}
                      onClick={() => onDelete(s)}
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
  );
}

/** verify_every in words: 1 every backup, N every Nth, 0 never. */
function drillsOf(every: number): string {
  if (every === 0) return "no drills";
  return every === 1 ? "drills every backup" : `drills one backup in ${every}`;
}
