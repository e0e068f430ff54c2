// Restore: blob store -> sha256 check -> decompression -> mongorestore --archive.
//
// Integrity before any write: mongorestore commits documents as they arrive, so a hash known only
// at the end of a single pass could not keep a tampered archive out of the target by itself.
// - A backup that recorded its object version (S3, versioned bucket) is read in one pass, exactly
//   that version: S3 never changes the bytes of a version, S3 checked them at upload against the
//   CRC32 of the very stream the sha256 was computed on, and a newer version under the same key (an
//   overwrite, a tampering) is never read. The sha256 is still checked in the same stream, a second
//   guard that fails the restore at its end. Why this keeps the guarantee: README, "Restore integrity".
// - A backup without a version (the local store, older backups) is read twice, both times streaming
//   and without local disk, since files can change under us: pass 1 only hashes it and compares with
//   the recorded sha256 and size; pass 2, pinned to the same object (If-Match on its ETag), feeds
//   mongorestore and hashes again. A mismatch in pass 1 fails the restore before the target is touched.
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
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
  ProgressReporter,
  recordFailure,
} from "./engine.ts";
import {
  describeToolFailure,
  escapeNamespacePart,
  parseRestoreSummary,
  serverSelectionArgs,
  startTool,
  stopTool,
} from "./mongo-tools.ts";
import { DigestTap, decompressor, toolBuffer } from "./streams.ts";

/** mongorestore arguments for a restore record. Never a secret: those go in the config file. */
export function restoreArgs(restore: Restore): string[] {
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

function isClosedPipe(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EPIPE" || code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ERR_STREAM_DESTROYED";
}

const discard = () =>
  new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });

type BlobSource = Awaited<ReturnType<EngineDeps["blobs"]["download"]>>;

/** The recorded version of a versioned archive: one read, straight into the restore. */
async function versionedSource(
  deps: EngineDeps,
  key: string,
  versionId: string,
  size: number,
  signal: AbortSignal,
): Promise<BlobSource> {
  const source = await deps.blobs.download(key, { signal, versionId });
  if (source.info.size !== size) {
    source.body.destroy();
    throw new JobFailedError(
      `backup archive failed its integrity check (${source.info.size} bytes stored, ${size} recorded): nothing was restored`,
    );
  }
  return source;
}

/** Pass 1 over an unversioned archive (hash only, nothing written), then pass 2 pinned to the same object. */
async function verifiedSource(
  deps: EngineDeps,
  restoreId: string,
  key: string,
  sha256: string,
  size: number,
  signal: AbortSignal,
): Promise<BlobSource> {
  const { store } = deps;
  // The heartbeat goes on meanwhile (0 bytes restored yet), or a long verification would look like a
  // dead task to the reaper.
  const check = new DigestTap();
  const verifying = new ProgressReporter(
    (p) => store.restores.update(restoreId, { progress: p }),
    () => 0,
    deps.progressIntervalMs,
  );
  let first: BlobSource;
  try {
    first = await deps.blobs.download(key, { signal });
    await pipeline(first.body, check, discard(), { signal });
  } finally {
    await verifying.stop();
  }
  const actual = check.hex();
  if (actual !== sha256 || check.bytes !== size) {
    throw new JobFailedError(
      `backup archive failed its integrity check (sha256 ${actual.slice(0, 12)}…, ${check.bytes} bytes; ` +
        `recorded ${sha256.slice(0, 12)}…, ${size} bytes): nothing was restored`,
    );
  }
  return await deps.blobs.download(key, { signal, ifMatch: first.info.etag });
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
    const backup = await store.backups.get(restore.backup_id);
    if (!backup) throw new JobFailedError(`backup ${restore.backup_id} no longer exists`);
    if (backup.status !== "completed" || !backup.blob_key || !backup.sha256 || backup.size_bytes === null) {
      throw new JobFailedError(`backup ${backup.id} is ${backup.status}, not a completed backup`);
    }
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

    const source = backup.blob_version
      ? await versionedSource(deps, backup.blob_key, backup.blob_version, backup.size_bytes, signal)
      : await verifiedSource(deps, restoreId, backup.blob_key, backup.sha256, backup.size_bytes, signal);
    stageDone("verify_ms");
    const tap = new DigestTap();
    let summary: { restored: number; failed: number } | undefined;
    await checkServerAddresses(deps, uri);
    const run = await startTool(
      deps.tools.mongorestore,
      [...restoreArgs(restore), ...serverSelectionArgs(uri, deps.serverSelectionTimeoutSeconds)],
      { uri, password },
      (line) => {
        summary = parseRestoreSummary(line) ?? summary;
        log.debug({ restore_id: restoreId, tool: "mongorestore" }, line);
      },
    );
    const stdin = run.child.stdin;
    if (!stdin) throw new JobFailedError("mongorestore has no stdin");
    const stop = () => stopTool(run);
    signal.addEventListener("abort", stop, { once: true });
    const progress = new ProgressReporter(
      (p) => store.restores.update(restoreId, { progress: p }),
      () => tap.bytes,
      deps.progressIntervalMs,
    );
    try {
      const [streamError, exit] = await Promise.all([
        pipeline(source.body, tap, decompressor(backup.compression), toolBuffer(), stdin).then(
          () => undefined,
          (error: unknown) => error,
        ),
        run.done,
      ]);
      signal.throwIfAborted();
      // A tool that exits early closes its stdin (EPIPE): then its exit says why. Any other stream
      // error (the blob store, decompression) is the cause, and the tool's failure only follows it.
      if (streamError && !isClosedPipe(streamError)) {
        const message = streamError instanceof Error ? streamError.message : String(streamError);
        throw new JobFailedError(`reading the backup archive failed: ${message}`, { cause: streamError });
      }
      if (exit.code !== 0 || exit.signal) throw new JobFailedError(describeToolFailure("mongorestore", exit));
      if (summary && summary.failed > 0) {
        throw new JobFailedError(`mongorestore could not restore ${summary.failed} document(s)`);
      }
      if (tap.hex() !== backup.sha256 || tap.bytes !== backup.size_bytes) {
        throw new JobFailedError("backup archive changed while it was being restored");
      }
    } catch (error) {
      stopTool(run);
      await run.done;
      throw error;
    } finally {
      signal.removeEventListener("abort", stop);
      await progress.stop();
    }

    stageDone("restore_ms");
    const completed = await store.restores.transition(restoreId, "completed", {
      progress: { bytes: tap.bytes, at: nowIso() },
      finished_at: nowIso(),
      duration_ms: elapsedMs(startedAt),
      error: null,
    });
    stageDone("record_ms");
    log.info(
      { restore_id: restoreId, documents: summary?.restored ?? null, stages_ms: stages },
      "restore completed",
    );
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
