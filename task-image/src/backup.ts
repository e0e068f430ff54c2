// Backup: mongodump --archive -> compression -> sha256/size tap -> end gate -> blob store upload.
// Nothing touches local disk but the tool's 0600 config file; memory is bounded by the stream
// buffers and the blob store's part buffers, whatever the database size.

import { pipeline } from "node:stream/promises";
import pRetry from "p-retry";
import { type Backup, defaultSettings } from "#core/entities.ts";
import { backupEvent } from "#core/events.ts";
import { nowIso } from "#core/ids.ts";
import { mongoTarget } from "#core/mongo-uri.ts";
import type { BlobInfo } from "#core/ports.ts";
import { backupSourceRefusal } from "#core/system-databases.ts";
import { drillAfterScheduledBackup } from "#core/use-cases/drills.ts";
import { noteBackupEnded } from "#core/use-cases/last-backup.ts";
import {
  announceOutcome,
  checkServerAddresses,
  type EngineDeps,
  elapsedMs,
  failureReason,
  JobFailedError,
  ProgressReporter,
  recordFailure,
} from "./engine.ts";
import {
  describeToolFailure,
  parseDumpedCollection,
  serverSelectionArgs,
  startTool,
  stopTool,
  type ToolRun,
  toolVersion,
} from "./mongo-tools.ts";
import { blobExtension, compressionStages, DigestTap, EndGate, toolBuffer } from "./streams.ts";

/** An error's message with its causes, e.g. "upload of blob x failed: connection reset". */
function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e && parts.length < 4; e = (e as { cause?: unknown }).cause) {
    const message = e instanceof Error ? e.message : String(e);
    if (!parts.includes(message)) parts.push(message);
    if (!(e instanceof Error)) break;
  }
  return parts.join(": ");
}

export function backupBlobKey(backup: Pick<Backup, "id" | "server_id" | "database" | "compression">): string {
  return `backups/${backup.server_id}/${backup.database}/${backup.id}.archive${blobExtension[backup.compression]}`;
}

/**
 * Runs one queued backup to completion. Returns the final record (completed or failed). Throws only
 * when the backup cannot be claimed (missing, or not queued): then nothing was changed.
 */
export async function runBackup(deps: EngineDeps, backupId: string, signal: AbortSignal): Promise<Backup> {
  const { store, log } = deps;
  const startedAt = performance.now();
  // The record says how to compress: whoever queued the backup chose it.
  const backup = await store.backups.transition(backupId, "running", {
    started_at: nowIso(),
    ...(deps.runnerRef ? { runner_ref: deps.runnerRef } : {}),
  });
  const secrets: Array<string | undefined> = [];
  const key = backupBlobKey(backup);
  log.info({ backup_id: backupId, database: backup.database }, "backup started");
  let completed: Backup;
  try {
    signal.throwIfAborted();
    // The API refuses these; a record queued before the rule (or written around the API) is refused here.
    const refusal = backupSourceRefusal(backup.database);
    if (refusal) throw new JobFailedError(refusal);
    const server = await store.servers.get(backup.server_id);
    if (!server) throw new JobFailedError(`server ${backup.server_id} no longer exists`);
    const password = await deps.secrets.get(server.id);
    secrets.push(password);
    const { uri } = mongoTarget(server, password);
    await checkServerAddresses(deps, uri);
    // Asked while the dump runs rather than before it: one process start less on the job's path.
    const version = toolVersion(deps.tools.mongodump);
    version.catch(() => undefined); // observed below; a dump that fails first must not leave it unhandled

    const collections: Record<string, number> = {};
    const run = await startTool(
      deps.tools.mongodump,
      [
        `--db=${backup.database}`,
        "--archive",
        ...serverSelectionArgs(uri, deps.serverSelectionTimeoutSeconds),
      ],
      { uri, password },
      (line) => {
        const dumped = parseDumpedCollection(line, backup.database);
        if (dumped) collections[dumped[0]] = dumped[1];
        log.debug({ backup_id: backupId, tool: "mongodump" }, line);
      },
    );
    const { size, sha256, versionId, checksum } = await streamDump(
      deps,
      run,
      key,
      backup,
      collections,
      signal,
    );
    completed = await store.backups.transition(backupId, "completed", {
      finished_at: nowIso(),
      duration_ms: elapsedMs(startedAt),
      blob_key: key,
      size_bytes: size,
      sha256,
      blob_version: versionId ?? null,
      blob_checksum: checksum ?? null,
      progress: { bytes: size, at: nowIso() },
      tool_version: await version,
      collections,
      error: null,
    });
  } catch (error) {
    // A retried write whose first attempt landed reads as a conflict: if the record already says
    // completed with this archive, it is ours, and the archive must stay.
    const current = await store.backups.get(backupId).catch(() => undefined);
    if (current?.status === "completed" && current.blob_key === key) {
      completed = current;
    } else {
      const reason = failureReason(error, signal, secrets);
      log.error({ backup_id: backupId, reason }, "backup failed");
      // Failed, or cancelled while finishing: the object must not outlive its record's claim.
      await deps.blobs.delete(key).catch(() => undefined);
      return await recordFailure(
        store.backups,
        backupId,
        { finished_at: nowIso(), duration_ms: elapsedMs(startedAt), error: reason, blob_key: null },
        async (failed) => {
          await noteLastBackup(deps, failed);
          await announceOutcome(deps, backupEvent(failed));
        },
      );
    }
  }
  log.info(
    {
      backup_id: backupId,
      size_bytes: completed.size_bytes,
      collections: Object.keys(completed.collections ?? {}).length,
    },
    "backup completed",
  );
  // After the try: nothing done once the record says completed may delete its archive.
  await noteLastBackup(deps, completed);
  await announceOutcome(deps, backupEvent(completed));
  await queueScheduledDrill(deps, completed);
  return completed;
}

/**
 * A scheduled backup gets its restore drill queued as its schedule's `verify_every` says; the
 * dispatcher starts it when this task's end is seen (task-state on AWS, the process exit locally).
 * Best effort: the backup stands whatever happens here, and a missing drill shows as "not yet".
 */
async function queueScheduledDrill(deps: EngineDeps, backup: Backup): Promise<void> {
  if (!backup.schedule_id) return;
  try {
    const schedule = await deps.store.schedules.get(backup.schedule_id);
    if (!schedule) return;
    const settings = { ...defaultSettings, ...(await deps.store.settings.get()) };
    const drill = await drillAfterScheduledBackup(deps, backup, schedule, settings);
    if (drill) deps.log.info({ backup_id: backup.id, drill_id: drill.id }, "restore drill queued");
  } catch (err) {
    deps.log.warn({ err, backup_id: backup.id }, "could not queue the scheduled restore drill");
  }
}

/**
 * The database's last-backup summary; a failure to write it must not change the job's outcome. Tried
 * three times: on a busy local store the write can lose its lock race while many tasks end at once.
 */
async function noteLastBackup(deps: EngineDeps, backup: Backup): Promise<void> {
  await pRetry(() => noteBackupEnded(deps.store, backup), { retries: 2, minTimeout: 200 }).catch(
    (err: unknown) =>
      deps.log.warn({ err, backup_id: backup.id }, "could not update the database's last backup"),
  );
}

async function streamDump(
  deps: EngineDeps,
  run: ToolRun,
  key: string,
  { id: backupId, database, compression }: Pick<Backup, "id" | "database" | "compression">,
  collections: Record<string, number>,
  signal: AbortSignal,
): Promise<{ size: number; sha256: string; versionId: string | undefined; checksum: string | undefined }> {
  let stoppedByUs = false;
  const stop = () => {
    stoppedByUs ||= run.child.exitCode === null && run.child.signalCode === null;
    stopTool(run);
  };
  signal.addEventListener("abort", stop, { once: true });
  // The archive is committed only if the tool exits 0 and dumped something: an unknown database
  // makes mongodump succeed with an empty archive, which must not pass for a backup.
  const verdict = run.done.then((exit) => {
    if (exit.code !== 0) throw new JobFailedError(describeToolFailure("mongodump", exit));
    if (Object.keys(collections).length === 0) {
      throw new JobFailedError(
        `database "${database}" not found on the server (mongodump found nothing to dump)`,
      );
    }
  });
  const tap = new DigestTap();
  const progress = new ProgressReporter(
    (p) => deps.store.backups.update(backupId, { progress: p }),
    () => tap.bytes,
    deps.progressIntervalMs,
  );
  const gate = new EndGate(verdict);
  const stdout = run.child.stdout;
  if (!stdout) throw new JobFailedError("mongodump has no stdout");
  let upload: Promise<BlobInfo> | undefined;
  try {
    upload = deps.blobs.upload(key, gate, { signal, contentType: "application/octet-stream" });
    const [info] = await Promise.all([
      upload,
      pipeline([stdout, toolBuffer(), ...compressionStages(compression), tap, gate]),
      verdict,
    ]);
    if (info.size !== tap.bytes) {
      throw new JobFailedError(`blob store recorded ${info.size} bytes, the stream carried ${tap.bytes}`);
    }
    return { size: tap.bytes, sha256: tap.hex(), versionId: info.versionId, checksum: info.checksum };
  } catch (error) {
    stop();
    gate.destroy();
    await run.done;
    // The blob store cleans up (aborts the multipart upload, removes its temp file) before its
    // promise settles: wait for that, or the process could exit with the cleanup half done.
    const uploadError = await upload?.then(
      () => undefined,
      (e: unknown) => e,
    );
    signal.throwIfAborted();
    // The first failure is the cause: the tool's own (exit code, nothing dumped) unless we stopped
    // it because the upload had already failed.
    if (!stoppedByUs) {
      const verdictError = await verdict.then(
        () => undefined,
        (e: unknown) => e,
      );
      if (verdictError) throw verdictError;
    }
    if (error instanceof JobFailedError) throw error;
    // The stages fail together; the blob store's own error says more than the aborted stream's.
    const cause = uploadError ?? error;
    throw new JobFailedError(`upload of the archive failed: ${describeError(cause)}`, { cause });
  } finally {
    signal.removeEventListener("abort", stop);
    await progress.stop();
  }
}
