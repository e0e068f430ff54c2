// The dispatcher: starts queued backups (imports among them) and restore drills while the
// concurrency limits of the settings allow, oldest first. A job handed to the runner gets its
// runner_ref at once, so it counts against the limits (and is not handed over again) even before
// its task has claimed it.
//
// What a job counts against: `total` counts every backup and drill; `per_server` counts a backup
// against its server and a sandbox drill against the sandbox it restores into. An ephemeral drill
// touches no registered server (it reads the blob store and restores into its own throwaway
// server), so only `total` rations it. Restores are not rationed: someone is waiting for each one.
//
// Two dispatchers running at once (two Lambda invocations) may both start a job near a limit and
// overshoot it by one; each job still runs once, because a task claims its job with a conditional
// transition. We accept that rather than serialise every dispatch through a lock.
import type { Backup, Drill } from "../entities.ts";
import type { JobRef } from "../ports.ts";
import { type CoreDeps, listAll } from "./deps.ts";
import { backupJob, startJob } from "./jobs.ts";
import { currentSettings } from "./settings.ts";

interface Rationed {
  job: JobRef;
  id: string;
  /** The registered server it loads, if any. */
  server: string | undefined;
  runner_ref: string | null;
}

const ofBackup = (b: Backup): Rationed => ({
  job: backupJob(b),
  id: b.id,
  server: b.server_id,
  runner_ref: b.runner_ref,
});
const ofDrill = (d: Drill): Rationed => ({
  job: { kind: "verify", id: d.id },
  id: d.id,
  server: d.target.kind === "sandbox" ? d.target.server_id : undefined,
  runner_ref: d.runner_ref,
});

export async function dispatch(deps: CoreDeps): Promise<{ started: string[] }> {
  if (!deps.runner) return { started: [] };
  const { concurrency } = await currentSettings(deps);
  const backups = deps.store.backups.list.bind(deps.store.backups);
  const drills = deps.store.drills.list.bind(deps.store.drills);
  const [running, queued, drillsRunning, drillsQueued] = await Promise.all([
    listAll(backups, { status: "running" }),
    listAll(backups, { status: "queued" }),
    listAll(drills, { status: "running" }),
    listAll(drills, { status: "queued" }),
  ]);
  const handed = <T extends { runner_ref: string | null }>(jobs: T[]) => jobs.filter((j) => j.runner_ref);
  const notHanded = <T extends { runner_ref: string | null }>(jobs: T[]) => jobs.filter((j) => !j.runner_ref);
  const active = [
    ...[...running, ...handed(queued)].map(ofBackup),
    ...[...drillsRunning, ...handed(drillsQueued)].map(ofDrill),
  ];
  const perServer = new Map<string, number>();
  const count = (server: string | undefined) => (server ? (perServer.get(server) ?? 0) : 0);
  for (const j of active) if (j.server) perServer.set(j.server, count(j.server) + 1);
  let total = active.length;
  const started: string[] = [];
  // Ids are UUIDv7 (time-ordered): ascending id is oldest first across both kinds.
  const waiting = [...notHanded(queued).map(ofBackup), ...notHanded(drillsQueued).map(ofDrill)].sort(
    (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  for (const candidate of waiting) {
    if (total >= concurrency.total) break;
    if (candidate.server && count(candidate.server) >= concurrency.per_server) continue;
    await startJob(deps, candidate.job);
    if (candidate.server) perServer.set(candidate.server, count(candidate.server) + 1);
    total++;
    started.push(candidate.id);
  }
  return { started };
}
