// Dashboard: the figures an operator checks first, the latest backups, and a month of history.
import { useMemo } from "preact/hooks";
import { isActive } from "../../../functions/core/state-machine.ts";
import { DailyChart, type Series } from "../components/chart.tsx";
import { DrillBadge } from "../components/drills.tsx";
import { EmptyState, ErrorBanner, Loading, PageHeader, StatusBadge } from "../components/ui.tsx";
import { useApp } from "../lib/context.ts";
import { formatBytes, formatDuration, formatPercent, formatTime, relativeTime } from "../lib/format.ts";
import { useLoad } from "../lib/hooks.ts";
import { allServers } from "../lib/list-all.ts";
import type { Backup, DrillStats } from "../lib/types.ts";

const active = (b: Backup) => isActive(b.status);
const count = (n: number) => String(Math.round(n));

export function DashboardPage() {
  const { api } = useApp();
  const stats = useLoad(() => api.get("/api/stats"), [], {
    ms: 3000,
    // The document lists each status as optional: an absent one counts none.
    while: (s) => (s.backups.by_status.queued ?? 0) + (s.backups.by_status.running ?? 0) > 0,
  });
  const recent = useLoad(
    () => Promise.all([api.get("/api/backups", { query: { limit: 8 } }), allServers(api)]),
    [],
    { ms: 3000, while: ([backups]) => backups.items.some(active) },
  );
  const serverName = useMemo(
    () => new Map((recent.data?.[1] ?? []).map((s) => [s.id, s.name])),
    [recent.data],
  );
  const history = stats.data?.history;
  const charts = useMemo(() => {
    if (!history) return null;
    const days = history.map((d) => Date.parse(`${d.date}T00:00:00Z`) / 1000);
    const stored: Series[] = [
      { label: "Stored", values: history.map((d) => d.bytes_stored), color: "#0b5cad" },
    ];
    const outcomes: Series[] = [
      { label: "Completed", values: history.map((d) => d.completed), color: "#1a7f37", bars: true },
      { label: "Failed", values: history.map((d) => d.failed), color: "#cf222e", bars: true },
    ];
    const completed = history.reduce((n, d) => n + d.completed, 0);
    const failed = history.reduce((n, d) => n + d.failed, 0);
    return { days, stored, outcomes, completed, failed, last: history.at(-1)?.bytes_stored ?? 0 };
  }, [history]);

  const s = stats.data;
  const drills = s?.drills;
  return (
    <section>
      <PageHeader title="Dashboard">
        <a class="button" href="/backups">
          Backups
        </a>
      </PageHeader>
      <ErrorBanner error={stats.error} />
      {!s && !stats.error && <Loading what="figures" />}
      {s && (
        <div class="cards">
          <Card
            title="Servers"
            figure={count(s.servers)}
            sub={s.servers === 0 ? "add one in Settings" : "registered"}
          />
          <Card
            title="Databases"
            figure={`${s.databases.enabled}`}
            sub={`enabled of ${s.databases.total} discovered`}
          />
          <Card
            title="Backups"
            figure={count(s.backups.by_status.completed ?? 0)}
            sub={`completed · ${s.backups.by_status.failed ?? 0} failed · ${(s.backups.by_status.running ?? 0) + (s.backups.by_status.queued ?? 0)} in progress`}
          />
          <Card title="Stored" figure={formatBytes(s.bytes_stored)} sub="in completed backups" />
          <Card
            title="Success rate"
            figure={formatPercent(s.success_rate.last_24h.rate)}
            sub={`last 24 h · ${formatPercent(s.success_rate.last_7d.rate)} over 7 days`}
          />
          {drills && (
            <Card
              title="Proven restorable"
              figure={formatPercent(drills.share)}
              sub={`${drills.proven_databases} of ${drills.managed_databases} databases · oldest proof ${drills.oldest_proof_at ? relativeTime(drills.oldest_proof_at) : "none yet"}`}
            />
          )}
          <Card
            title="Next run"
            figure={s.next_runs[0] ? relativeTime(s.next_runs[0].at) : "—"}
            sub={s.next_runs[0] ? s.next_runs[0].name : `${s.schedules.enabled} schedules enabled`}
          />
        </div>
      )}
      {s && s.servers === 0 && (
        <EmptyState title="No servers yet">
          <p>
            Add a MongoDB server in <a href="/settings">Settings</a>, sync its databases, then back one up
            from <a href="/backups">Backups</a>.
          </p>
        </EmptyState>
      )}
      <div class="panels">
        <div class="panel">
          <h2>Recent backups</h2>
          <ErrorBanner error={recent.error} />
          {recent.data && recent.data[0].items.length === 0 && (
            <p class="muted">
              No backups yet. Start one from <a href="/backups">Backups</a>, or add a schedule in{" "}
              <a href="/schedules">Schedules</a>.
            </p>
          )}
          {recent.data && recent.data[0].items.length > 0 && (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Database</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="num">
                      Size
                    </th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {recent.data[0].items.map((b) => (
                    <tr key={b.id}>
                      <td>
                        {b.database}
                        <div class="muted">{serverName.get(b.server_id) ?? b.server_id}</div>
                      </td>
                      <td>
                        <StatusBadge status={b.status} />
                      </td>
                      <td class="num">{formatBytes(b.size_bytes ?? b.progress?.bytes ?? null)}</td>
                      <td title={formatTime(b.created_at)}>{relativeTime(b.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
        <div class="panel">
          <h2>Next runs</h2>
          {s && s.next_runs.length === 0 && (
            <p class="muted">
              No enabled schedules. <a href="/schedules">Create a schedule</a> to back up on a timetable.
            </p>
          )}
          {s && s.next_runs.length > 0 && (
            <ul class="plain-list">
              {s.next_runs.map((run) => (
                <li key={`${run.schedule_id}-${run.at}`}>
                  <strong>{run.name}</strong> <span title={formatTime(run.at)}>{relativeTime(run.at)}</span>{" "}
                  <span class="muted">({formatTime(run.at)})</span>
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
      {drills && drills.databases.length > 0 && (
        <RecoveryTimes drills={drills} serverName={(id) => serverName.get(id) ?? id} />
      )}
      <div class="panels">
        {charts && (
          <div class="panel">
            <h2>Stored over 30 days</h2>
            <DailyChart
              title="Stored bytes per day"
              summary={`${formatBytes(charts.last)} held today by the backups that still exist`}
              days={charts.days}
              series={charts.stored}
              formatValue={formatBytes}
            />
          </div>
        )}
        {charts && (
          <div class="panel">
            <h2>Outcomes per day</h2>
            <DailyChart
              title="Completed and failed backups per day"
              summary={`${charts.completed} completed and ${charts.failed} failed in 30 days`}
              days={charts.days}
              series={charts.outcomes}
              formatValue={count}
              integer
            />
          </div>
        )}
      </div>
    </section>
  );
}

function Card({ title, figure, sub }: { title: string; figure: string; sub: string }) {
  return (
    <div class="card">
      <h2>{title}</h2>
      <p class="figure">{figure}</p>
      <p class="sub">{sub}</p>
    </div>
  );
}

/** Each managed database's last measured recovery time: how long its last passing drill's restore took. */
function RecoveryTimes({ drills, serverName }: { drills: DrillStats; serverName: (id: string) => string }) {
  return (
    <div class="panel panel-spaced">
      <h2>Recovery time per database</h2>
      <div class="table-wrap">
        <table aria-label="Recovery time per database">
          <thead>
            <tr>
              <th scope="col">Database</th>
              <th scope="col">Newest backup's drill</th>
              <th scope="col">Last passing drill</th>
              <th scope="col" class="num">
                Recovery time
              </th>
            </tr>
          </thead>
          <tbody>
            {drills.databases.map((d) => (
              <tr key={`${d.server_id}/${d.database}`} data-database={d.database}>
                <th scope="row">
                  {d.database}
                  <div class="muted">{serverName(d.server_id)}</div>
                </th>
                <td>
                  {d.status === "no_backup" ? (
                    <span class="muted">no completed backup</span>
                  ) : (
                    <DrillBadge state={d.status === "not_yet" ? "not yet" : d.status} />
                  )}
                </td>
                <td>
                  {d.last_verified_at ? (
                    <span title={formatTime(d.last_verified_at)}>{relativeTime(d.last_verified_at)}</span>
                  ) : (
                    <span class="muted">never</span>
                  )}
                </td>
                <td class="num">{formatDuration(d.recovery_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
