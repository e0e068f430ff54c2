// What a restore and a restore drill share: reading a backup's archive under the integrity rules,
// and feeding it through decompression into mongorestore --archive.
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
import { type Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Backup } from "#core/entities.ts";
import { type EngineDeps, elapsedMs, JobFailedError, ProgressReporter } from "./engine.ts";
import { describeToolFailure, parseRestoreSummary, startTool, stopTool } from "./mongo-tools.ts";
import { Batches, DECOMPRESS_INPUT_BYTES, DigestTap, decompressor, toolBuffer } from "./streams.ts";

export type BlobSource = Awaited<ReturnType<EngineDeps["blobs"]["download"]>>;

/** A completed backup: the fields a restore reads, known present. */
export type RestorableBackup = Backup & { blob_key: string; sha256: string; size_bytes: number };

/** Writes a running job's progress on its own record (the heartbeat the reaper reads). */
export type ProgressWrite = (progress: { bytes: number; at: string }) => Promise<unknown>;

/** The backup, if it can be restored; else JobFailedError saying why. */
export function restorableBackup(backup: Backup | undefined, backupId: string): RestorableBackup {
  if (!backup) throw new JobFailedError(`backup ${backupId} no longer exists`);
  if (backup.status !== "completed" || !backup.blob_key || !backup.sha256 || backup.size_bytes === null) {
    throw new JobFailedError(`backup ${backup.id} is ${backup.status}, not a completed backup`);
  }
  return backup as RestorableBackup;
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

/** The recorded version of a versioned archive: one read, straight into the restore. */
async function versionedSource(
  deps: EngineDeps,
  backup: RestorableBackup,
  versionId: string,
  signal: AbortSignal,
): Promise<BlobSource> {
  const source = await deps.blobs.download(backup.blob_key, { signal, versionId });
  if (source.info.size !== backup.size_bytes) {
    source.body.destroy();
    throw new JobFailedError(
      `backup archive failed its integrity check (${source.info.size} bytes stored, ${backup.size_bytes} recorded): nothing was restored`,
    );
  }
  return source;
}

/** Pass 1 over an unversioned archive (hash only, nothing written), then pass 2 pinned to the same object. */
async function verifiedSource(
  deps: EngineDeps,
  backup: RestorableBackup,
  writeProgress: ProgressWrite,
  signal: AbortSignal,
): Promise<BlobSource> {
  // The heartbeat goes on meanwhile (0 bytes restored yet), or a long verification would look like a
  // dead task to the reaper.
  const check = new DigestTap();
  const verifying = new ProgressReporter(writeProgress, () => 0, deps.progressIntervalMs);
  let first: BlobSource;
  try {
    first = await deps.blobs.download(backup.blob_key, { signal });
    await pipeline(first.body, check, discard(), { signal });
  } finally {
    await verifying.stop();
  }
  const actual = check.hex();
  if (actual !== backup.sha256 || check.bytes !== backup.size_bytes) {
    throw new JobFailedError(
      `backup archive failed its integrity check (sha256 ${actual.slice(0, 12)}…, ${check.bytes} bytes; ` +
        `recorded ${backup.sha256.slice(0, 12)}…, ${backup.size_bytes} bytes): nothing was restored`,
    );
  }
  return await deps.blobs.download(backup.blob_key, { signal, ifMatch: first.info.etag });
}

/** Opens the archive for the restore under the integrity rules above; throws before any byte is restored if it fails them. */
export async function openArchive(
  deps: EngineDeps,
  backup: RestorableBackup,
  writeProgress: ProgressWrite,
  signal: AbortSignal,
): Promise<BlobSource> {
  return backup.blob_version
    ? await versionedSource(deps, backup, backup.blob_version, signal)
    : await verifiedSource(deps, backup, writeProgress, signal);
}

export interface MongorestoreRun {
  /** Archive bytes fed (compressed, as stored). */
  bytes: number;
  /** Documents mongorestore reported restored, when it said. */
  documents: number | undefined;
  /** From mongorestore's start to its exit: the restore's own time. */
  tool_ms: number;
}

export interface MongorestoreOptions {
  source: BlobSource;
  backup: RestorableBackup;
  /** mongorestore's arguments, never a secret. */
  args: string[];
  connection: { uri: string; password: string | undefined };
  writeProgress: ProgressWrite;
  signal: AbortSignal;
  /** Log fields naming the job (e.g. `{ restore_id }`). */
  logFields: Record<string, string>;
  /** A stage the decompressed archive passes through on its way to the tool (the drill reads the prelude there). */
  inspect?: Transform;
}

/**
 * Streams the opened archive through its sha256 tap and decompressor into mongorestore. Throws
 * JobFailedError when the stream, the tool or the final hash fails; the tool is stopped by then.
 */
export async function feedMongorestore(
  deps: EngineDeps,
  options: MongorestoreOptions,
): Promise<MongorestoreRun> {
  const { source, backup, signal } = options;
  const { log } = deps;
  const tap = new DigestTap();
  let summary: { restored: number; failed: number } | undefined;
  const toolStarted = performance.now();
  const run = await startTool(deps.tools.mongorestore, options.args, options.connection, (line) => {
    summary = parseRestoreSummary(line) ?? summary;
    log.debug({ ...options.logFields, tool: "mongorestore" }, line);
  });
  const stdin = run.child.stdin;
  if (!stdin) {
    stopTool(run);
    await run.done;
    throw new JobFailedError("mongorestore has no stdin");
  }
  const stop = () => stopTool(run);
  signal.addEventListener("abort", stop, { once: true });
  const progress = new ProgressReporter(options.writeProgress, () => tap.bytes, deps.progressIntervalMs);
  try {
    const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | Transform> = [
      source.body,
      tap,
      new Batches(DECOMPRESS_INPUT_BYTES),
      decompressor(backup.compression),
      ...(options.inspect ? [options.inspect] : []),
      toolBuffer(),
      stdin,
    ];
    const [streamError, exit] = await Promise.all([
      (pipeline as (...streams: unknown[]) => Promise<void>)(...stages).then(
        () => undefined,
        (error: unknown) => error,
      ),
      run.done,
    ]);
    const toolMs = elapsedMs(toolStarted);
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
    return { bytes: tap.bytes, documents: summary?.restored, tool_ms: toolMs };
  } catch (error) {
    stopTool(run);
    await run.done;
    throw error;
  } finally {
    signal.removeEventListener("abort", stop);
    await progress.stop();
  }
}
