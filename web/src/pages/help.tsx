// /help: how the system behaves, in the words of the README (nothing here is promised that the code
// does not do), with a table of contents of in-page links.
import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";
import { ErrorBanner, PageHeader } from "../components/ui.tsx";
import { useApp } from "../lib/context.ts";
import { useAction } from "../lib/hooks.ts";
import "./help.css";

const SECTIONS = [
  ["backups", "How backups work"],
  ["schedules", "Schedules"],
  ["retention", "Retention"],
  ["restores", "Restores"],
  ["drills", "Restore drills"],
  ["imports", "Importing existing dumps"],
  ["alerts", "Alerts"],
  ["roles", "Roles"],
  ["api", "The API"],
] as const;

function Section({ id, title, children }: { id: string; title: string; children: ComponentChildren }) {
  return (
    <section class="help-section" aria-labelledby={id}>
      <h2 id={id} tabIndex={-1}>
        {title}
      </h2>
      {children}
    </section>
  );
}

export function HelpPage() {
  const { api } = useApp();
  // Fetched with the session's token and saved as a file: the document is behind auth like every route.
  const openApi = useAction(async () => {
    const doc = await api.openApiDocument();
    const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = "openapi.json";
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  // Local mode serves the API from this origin; a deployment's config.json names the API's own URL.
  const apiBase = `${api.baseUrl || location.origin}/api`;
  // Arriving from another page at /help#section: the router renders the page but does not scroll, and
  // the shell focuses the page title; move focus (and the view) to the section asked for instead.
  useEffect(() => {
    const id = decodeURIComponent(location.hash.slice(1));
    if (!SECTIONS.some(([section]) => section === id)) return;
    const timer = setTimeout(() => document.getElementById(id)?.focus(), 0);
    return () => clearTimeout(timer);
  }, []);
  return (
    <article class="help">
      <PageHeader title="Help" />
      <p class="lead">
        This console manages backups of your MongoDB servers: add a server, sync its databases, back them up
        by hand or on a schedule, and restore them. Everything it does goes through the same HTTPS API you can
        call yourself.
      </p>

      <nav class="help-toc" aria-label="On this page">
        <h2 class="toc-title">On this page</h2>
        <ol>
          {SECTIONS.map(([id, title]) => (
            <li key={id}>
              <a href={`#${id}`}>{title}</a>
            </li>
          ))}
        </ol>
      </nav>

      <Section id="backups" title="How backups work">
        <p>
          A backup is one database of one server. A task (a Fargate task on AWS, a child process in local
          mode) runs <code>mongodump --archive</code> and streams its output through compression (zstd unless
          the request asks for gzip or none) and a SHA-256 and size check straight into the blob store: S3 on
          AWS, files in the data directory in local mode.
        </p>
        <p>
          The archive is only kept once <code>mongodump</code> has exited cleanly and dumped at least one
          collection, so a failed or empty dump never leaves an object behind. The record then holds the size,
          the SHA-256, the duration, the tool version and the documents per collection.
        </p>
        <p>Every backup moves through these statuses:</p>
        <ul>
          <li>
            <strong>queued</strong>: waiting its turn. Queued backups start oldest first while the concurrency
            limits in Settings allow (by default 2 per server and 10 in total).
          </li>
          <li>
            <strong>running</strong>: the task is dumping. Its progress (bytes written so far) is updated
            every few seconds and shown live in the console.
          </li>
          <li>
            <strong>completed</strong> or <strong>failed</strong>: failed backups keep a readable reason
            (wrong password, unreachable host, the tool exiting with an error, …). A task that goes silent for
            longer than the heartbeat timeout (Settings, default 15 minutes) is marked failed.
          </li>
          <li>
            <strong>cancelled</strong>: someone cancelled it while queued or running; the task stops and
            removes anything it had uploaded.
          </li>
        </ul>
        <p>
          A manual backup covers every enabled database of every server, every enabled database of one server,
          or one database you name (even a disabled one). A completed backup can be downloaded through a link
          that is valid for 15 minutes.
        </p>
      </Section>

      <Section id="schedules" title="Schedules">
        <p>
          A schedule runs on a standard 5-field cron expression (
          <code>minute hour day-of-month month day-of-week</code>), read in the schedule's own IANA time zone,
          so <code>0 2 * * *</code> in <code>Europe/Berlin</code> means 02:00 Berlin time all year. When both
          day fields are restricted, a day matches if <em>either</em> does, as in classic cron. A fixed time
          that daylight saving skips runs at the end of the gap, and a time that happens twice runs once.
        </p>
        <p>
          Each run queues one backup per database in its scope: every enabled database of every server, of one
          server, or the one database it names. Databases found by a later sync are included from the next
          run; disabled ones are not. Each of these backups expires after the schedule's retention days. A run
          that is delivered twice creates its backups only once. Deleting a schedule keeps the backups it
          made.
        </p>
        <p>
          A schedule is marked <strong>stale</strong> when two runs in a row brought no successful backup. It
          is announced once (see <a href="#alerts">Alerts</a>), shown with a warning in the list, and cleared
          by the next success. In local mode, runs missed while local mode was stopped are not made up; the
          stale warning reports the gap.
        </p>
        <p>
          The schedule form shows the expression in words and its next five runs as you type, checked with the
          same rules the API uses. On AWS, an expression that EventBridge Scheduler cannot express (such as
          both day fields restricted together) is refused with the reason.
        </p>
      </Section>

      <Section id="retention" title="Retention">
        <p>
          Retention runs once a day (in local mode a minute after start, then every 24 hours) and deletes
          backups whose expiry has passed: the archive first, then the record, each with an audit entry. A
          backup expires its <strong>retention days</strong> after it was made: the schedule's for scheduled
          backups, the settings' for manual ones.
        </p>
        <p>Never deleted, whatever their age:</p>
        <ul>
          <li>backups that are queued or running;</li>
          <li>backups that a queued or running restore is reading;</li>
          <li>
            the newest <strong>keep last</strong> completed backups of each server and database. The number
            used is the largest of the setting and of every schedule that covers that database: the most
            protective wins, so one schedule's small number never undoes another's promise.
          </li>
        </ul>
        <p>
          Failed and cancelled backups never count toward keep last and go when they expire. To see what the
          next run would delete and why, call <code>GET /api/retention/preview</code>.
        </p>
      </Section>

      <Section id="restores" title="Restores">
        <p>
          A restore takes a completed backup and loads it into a server. The form proposes the backup's own
          server and <code>&lt;database&gt;_restored</code>, so nothing is overwritten unless you choose to.
          Restore into a <strong>new database name</strong> to inspect a copy beside the live one, or{" "}
          <strong>over an existing database</strong>. Restoring over the very database the backup came from
          needs <strong>drop</strong>: each restored collection is dropped first, since otherwise the restore
          would stop at the first duplicate key, half done. You can restore all collections or a chosen subset
          (each must be in the backup).
        </p>
        <p>
          Every restore is <strong>verified</strong> first: the archive is read once to check its SHA-256 and
          size against the record, and only then read again and fed to <code>mongorestore</code>. A damaged or
          altered archive never reaches the target. Restores start at once (they do not wait for the backup
          concurrency limits) and show their progress live.
        </p>
      </Section>

      <Section id="drills" title="Restore drills">
        <p>
          A SHA-256 proves that an archive holds the bytes that were written, not that they restore. A drill
          restores a completed backup into a throwaway target, then checks that every collection has the
          documents the backup recorded, that every index the archive lists exists, and that MongoDB's{" "}
          <code>validate</code> passes where the server supports it. It cleans up whatever happened and keeps
          the proof on the backup: its page shows it per collection, with the recovery time (how long the
          restore took).
        </p>
        <p>
          The target is a throwaway server the task starts itself (the default), or a server marked{" "}
          <strong>Sandbox for restore drills</strong> in Settings, where the drill creates a scratch database{" "}
          <code>mbm_drill_…</code> and drops it afterwards. No server is a sandbox unless marked so. Schedules
          drill every backup they make unless told every Nth or never; <strong>Verify now</strong> on a
          backup's page drills it once. A database whose newest passing drill is older than the age set in
          Settings raises an alert.
        </p>
      </Section>

      <Section id="imports" title="Importing existing dumps">
        <p>
          Backups made elsewhere (a <code>mongodump --archive</code> file, gzip, zstd or plain, or a{" "}
          <code>.tar.gz</code> of a <code>mongodump --out</code> directory) become backups here: put the file
          under <code>imports/</code> (in the product's bucket on AWS, under the data directory locally) and
          use <strong>Import a dump</strong> on the Backups page with the server and database it is of. The
          import is then listed, restored, drilled and expired like any backup; the file stays where it was,
          and the same file cannot be imported twice.
        </p>
        <p>
          <strong>Restore latest</strong> on a database row in Settings restores its newest completed backup
          (or the newest one a drill proved) without picking it from a list; the console names the backup
          chosen.
        </p>
      </Section>

      <Section id="alerts" title="Alerts">
        <p>
          Failed backups, failed restores and stale schedules are sent to the <strong>webhook URL</strong> in
          Settings as JSON (<code>text</code>, <code>event</code>, <code>time</code>, <code>detail</code>);{" "}
          <code>text</code> is what Slack shows. Settings has a button to send a test message. A delivery is
          retried 3 times on server errors (5xx), 408, 429 and network errors; a delivery that still fails is
          written to the audit log, and <code>/api/health</code> reports the channel as failing until a later
          delivery succeeds.
        </p>
        <p>
          On AWS the same alerts also go to the SNS topic, and every event (<code>BackupCompleted</code>,{" "}
          <code>BackupFailed</code>, <code>RestoreCompleted</code>, <code>RestoreFailed</code>,{" "}
          <code>ScheduleStale</code>) is published on the EventBridge bus; in local mode events are log lines.
          Cancelled jobs are not announced: someone asked for them.
        </p>
      </Section>

      <Section id="roles" title="Roles">
        <ul>
          <li>
            <strong>Operators</strong> change things: servers, databases, backups, schedules, restores and
            settings. On AWS they are the members of the Cognito group <code>operators</code>; in local mode,
            the holder of the token that <code>npm start</code> printed.
          </li>
          <li>
            <strong>Viewers</strong> (anyone else signed in, or the local read-only token) see everything and
            may download backups, but cannot change anything: the console hides those controls and the API
            answers 403.
          </li>
        </ul>
        <p>Every change made through the API is recorded in the audit log with who made it.</p>
      </Section>

      <Section id="api" title="The API">
        <p>
          Everything the console does is available over HTTPS. The base URL is <code>{apiBase}</code>, and
          every request needs an <code>Authorization: Bearer &lt;token&gt;</code> header (locally, the token{" "}
          <code>npm start</code> printed; it is kept in <code>DATA_DIR/api-token</code>). The full description
          is the OpenAPI document at{" "}
          <a href={`${apiBase}/openapi.json`} target="_blank" rel="noopener">
            {apiBase}/openapi.json
          </a>
          , which needs the token too (a plain link answers 401), so the console can fetch it for you:
        </p>
        <p>
          <button type="button" onClick={() => void openApi.run()} disabled={openApi.busy}>
            {openApi.busy ? "Downloading…" : "Download the OpenAPI document"}
          </button>
        </p>
        <ErrorBanner error={openApi.error} onDismiss={openApi.clearError} />
        <p>
          For example, to list the schedules (with the token in <code>$TOKEN</code>):
        </p>
        <pre class="help-code">
          <code>{`curl -H "Authorization: Bearer $TOKEN" ${apiBase}/schedules`}</code>
        </pre>
        <p>
          Lists answer <code>{"{ items, next_cursor }"}</code>, newest first; pass <code>limit</code> (up to
          100) and the <code>cursor</code> from the previous page. Errors answer{" "}
          <code>{"{ error: { code, message, details } }"}</code>; for invalid values (422),{" "}
          <code>details</code> names every bad field.
        </p>
      </Section>
    </article>
  );
}
