// Blob store in a local directory (local mode): one file per key, written through a temp file and a
// rename so a reader never sees half an archive.
import { randomBytes } from "node:crypto";
import { type BigIntStats, createWriteStream } from "node:fs";
import { mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ConflictError, NotFoundError, ValidationError } from "#core/errors.ts";
import type { BlobInfo, BlobStore, DownloadOptions, UploadOptions } from "#core/ports.ts";
import { isErrno, syncDir } from "./fs-durable.ts";

/** Ends the temp file of an upload in progress (test/support/blob-leftovers.ts looks for it). */
export const PARTIAL_SUFFIX = ".partial";

/**
 * A version token that changes whenever the file is replaced: every upload renames a new inode into
 * place, and its size and nanosecond mtime come along.
 */
function etagOf(s: BigIntStats): string {
  return `${s.size.toString()}-${s.mtimeNs.toString(36)}-${s.ino.toString(36)}`;
}

export interface FileBlobStoreOptions {
  /** The directory that holds the blobs; created (0700) on first upload. */
  dir: string;
}

/** The size of a download's reads. */
export const READ_CHUNK_BYTES = 1024 * 1024;

export class FileBlobStore implements BlobStore {
  readonly #dir: string;

  constructor({ dir }: FileBlobStoreOptions) {
    this.#dir = resolve(dir);
  }

  /** The file of a key; keys are relative paths of `/`-separated segments inside the directory. */
  #path(key: string): string {
    if (key.length === 0 || key.length > 1024)
      throw new ValidationError("key", "must be 1 to 1024 characters");
    if (key.includes("\0")) throw new ValidationError("key", "must not contain NUL");
    if (key.includes("\\")) throw new ValidationError("key", `must not contain a backslash, got ${key}`);
    if (key.startsWith("/")) throw new ValidationError("key", `must be relative, got ${key}`);
    for (const segment of key.split("/")) {
      if (segment === "" || segment === "." || segment === "..") {
        throw new ValidationError("key", `must not have empty, "." or ".." segments, got ${key}`);
      }
      // Temp files are named `.<name>.<random>.partial`; keys never look like one.
      if (segment.endsWith(PARTIAL_SUFFIX)) {
        throw new ValidationError("key", `must not end a segment with ${PARTIAL_SUFFIX}, got ${key}`);
      }
    }
    const path = join(this.#dir, ...key.split("/"));
    const rel = relative(this.#dir, path);
    if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw new ValidationError("key", `escapes the store, got ${key}`);
    }
    return path;
  }

  async upload(key: string, body: Readable, options: UploadOptions = {}): Promise<BlobInfo> {
    const { signal } = options;
    let path: string;
    try {
      path = this.#path(key);
      signal?.throwIfAborted();
    } catch (error) {
      body.destroy();
      throw error;
    }
    const dir = dirname(path);
    const name = path.slice(dir.length + 1);
    const temp = join(dir, `.${name}.${randomBytes(6).toString("hex")}${PARTIAL_SUFFIX}`);
    let renamed = false;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // `flush` fsyncs the file before it is closed, so the rename below publishes durable bytes.
      const out = createWriteStream(temp, { flags: "wx", mode: 0o600, flush: true });
      await pipeline(body, out, signal ? { signal } : {});
      const s = await stat(temp, { bigint: true });
      signal?.throwIfAborted();
      await rename(temp, path);
      renamed = true;
      await syncDir(dir);
      return { key, size: Number(s.size), etag: etagOf(s) };
    } catch (error) {
      body.destroy();
      if (!renamed) await unlink(temp).catch(() => {});
      const cause = signal?.aborted ? signal.reason : error;
      throw new Error(`upload of blob ${key} failed`, { cause });
    }
  }

  async download(key: string, options: DownloadOptions = {}): Promise<{ info: BlobInfo; body: Readable }> {
    const { signal, ifMatch, versionId } = options;
    const path = this.#path(key);
    signal?.throwIfAborted();
    // Files keep no versions: reading "the latest" instead would drop the guarantee the caller asked for.
    if (versionId !== undefined)
      throw new Error(`blob ${key}: the local blob store keeps no object versions`);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, "r");
    } catch (error) {
      if (isErrno(error, "ENOENT", "ENOTDIR", "EISDIR"))
        throw new NotFoundError("blob", key, { cause: error });
      throw error;
    }
    // The open descriptor pins this version: a later upload renames a new file over the path.
    try {
      const s = await handle.stat({ bigint: true });
      if (!s.isFile()) throw new NotFoundError("blob", key);
      const info = { key, size: Number(s.size), etag: etagOf(s) };
      if (ifMatch !== undefined && ifMatch !== info.etag) {
        throw new ConflictError(`blob ${key} no longer has version ${ifMatch}`);
      }
      // 1 MiB reads instead of the default 64 KiB: a sixteenth of the reads, hash updates and
      // decompressor calls for a restore (test/bench/README.md, "Restore: where the time goes").
      const body = handle.createReadStream({
        highWaterMark: READ_CHUNK_BYTES,
        ...(signal ? { signal } : {}),
      });
      return { info, body };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    const path = this.#path(key);
    try {
      const s = await stat(path, { bigint: true });
      if (!s.isFile()) return undefined;
      return { key, size: Number(s.size), etag: etagOf(s) };
    } catch (error) {
      if (isErrno(error, "ENOENT", "ENOTDIR")) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.#path(key);
    try {
      await unlink(path);
    } catch (error) {
      if (isErrno(error, "ENOENT", "ENOTDIR")) return;
      throw error;
    }
  }
}
