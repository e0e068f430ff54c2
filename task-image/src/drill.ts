// Restore drill (issue 15): restores one completed backup into a throwaway target (drill-target.ts),
// through the restore's own pipeline and integrity rules (restore-pipeline.ts), reading the archive's
// prelude as it streams by; proves what it restored (drill-proof.ts); cleans up whatever happened;
// and records the proof on the drill, the backup and the audit log (recordDrillOutcome).
//
// The drill record's duration_ms is the whole drill; its result's duration_ms is mongorestore's own
// time, start to exit: the database's measured recovery time.
import { Transform, type TransformCallback } from "node:stream";
import type { Drill, Verification } from "#core/entities.ts";
import { ConflictError } from "#core/errors.ts";
import { nowIso } from "#core/ids.ts";
import { recordDrillOutcome } from "#core/use-cases/drill-outcome.ts";
import { drillTargetLabel } from "#core/use-cases/drill-targets.ts";
import { type ArchivePrelude, PreludeReader } from "./archive/prelude.ts";
import { archivedCollections, collectionNames, judgeProof, readRestored } from "./drill-proof.ts";
import { type PreparedTarget, prepareTarget } from "./drill-target.ts";
import {
  type EngineDeps,
  elapsedMs,
  failureReason,
  JobFailedError,
  ProgressReporter,
  recordFailure,
} from "./engine.ts";
import { serverSelectionArgs } from "./mongo-tools.ts";
import { restoreArgs } from "./restore.ts";
import { feedMongorestore, openArchive, type ProgressWrite, restorableBackup } from "./restore-pipeline.ts";

/** Reads the archive's prelude from the decompressed bytes on their way to mongorestore. */
class PreludeTap extends Transform {
  readonly #reader = new PreludeReader();
  #error: Error | undefined;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.#reader.done && !this.#error) {
      try {
        this.#reader.push(chunk);
      } catch (error) {
        // mongorestore meets the same bytes and says why it cannot read them; the drill reports this after.
        this.#error = error instanceof Error ? error : new Error(String(error));
      }
    }
    callback(null, chunk);
  }
  prelude(): ArchivePrelude {
    try {
      if (this.#error) throw this.#error;
      return this.#reader.end();
    } catch (error) {
      throw new JobFailedError(`the archive's prelude could not be read: ${(error as Error).message}`);
    }
  }
}

const noAlerts = { bus: { publish: async () => undefined }, notifiers: [], webhook: null };

export async function runDrill(deps: EngineDeps, drillId: string, signal: AbortSignal): Promise<Drill> {
  const { store, log } = deps;
  const startedAt = performance.now();
  const drill = await store.drills.transition(drillId, "running", {
    started_at: nowIso(),
    ...(deps.runnerRef ? { runner_ref: deps.runnerRef } : {}),
  });
  log.info(
    { drill_id: drillId, backup_id: drill.backup_id, target: drillTargetLabel(drill.target) },
    "drill started",
  );
  // One heartbeat for the whole drill (the throwaway server's start-up, pass 1, the restore, the
  // proof, the cleanup): the pipeline's stages only report their byte count into it.
  let bytes = 0;
  const heartbeat = new ProgressReporter(
    (p) => store.drills.update(drillId, { progress: p }),
    () => bytes,
    deps.progressIntervalMs,
  );
  const countBytes: ProgressWrite = async (p) => {
    bytes = p.bytes;
  };
  const stages = { startup_ms: 0, verify_ms: 0, restore_ms: 0, proof_ms: 0, cleanup_ms: 0 };
  const secrets: Array<string | undefined> = [];
  let target: PreparedTarget | undefined;
  let restoreMs: number | null = null;
  let proof: ReturnType<typeof judgeProof> | undefined;
  let failure: unknown;
  try {
    const backup = restorableBackup(await store.backups.get(drill.backup_id), drill.backup_id);
    let stageStart = performance.now();
    target = await prepareTarget(deps, drill, signal, secrets);
    stages.startup_ms = elapsedMs(stageStart);
    stageStart = performance.now();
    const source = await openArchive(deps, backup, countBytes, signal);
    stages.verify_ms = elapsedMs(stageStart);
    await target.recheck();
    const prelude = new PreludeTap();
    const run = await feedMongorestore(deps, {
      source,
      backup,
      args: [
        ...restoreArgs({
          source_database: backup.database,
          target_database: target.database,
          collections: null,
          drop: false,
        }),
        ...serverSelectionArgs(target.connection.uri, deps.serverSelectionTimeoutSeconds),
      ],
      connection: target.connection,
      writeProgress: countBytes,
      signal,
      logFields: { drill_id: drillId },
      inspect: prelude,
    });
    bytes = run.bytes;
    restoreMs = run.tool_ms;
    stages.restore_ms = restoreMs;
    stageStart = performance.now();
    const archived = archivedCollections(prelude.prelude(), backup.database);
    const restored = await readRestored(target.client, target.database, collectionNames(backup, archived));
    signal.throwIfAborted();
    proof = judgeProof(backup, archived, restored);
    stages.proof_ms = elapsedMs(stageStart);
    if (proof.problems.length > 0) throw new JobFailedError(`the proof failed: ${proof.problems.join("; ")}`);
  } catch (error) {
    failure = error;
  }
  let reason = failure === undefined ? undefined : failureReason(failure, signal, secrets);
  if (target) {
    const cleanupStart = performance.now();
    try {
      await target.cleanUp();
    } catch (error) {
      // Something is left behind: the drill fails whatever the proof said, and says what.
      const cleanup = failureReason(error, new AbortController().signal, secrets);
      reason = reason ? `${reason}; and cleaning up: ${cleanup}` : cleanup;
    }
    stages.cleanup_ms = elapsedMs(cleanupStart);
  }
  await heartbeat.stop();

  const result: Verification = {
    status: reason === undefined ? "passed" : "failed",
    drill_id: drill.id,
    at: nowIso(),
    duration_ms: restoreMs,
    target: target?.label ?? drillTargetLabel(drill.target),
    collections: proof?.collections ?? {},
    error: reason ?? null,
  };
  const ended = {
    finished_at: nowIso(),
    duration_ms: elapsedMs(startedAt),
    progress: { bytes, at: nowIso() },
  };
  const outcomeDeps = { store, alerts: deps.alerts ?? noAlerts };
  if (reason === undefined) {
    let completed: Drill;
    try {
      completed = await store.drills.transition(drillId, "completed", { ...ended, result, error: null });
    } catch (error) {
      // Cancelled while it finished: that end stands.
      const current = error instanceof ConflictError ? await store.drills.get(drillId) : undefined;
      if (current) return current;
      throw error;
    }
    log.info({ drill_id: drillId, recovery_ms: restoreMs, stages_ms: stages }, "drill passed");
    await recordDrillOutcome(outcomeDeps, completed);
    return completed;
  }
  log.error({ drill_id: drillId, reason, stages_ms: stages }, "drill failed");
  return await recordFailure(store.drills, drillId, { ...ended, result, error: reason }, (failed) =>
    recordDrillOutcome(outcomeDeps, failed),
  );
}
