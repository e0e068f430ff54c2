// Import: a dump made elsewhere (issue 16), read from imports/<...>, becomes a backup like any other.
//
//   source -> (gunzip | zstd | as is, by magic bytes) -> mongodump archive reader  ┐
//                                                    or tar of a dump directory ┘-> events
//   events -> keep one database, renamed to the backup's -> archive writer -> our codec
//          -> sha256/size tap -> end gate -> blob store upload under backups/
//
// A tar is read twice (the metadata first, then the documents), pinned to the same object version.
// Nothing touches local disk. A bad source fails the job with where and why; nothing is left
// under backups/ (the upload is all or nothing and is deleted on any failure).
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Backup, Compression } from "#core/entities.ts";
import { errorMessage, NotFoundError, ValidationError } from "#core/errors.ts";
import { backupEvent } from "#core/events.ts";
import { nowIso } from "#core/ids.ts";
import { type BlobInfo, IMPORT_PREFIX, type ImportSources } from "#core/ports.ts";
import { backupSourceRefusal } from "#core/system-databases.ts";
import { noteBackupEnded } from "#core/use-cases/last-backup.ts";
import { ArchiveReader } from "./archive/body.ts";
import { DUMP_TOOL_VERSION, dumpEvents, listDump } from "./archive/dump-dir.ts";
import { ARCHIVE_MAGIC, ArchiveFormatError } from "./archive/prelude.ts";
import { chooseDatabase, DatabaseSelection } from "./archive/select.ts";
import { ArchiveWriter } from "./archive/writer.ts";
import { backupBlobKey } from "./backup.ts";
import {
  announceOutcome,
  type EngineDeps,
  elapsedMs,
  failureReason,
  JobFailedError,
  ProgressReporter,
  recordFailure,
} from "./engine.ts";
import { compressionStages, DigestTap, decompressor } from "./streams.ts";

/** How the source is compressed, from its first bytes. */
export function sourceCodec(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return "zstd";
  return "none";
}

/** What the decompressed source is, from its first bytes: a mongodump archive or a (ustar) tar. */
export function sourceFormat(head: Buffer): "archive" | "tar" | undefined {
  if (head.length >= 4 && head.readUInt32LE(0) === ARCHIVE_MAGIC) return "archive";
  if (head.length >= 262 && head.subarray(257, 262).toString("latin1") === "ustar") return "tar";
  return undefined;
}

/** The first `n` bytes of a stream (fewer if it ends first) and the whole stream, those bytes included. */
async function peek(stream: Readable, n: number): Promise<{ head: Buffer; body: Readable }> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const parts: Buffer[] = [];
  let got = 0;
  let ended = false;
  while (got < n) {
    const next = await it.next();
    if (next.done) {
      ended = true;
      break;
    }
    parts.push(next.value);
    got += next.value.length;
  }
  const head = Buffer.concat(parts);
  async function* whole() {
    if (head.length > 0) yield head;
    if (ended) return;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { head, body: Readable.from(whole(), { objectMode: false }) };
}

const codecName: Record<Compression, string> = { gzip: "gzip", zstd: "zstd", none: "" };

/** A read of the source: decompressed, with its format known from its first bytes. */
interface OpenedSource {
  codec: Compression;
  format: "archive" | "tar";
  body: Readable;
}

/** A failure of the source's compression: zlib's (`Z_…`), zstd's or the zstd frame walk's (`ZSTD_…`). */
function isCodecError(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("Z_") || code.startsWith("ZSTD_"));
}

/** The failure a person can act on, for an error met while reading the source. */
function sourceFailure(error: unknown, source: string, codec: Compression | undefined, read: number): Error {
  if (error instanceof JobFailedError) return error;
  if (error instanceof ArchiveFormatError) return new JobFailedError(`${source}: ${error.message}`);
  if (isCodecError(error)) {
    const truncated = error.code === "Z_BUF_ERROR" ? " (truncated)" : "";
    return new JobFailedError(
      `${source}: its ${codecName[codec ?? "gzip"] || "compressed"} stream is corrupt after ${read} bytes of the file: ${error.message}${truncated}`,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Bytes of the source read, over every read: the heartbeat's figure and the offset errors give. */
class ReadCounter {
  bytes = 0;
  /** A stage that counts what passes through it. */
  stage(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.bytes += chunk.length;
        callback(null, chunk);
      },
    });
  }
}

/** Opens one read of the source: compression (noted in `seen` at once) and format detected. */
async function openSource(
  imports: ImportSources,
  source: string,
  etag: string,
  read: ReadCounter,
  seen: { codec?: Compression },
  signal: AbortSignal,
): Promise<OpenedSource> {
  const { body: raw } = await imports.download(source, { signal, ifMatch: etag });
  const counted = raw.pipe(read.stage());
  raw.once("error", (e) => counted.destroy(e));
  const { head: rawHead, body: compressed } = await peek(counted, 4);
  const codec = sourceCodec(rawHead);
  seen.codec = codec;
  // Frame by frame for zstd: a .zst of several frames (pzstd, our own archives) is read whole.
  const decompressing = decompressor(codec);
  compressed.once("error", (e) => decompressing.destroy(e));
  const plain = compressed.pipe(decompressing);
  const { head, body } = await peek(plain, 262);
  if (head.length === 0) {
    body.destroy();
    throw new JobFailedError(
      codec === "none"
        ? `${source} is empty`
        : `${source} is ${codecName[codec]}-compressed but holds nothing (0 bytes once decompressed)`,
    );
  }
  const format = sourceFormat(head);
  if (!format) {
    body.destroy();
    throw new JobFailedError(
      `${source} is neither a mongodump archive (mongodump --archive, gzip or not) nor a tar of a mongodump --out directory${codec === "none" ? "" : ` once ${codecName[codec]}-decompressed`}: its first bytes are neither the archive's magic number nor a tar header`,
    );
  }
  return { codec, format, body };
}

/**
 * Runs one queued import to completion. Returns the final record (completed or failed). Throws only
 * when the record cannot be claimed (missing, or not queued): then nothing was changed.
 */
export async function runImport(deps: EngineDeps, backupId: string, signal: AbortSignal): Promise<Backup> {
  const { store, log } = deps;
  const startedAt = performance.now();
  const backup = await store.backups.transition(backupId, "running", {
    started_at: nowIso(),
    ...(deps.runnerRef ? { runner_ref: deps.runnerRef } : {}),
  });
  const key = backupBlobKey(backup);
  const source = backup.imported_from ?? "";
  log.info({ backup_id: backupId, database: backup.database, source }, "import started");
  const read = new ReadCounter();
  const progress = new ProgressReporter(
    (p) => store.backups.update(backupId, { progress: p }),
    () => read.bytes,
    deps.progressIntervalMs,
  );
  let completed: Backup;
  try {
    signal.throwIfAborted();
    const refusal = backupSourceRefusal(backup.database);
    if (refusal) throw new JobFailedError(refusal);
    if (!source.startsWith(IMPORT_PREFIX)) {
      throw new JobFailedError(`the import's source must be a key under ${IMPORT_PREFIX}, got "${source}"`);
    }
    if (!deps.imports) throw new JobFailedError("this task has no access to imports/ (not configured)");
    const result = await importInto(deps, deps.imports, backup, source, key, read, signal);
    // No heartbeat may land after the final record.
    await progress.stop();
    completed = await store.backups.transition(backupId, "completed", {
      finished_at: nowIso(),
      duration_ms: elapsedMs(startedAt),
      blob_key: key,
      size_bytes: result.size,
      sha256: result.sha256,
      blob_version: result.versionId ?? null,
      blob_checksum: result.checksum ?? null,
      progress: { bytes: result.size, at: nowIso() },
      tool_version: result.toolVersion,
      collections: result.collections,
      error: null,
    });
  } catch (error) {
    await progress.stop();
    const current = await store.backups.get(backupId).catch(() => undefined);
    if (current?.status === "completed" && current.blob_key === key) {
      completed = current;
    } else {
      const reason = failureReason(error, signal, []);
      log.error({ backup_id: backupId, reason }, "import failed");
      await deps.blobs.delete(key).catch(() => undefined);
      return await recordFailure(
        store.backups,
        backupId,
        { finished_at: nowIso(), duration_ms: elapsedMs(startedAt), error: reason, blob_key: null },
        async (failed) => {
          await noteBackupEnded(store, failed).catch(() => undefined);
          await announceOutcome(deps, backupEvent(failed));
        },
      );
    }
  } finally {
    await progress.stop();
  }
  log.info(
    {
      backup_id: backupId,
      size_bytes: completed.size_bytes,
      collections: Object.keys(completed.collections ?? {}).length,
    },
    "import completed",
  );
  await noteBackupEnded(store, completed).catch((err: unknown) =>
    log.warn({ err, backup_id: backupId }, "could not update the database's last backup"),
  );
  await announceOutcome(deps, backupEvent(completed));
  return completed;
}

interface ImportResult {
  size: number;
  sha256: string;
  versionId: string | undefined;
  checksum: string | undefined;
  collections: Record<string, number>;
  toolVersion: string;
}

async function importInto(
  deps: EngineDeps,
  imports: ImportSources,
  backup: Backup,
  source: string,
  key: string,
  read: ReadCounter,
  signal: AbortSignal,
): Promise<ImportResult> {
  let info: BlobInfo | undefined;
  try {
    info = await imports.head(source);
  } catch (error) {
    if (error instanceof ValidationError) throw new JobFailedError(`${source}: ${error.message}`);
    // S3 answers 403 for a missing key to a role that may not list the bucket (the task's may not).
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 403) {
      throw new JobFailedError(`${source} does not exist, or the task may not read it (S3 answered 403)`);
    }
    throw error;
  }
  if (!info) {
    throw new JobFailedError(
      `${source} does not exist: put the dump there first (see README, "Bring your existing backups")`,
    );
  }
  if (info.size === 0) throw new JobFailedError(`${source} is empty (0 bytes)`);
  const etag = info.etag;
  const seen: { codec?: Compression } = {};
  let events: Readable;
  const selection = new DatabaseSelection(backup.database);
  try {
    const first = await openSource(imports, source, etag, read, seen, signal);
    if (first.format === "archive") {
      const reader = new ArchiveReader();
      first.body.once("error", (e) => reader.destroy(e));
      events = first.body.pipe(reader);
    } else {
      const listing = await listDump(first.body).finally(() => first.body.destroy());
      const db = chooseDatabase(
        listing.collections.map((c) => c.entry.db),
        backup.database,
      );
      const keep = listing.collections.filter((c) => c.entry.db === db);
      const second = await openSource(imports, source, etag, read, seen, signal);
      events = Readable.from(dumpEvents(second.body, keep));
      selection.toolVersion = DUMP_TOOL_VERSION;
      selection.fixedToolVersion = true;
    }
  } catch (error) {
    throw sourceFailure(notFound(error, source), source, seen.codec, read.bytes);
  }

  // Any stage's failure destroys the tap, which the blob store sees as a failed body: nothing is committed.
  const tap = new DigestTap();
  let upload: Promise<BlobInfo> | undefined;
  try {
    upload = deps.blobs.upload(key, tap, { signal, contentType: "application/octet-stream" });
    const stages = pipeline(
      [events, selection, new ArchiveWriter(), ...compressionStages(backup.compression), tap],
      { signal },
    );
    const [stored] = await Promise.all([upload, stages]);
    if (stored.size !== tap.bytes) {
      throw new JobFailedError(`blob store recorded ${stored.size} bytes, the stream carried ${tap.bytes}`);
    }
    const from = selection.source && selection.source !== backup.database ? ` of ${selection.source}` : "";
    return {
      size: tap.bytes,
      sha256: tap.hex(),
      versionId: stored.versionId,
      checksum: stored.checksum,
      collections: selection.counts,
      toolVersion: `import${from} (${selection.toolVersion || "unknown tool"})`.slice(0, 200),
    };
  } catch (error) {
    tap.destroy();
    events.destroy();
    // The blob store cleans up (aborts the multipart upload, removes its temp file) before its promise
    // settles: wait for that, and prefer its own error to the stream's "premature close".
    const uploadError = await upload?.then(
      () => undefined,
      (e: unknown) => e,
    );
    signal.throwIfAborted();
    // A source that fails to decode is the cause; the upload's failure only follows it.
    const ours =
      error instanceof ArchiveFormatError || error instanceof JobFailedError || isCodecError(error);
    if (!ours && uploadError) {
      throw new JobFailedError(`upload of the archive failed: ${errorMessage(uploadError)}`, {
        cause: uploadError,
      });
    }
    throw sourceFailure(notFound(error, source), source, seen.codec, read.bytes);
  }
}

/** The source vanished or changed between the reads. */
function notFound(error: unknown, source: string): unknown {
  if (error instanceof NotFoundError) return new JobFailedError(`${source} does not exist`);
  if (error instanceof Error && error.name === "ConflictError") {
    return new JobFailedError(`${source} was replaced while it was being read: import it again`);
  }
  return error;
}
