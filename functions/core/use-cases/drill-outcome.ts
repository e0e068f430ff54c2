// A restore drill's end, whoever records it (the task, or the reaper and task-state handler when the
// task died): the proof goes on the backup, an audit entry keeps the history, the outcome is announced.
import type { Drill, Verification } from "../entities.ts";
import { drillEvent } from "../events.ts";
import { newId, nowIso } from "../ids.ts";
import { announce } from "./alerts.ts";
import type { CoreDeps } from "./deps.ts";
import { drillTargetLabel } from "./drill-targets.ts";

/** A proof for a drill that ended before it could prove anything. */
export function failedProof(drill: Drill, error: string, durationMs: number | null = null): Verification {
  return {
    status: "failed",
    drill_id: drill.id,
    at: nowIso(),
    duration_ms: durationMs,
    target: drillTargetLabel(drill.target),
    collections: {},
    error,
  };
}

/**
 * After a drill's record has ended (passed or failed, with its proof in `result`): the proof goes on
 * the backup (unless a later drill's is already there), an audit entry keeps the history, and the
 * outcome is announced (a failure alerts like a failed backup). Each step is best effort: the drill's
 * own record is the truth.
 */
export async function recordDrillOutcome(
  deps: Pick<CoreDeps, "store" | "alerts">,
  drill: Drill,
): Promise<void> {
  const proof = drill.result;
  if (!proof) return;
  await deps.store.backups
    .update(drill.backup_id, { verification: proof })
    .then(() => undefined)
    .catch(() => undefined); // the backup may have been deleted meanwhile
  if (proof.status === "passed") await noteDatabaseVerified(deps, drill, proof).catch(() => undefined);
  await deps.store.audit
    .create({
      id: newId(),
      at: nowIso(),
      actor: drill.created_by,
      action: "backup.verified",
      target_type: "backup",
      target_id: drill.backup_id,
      outcome: proof.status === "passed" ? "success" : "failure",
      details: {
        drill_id: drill.id,
        target: proof.target,
        duration_ms: proof.duration_ms,
        collections: Object.keys(proof.collections).length,
        error: proof.error,
      },
    })
    .catch(() => undefined);
  await announce(deps, drillEvent(drill));
}

/** The database's `last_verified` summary, unless a later pass is already there (the dashboard reads it). */
async function noteDatabaseVerified(
  deps: Pick<CoreDeps, "store">,
  drill: Drill,
  proof: Verification,
): Promise<void> {
  const { items } = await deps.store.databases.list(
    { server_id: drill.server_id, name: drill.database },
    { limit: 1 },
  );
  const database = items[0];
  if (!database) return;
  if (database.last_verified && Date.parse(database.last_verified.at) > Date.parse(proof.at)) return;
  await deps.store.databases.update(database.id, {
    last_verified: { backup_id: drill.backup_id, at: proof.at, duration_ms: proof.duration_ms },
  });
}
