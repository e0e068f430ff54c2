// What the pages show of restore drills: a backup's drill badge, its per-collection proof, and the
// drill-target choice (a throwaway server, or a server saved as a sandbox).
import type { Backup, Drill, DrillTarget, Server, Verification } from "../lib/types.ts";

/** A backup's drill state in one word; "running" needs the drills list, so callers pass it. */
export type DrillState = "passed" | "failed" | "not yet" | "running";

export function drillStateOf(backup: Backup, activeDrill: Drill | undefined): DrillState | null {
  if (backup.status !== "completed") return null;
  if (activeDrill) return "running";
  return backup.verification?.status ?? "not yet";
}

const STATE_TITLE: Record<DrillState, string> = {
  passed: "The latest restore drill restored this backup and proved it",
  failed: "The latest restore drill of this backup failed",
  "not yet": "No restore drill has proved this backup yet",
  running: "A restore drill of this backup is queued or running",
};

export function DrillBadge({ state }: { state: DrillState }) {
  const css = { passed: "completed", failed: "failed", "not yet": "cancelled", running: "running" }[state];
  return (
    <span class={`badge badge-${css}`} title={STATE_TITLE[state]} data-drill={state}>
      drill: {state}
    </span>
  );
}

export function ImportedTag({ from }: { from: string | null | undefined }) {
  return (
    <span class="tag" title={from ? `imported from ${from}` : "imported from an existing dump"}>
      imported
    </span>
  );
}

/** How a stored target reads: "ephemeral" or "sandbox:<server id>" (the verification's label) too. */
export function targetLabel(target: DrillTarget | string, serverName: (id: string) => string): string {
  const label =
    typeof target === "string"
      ? target
      : target.kind === "sandbox"
        ? `sandbox:${target.server_id}`
        : "ephemeral";
  if (label === "ephemeral") return "a throwaway server in the task";
  if (label.startsWith("sandbox:")) return `sandbox ${serverName(label.slice("sandbox:".length))}`;
  return label;
}

/** A select's value for a target: "" (none chosen: a default applies), "ephemeral", "sandbox:<id>". */
export function targetValue(target: DrillTarget | null | undefined): string {
  if (!target) return "";
  return target.kind === "sandbox" ? `sandbox:${target.server_id}` : "ephemeral";
}

export function targetOf(value: string): DrillTarget | null {
  if (value === "ephemeral") return { kind: "ephemeral" };
  if (value.startsWith("sandbox:")) return { kind: "sandbox", server_id: value.slice("sandbox:".length) };
  return null;
}

/**
 * The options of a drill-target select. `defaultLabel` adds a first "" option (the default
 * applies); a saved sandbox no longer marked as one stays listed, so the form shows what is stored.
 */
export function TargetOptions({
  servers,
  current,
  defaultLabel,
}: {
  servers: Server[];
  current: string;
  defaultLabel?: string;
}) {
  const sandboxes = servers.filter((s) => s.sandbox);
  const currentId = current.startsWith("sandbox:") ? current.slice("sandbox:".length) : null;
  const stale = currentId !== null && !sandboxes.some((s) => s.id === currentId);
  return (
    <>
      {defaultLabel !== undefined && <option value="">{defaultLabel}</option>}
      <option value="ephemeral">Throwaway server in the task (ephemeral)</option>
      {sandboxes.map((s) => (
        <option key={s.id} value={`sandbox:${s.id}`}>
          Sandbox: {s.name}
        </option>
      ))}
      {stale && (
        <option value={current}>
          Sandbox: {servers.find((s) => s.id === currentId)?.name ?? "a deleted server"} (no longer a sandbox)
        </option>
      )}
    </>
  );
}

const VALID_TEXT: Record<Verification["collections"][string]["valid"], string> = {
  valid: "valid",
  invalid: "invalid",
  "not supported by this server": "not supported by this server",
  "not run": "not run",
};

/** The drill's proof per collection: counts, indexes and `validate`, with what differs marked. */
export function VerificationTable({ verification }: { verification: Verification }) {
  const names = Object.keys(verification.collections).sort();
  if (names.length === 0) return <p class="muted">The drill recorded no collections.</p>;
  return (
    <div class="table-wrap">
      <table class="verification-table" aria-label="What the drill restored, per collection">
        <thead>
          <tr>
            <th scope="col">Collection</th>
            <th scope="col" class="num">
              Documents expected
            </th>
            <th scope="col" class="num">
              Documents restored
            </th>
            <th scope="col">Indexes expected</th>
            <th scope="col">Indexes restored</th>
            <th scope="col">Validate</th>
          </tr>
        </thead>
        <tbody>
          {names.map((name) => {
            const c = verification.collections[name];
            if (!c) return null;
            const countsDiffer = c.expected !== c.restored;
            const missing = c.indexes_expected.filter((i) => !c.indexes_restored.includes(i));
            return (
              <tr key={name} data-collection={name}>
                <th scope="row">{name}</th>
                <td class="num">{c.expected ?? "—"}</td>
                <td class={`num${countsDiffer ? " error-text" : ""}`}>{c.restored ?? "—"}</td>
                <td>{c.indexes_expected.join(", ") || "—"}</td>
                <td>
                  {c.indexes_restored.join(", ") || "—"}
                  {missing.length > 0 && <div class="error-text">missing: {missing.join(", ")}</div>}
                </td>
                <td class={c.valid === "invalid" ? "error-text" : c.valid === "valid" ? "" : "muted"}>
                  {VALID_TEXT[c.valid]}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
