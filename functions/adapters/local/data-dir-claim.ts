// Local mode's server claims its data dir: one row in the database (pid, host, start, heartbeat).
// Two servers on one data dir would each run the scheduler and dispatch the same jobs, so a second
// one is refused while the first lives; task processes never claim, so they work beside it.
//
// Why a row and not a lock on the file: SQLite's own locks are per transaction (an exclusive lock
// held for the server's life would shut its task processes out), and a lock file outlives a killed
// process. The row is taken over when its process is gone (same host, pid not alive) or its
// heartbeat is older than STALE_MS (another host, or a reused pid), so a SIGKILLed server does not
// block the next start.
import { hostname } from "node:os";
import type { DatabaseSync } from "node:sqlite";
import { processAlive } from "./child-process-job-runner.ts";
import type { LocalDatabase } from "./sqlite-database.ts";

const HEARTBEAT_MS = 10_000;
const STALE_MS = 60_000;

export function createClaimSchema(db: DatabaseSync): void {
  db.exec(
    "CREATE TABLE IF NOT EXISTS server_claim (slot INTEGER PRIMARY KEY CHECK (slot = 1), pid INTEGER NOT NULL, host TEXT NOT NULL, started_at TEXT NOT NULL, heartbeat_ms INTEGER NOT NULL)",
  );
}

/** Another local mode server runs on this data dir. */
export class DataDirInUseError extends Error {
  override name = "DataDirInUseError";
}

export interface DataDirClaim {
  /** Gives the data dir up (the server stops). */
  release(): void;
}

/** Claims the data dir for this process, or throws DataDirInUseError naming the holder. */
export function claimDataDir(database: LocalDatabase, dataDir: string): DataDirClaim {
  const me = { pid: process.pid, host: hostname() };
  database.write((db) => {
    const holder = db
      .prepare("SELECT pid, host, started_at, heartbeat_ms FROM server_claim WHERE slot = 1")
      .get();
    if (holder) {
      const pid = Number(holder.pid);
      const sameHost = holder.host === me.host;
      const fresh = Date.now() - Number(holder.heartbeat_ms) < STALE_MS;
      const alive = sameHost ? processAlive(pid) && fresh : fresh;
      if (alive) {
        throw new DataDirInUseError(
          `data dir ${dataDir} is in use by another local mode server (pid ${pid} on ${String(holder.host)}, ` +
            `started ${String(holder.started_at)}): two servers would both run the schedules and dispatch the same jobs. ` +
            "Stop that one first, or give this one another DATA_DIR.",
        );
      }
    }
    db.prepare(
      "INSERT INTO server_claim (slot, pid, host, started_at, heartbeat_ms) VALUES (1, ?, ?, ?, ?) ON CONFLICT (slot) DO UPDATE SET pid = excluded.pid, host = excluded.host, started_at = excluded.started_at, heartbeat_ms = excluded.heartbeat_ms",
    ).run(me.pid, me.host, new Date().toISOString(), Date.now());
  });
  const heartbeat = setInterval(() => {
    try {
      database.write((db) =>
        db
          .prepare("UPDATE server_claim SET heartbeat_ms = ? WHERE slot = 1 AND pid = ? AND host = ?")
          .run(Date.now(), me.pid, me.host),
      );
    } catch {
      // A full or read-only disk: the requests say so; the claim only goes stale meanwhile.
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    release() {
      clearInterval(heartbeat);
      database.write((db) =>
        db.prepare("DELETE FROM server_claim WHERE slot = 1 AND pid = ? AND host = ?").run(me.pid, me.host),
      );
    },
  };
}
