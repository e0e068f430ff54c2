// The dispatcher: starts queued backups while the concurrency limits of the settings allow, oldest
// first. A backup handed to the runner gets its runner_ref at once, so it counts against the limits
// (and is not handed over again) even before its task has claimed it.
//
// Two dispatchers running at once (two Lambda invocations) may both start a job near a limit and
// overshoot it by one; each job still runs once, because a task claims its job with a conditional
// transition. We accept that rather than serialise every dispatch through a lock.
import type { Backup } from "../entities.ts";
import { type CoreDeps, listAll } from "./deps.ts";
import { startJob } from "./jobs.ts";
import { currentSettings } from "./settings.ts";

export async function dispatch(deps: CoreDeps): Promise<{ started: string[] }> {
  if (!deps.runner) return { started: [] };
  const { concurrency } = await currentSettings(deps);
  const list = deps.store.backups.list.bind(deps.store.backups);
  const [running, queued] = await Promise.all([
    listAll(list, { status: "running" }),
    listAll(list, { status: "queued" }),
  ]);
  const active = [...running, ...queued.filter((b) => b.runner_ref)];
  const perServer = new Map<string, number>();
  for (const b of active) perServer.set(b.server_id, (perServer.get(b.server_id) ?? 0) + 1);
  let total = active.length;
  const started: string[] = [];
  const waiting: Backup[] = queued.filter((b) => !b.runner_ref).reverse(); // oldest first
  for (const backup of waiting) {
    if (total >= concurrency.total) break;
    if ((perServer.get(backup.server_id) ?? 0) >= concurrency.per_server) continue;
    await startJob(deps, { kind: "backup", id: backup.id });
    perServer.set(backup.server_id, (perServer.get(backup.server_id) ?? 0) + 1);
    total++;
    started.push(backup.id);
  }
  return { started };
}
