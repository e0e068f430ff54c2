// File-system helpers of the local adapters: errno checks and durable renames.
import { open } from "node:fs/promises";

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
