// File-system helpers of the local adapters: errno checks, durable renames and whole-file writes.
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync } from "node:fs";
import { link, mkdir, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export function isErrno(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && codes.includes((error as NodeJS.ErrnoException).code ?? "");
}

/** Makes a rename in `dir` durable. Best effort: some file systems refuse fsync on a directory. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The rename itself has happened; only its durability across a power cut is in question.
  }
}

/** syncDir for synchronous callers (the database's opening steps). */
export function syncDirSync(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // As in syncDir: the rename has happened either way.
  }
}

/**
 * Replaces `path` with `text` all at once: a 0600 temp file beside it (hidden, so no listing takes it
 * for data), fsync, rename over `path` (or, with `exclusive`, a hard link that fails when `path`
 * exists), fsync of the directory. Readers see the old file or the new one, never a torn one.
 */
export async function writeFileAtomically(
  path: string,
  text: string,
  { exclusive = false }: { exclusive?: boolean } = {},
): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", 0o600);
  try {
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (exclusive) await link(temp, path);
    else await rename(temp, path);
  } finally {
    await unlink(temp).catch(() => undefined); // gone after a rename; the spare name after a link
  }
  await syncDir(dir);
}
