// Restore: blob store -> sha256 check -> decompression -> mongorestore --archive. The integrity
// rules (one pass over a recorded version, or a hash-only pass 1 then a pinned pass 2) are in
// restore-pipeline.ts, shared with the restore drill.
import type { Restore } from "#core/entities.ts";
import { restoreEvent } from "#core/events.ts";
import { nowIso } from "#core/ids.ts";
import { mongoTarget } from "#core/mongo-uri.ts";
import { restoreTargetRefusal } from "#core/system-databases.ts";
import {
  announceOutcome,
  checkServerAddresses,
  type EngineDeps,
  elapsedMs,
  failureReason,
  JobFailedError,
  recordFailure,
} from "./engine.ts";
import { escapeNamespacePart, serverSelectionArgs } from "./mongo-tools.ts";
import { feedMongorestore, openArchive, type ProgressWrite, restorableBackup } from "./restore-pipeline.ts";

/** mongorestore arguments for a restore record (or a drill's). Never a secret: those go in the config file. */
export function restoreArgs(
  restore: Pick<Restore, "source_database" | "target_database" | "collections" | "drop">,
): string[] {
  const from = escapeNamespacePart(restore.source_database);
  const to = escapeNamespacePart(restore.target_database);
  const args = [
    "--archive",
    // Without it mongorestore exits 0 even when documents failed to insert.
    "--stopOnError",
    // Drops index options the target does not know (e.g. the `ns` field older servers and
    // FerretDB report), instead of failing the whole restore on them.
    "--convertLegacyIndexes",
  ];
  const collections = restore.collections ?? ["*"];
  for (const c of collections) args.push(`--nsInclude=${from}.${c === "*" ? "*" : escapeNamespacePart(c)}`);
  if (restore.source_database !== restore.target_database) {
    args.push(`--nsFrom=${from}.*`, `--nsTo=${to}.*`);
  }
  if (restore.drop) args.push("--drop");
  return args;
}

export async function runRestore(deps: EngineDeps, restoreId: string, signal: AbortSignal): Promise<Restore> {
  const { store, log } = deps;
  const startedAt = performance.now();
  const restore = await store.restores.transition(restoreId, "running", {
    started_at: nowIso(),
    ...(deps.runnerRef ? { runner_ref: deps.runnerRef } : {}),
  });
  // Where the time went, in the completion log line: what an operator (and test/bench) reads to see
  // whether a slow restore waited on the store, the integrity pass or the tool.
  const stages = { claim_ms: elapsedMs(startedAt), prepare_ms: 0, verify_ms: 0, restore_ms: 0, record_ms: 0 };
  let stageStart = performance.now();
  const stageDone = (name: keyof typeof stages) => {
    stages[name] = elapsedMs(stageStart);
    stageStart = performance.now();
  };
  const secrets: Array<string | undefined> = [];
  log.info({ restore_id: restoreId, backup_id: restore.backup_id }, "restore started");
  try {
    // The API refuses these; a record queued before the rule (or written around the API) is refused here.
    const refusal = restoreTargetRefusal(restore.target_database);
    if (refusal) throw new JobFailedError(refusal);
    const backup = restorableBackup(await store.backups.get(restore.backup_id), restore.backup_id);
    const server = await store.servers.get(restore.target_server_id);
    if (!server) throw new JobFailedError(`target server ${restore.target_server_id} no longer exists`);
    const password = await deps.secrets.get(server.id);
    secrets.push(password);
    // Before reading the archive: a connection the rules refuse (or a missing password) fails now,
    // and so does a refused address, so a refused server costs no download; the address is checked
    // again before the tool starts, as the verification may take long enough for DNS to have moved.
    const { uri } = mongoTarget(server, password);
    await checkServerAddresses(deps, uri);
    stageDone("prepare_ms");

    const writeProgress: ProgressWrite = (p) => store.restores.update(restoreId, { progress: p });
    const source = await openArchive(deps, backup, writeProgress, signal);
    stageDone("verify_ms");
    await checkServerAddresses(deps, uri);
    const { bytes, documents } = await feedMongorestore(deps, {
      source,
      backup,
      args: [...restoreArgs(restore), ...serverSelectionArgs(uri, deps.serverSelectionTimeoutSeconds)],
      connection: { uri, password },
      writeProgress,
      signal,
      logFields: { restore_id: restoreId },
    });

    stageDone("restore_ms");
    const completed = await store.restores.transition(restoreId, "completed", {
      progress: { bytes, at: nowIso() },
      finished_at: nowIso(),
      duration_ms: elapsedMs(startedAt),
      error: null,
    });
    stageDone("record_ms");
    log.info({ restore_id: restoreId, documents: documents ?? null, stages_ms: stages }, "restore completed");
    await announceOutcome(deps, restoreEvent(completed));
    return completed;
  } catch (error) {
    const reason = failureReason(error, signal, secrets);
    log.error({ restore_id: restoreId, reason }, "restore failed");
    return await recordFailure(
      store.restores,
      restoreId,
      { finished_at: nowIso(), duration_ms: elapsedMs(startedAt), error: reason },
      (failed) => announceOutcome(deps, restoreEvent(failed)),
    );
  }
}
