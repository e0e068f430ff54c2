// Serializes read-modify-write cycles on one file, within this process and across processes. Local
// mode runs the API server and each backup/restore task as separate processes on one data directory,
// so an in-process queue alone would let two processes overwrite each other's changes.
// proper-lockfile takes an atomic mkdir lock beside the file, refreshed while held and considered
// stale after `stale` ms, so a crashed process cannot block the store for long.
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import lockfile from "proper-lockfile";

const queues = new Map<string, Promise<void>>();

async function inProcessQueue<R>(key: string, task: () => Promise<R>): Promise<R> {
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.then(task);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, tail);
  try {
    return await run;
  } finally {
    if (queues.get(key) === tail) queues.delete(key);
  }
}

/** Runs `task` while holding the lock for `path` (the file need not exist yet). */
export async function withFileLock<R>(path: string, task: () => Promise<R>): Promise<R> {
  return await inProcessQueue(path, async () => {
    // The lock is a directory beside the file, so the file's directory must exist first.
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const release = await lockfile.lock(path, {
      realpath: false,
      stale: 10_000,
      update: 2_000,
      retries: { retries: 200, factor: 1.2, minTimeout: 5, maxTimeout: 100 },
    });
    try {
      return await task();
    } finally {
      await release();
    }
  });
}
