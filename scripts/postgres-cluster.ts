// A local PostgreSQL cluster, the backend FerretDB stores its data in (see local-servers.ts): finds
// the server binaries, runs them as the postgres user when this process is root (PostgreSQL refuses
// root), creates the cluster (in a temp dir, or once in a directory it is kept in across restarts),
// and starts it on a free loopback port. Split in two steps, prepare then start, so that a caller can
// check what it found (a reused cluster or a new one) before anything is started.

import { type ChildProcess, execFile, execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { processAlive } from "#adapters/local/child-process-job-runner.ts";
import {
  exited,
  freePort,
  type RunningServer,
  sleep,
  spawnServer,
  stderrTail,
  stopChild,
  waitForPort,
} from "./processes.ts";

export interface PostgresClusterOptions {
  /**
   * Keep the cluster in `<dir>/pg` across restarts: created on the first start, reused afterwards,
   * never deleted. As root, `dir` and `<dir>/pg` are made the postgres user's, and that user must be
   * able to reach `dir` (not under a private home such as /root). The server then also gets its own
   * process group, so a Ctrl-C in the terminal reaches only the caller. Without `dir`: a fresh
   * cluster in a temp dir, deleted on stop.
   */
  dir?: string;
  /** fsync and synchronous commits on. Default: on with `dir`; off without (disposable test data). */
  durable?: boolean;
  /** A database created, once the server accepts queries, if the cluster does not have it yet. */
  database: string;
}

export interface PostgresCluster {
  /** The resolved `dir`, or the temp dir (deleted on stop, so a caller may keep its own files there). */
  dir: string;
  /** True when preparing created the cluster (always, without `dir`). */
  created: boolean;
  /** Starts the server; call once. On failure it is stopped again (and a temp dir deleted). */
  start(): Promise<RunningPostgres>;
}

export interface RunningPostgres extends RunningServer {
  /** `url` is `postgres://postgres@127.0.0.1:<port>/<database>`, with trust authentication. */
  port: number;
}

/** Creates the cluster if needed and checks its directories, without starting anything. */
export function preparePostgresCluster(options: PostgresClusterOptions): PostgresCluster {
  const bin = postgresBinDir();
  const user = postgresUser();
  const persistent = options.dir !== undefined;
  const durable = options.durable ?? persistent;
  const dir = persistent ? resolve(options.dir as string) : mkdtempSync(join(tmpdir(), "mbm-pg-"));
  const data = persistent ? join(dir, "pg") : join(dir, "data");

  let created = false;
  if (!persistent) {
    user.own(dir);
    execFileSync(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8"], {
      ...user.as,
      stdio: "ignore",
    });
    created = true;
  } else {
    mkdirSync(dir, { recursive: true });
    // The directory is the cluster's own: as root it belongs to the postgres user (PostgreSQL must
    // reach its cluster inside); root can still keep files next to it (FerretDB's state).
    if (user.as.uid !== undefined && statSync(dir).uid !== user.as.uid) user.own(dir);
    user.checkAccess(dir);
    if (!existsSync(join(data, "PG_VERSION"))) {
      if (existsSync(data) && readdirSync(data).length > 0) {
        throw new Error(`${data} exists but is not a PostgreSQL cluster: move it away or choose another dir`);
      }
      // initdb into a side directory and rename it into place, so a start killed halfway through
      // leaves no half-made cluster that later starts would take for a real one.
      const init = join(dir, "pg.init");
      rmSync(init, { recursive: true, force: true });
      mkdirSync(init, { mode: 0o700 });
      try {
        user.own(init);
        user.checkAccess(init);
        execFileSync(join(bin, "initdb"), ["-D", init, "-A", "trust", "-U", "postgres", "-E", "UTF8"], {
          ...user.as,
          stdio: ["ignore", "ignore", "pipe"],
        });
      } catch (error) {
        rmSync(init, { recursive: true, force: true });
        const stderr = (error as { stderr?: Buffer }).stderr?.toString();
        throw stderr ? new Error(`initdb failed: ${stderr}`) : error;
      }
      rmSync(data, { recursive: true, force: true });
      renameSync(init, data);
      created = true;
    } else {
      // The same directory may have been used by another user before (as root, then not, or back).
      if (user.as.uid !== undefined && statSync(data).uid !== user.as.uid) user.own(data, true);
      chmodSync(data, 0o700);
      user.checkAccess(data);
    }
  }

  const start = async (): Promise<RunningPostgres> => {
    if (persistent) await clearStalePidFile(data);
    const port = await freePort();
    const postgres = spawnServer(
      join(bin, "postgres"),
      [
        "-D",
        data,
        "-p",
        String(port),
        "-c",
        "listen_addresses=127.0.0.1",
        // No Unix socket for a persistent cluster: its dir can be too long a path for one (108 bytes),
        // and every client here uses TCP on loopback.
        ...(persistent ? ["-c", "unix_socket_directories="] : ["-k", dir]),
        // Test data is disposable: durability settings off for speed.
        ...(durable ? [] : ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]),
      ],
      // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, then a clean checkpoint.
      "SIGINT",
      { ...user.as, stdio: ["ignore", "ignore", "pipe"], detached: persistent },
    );
    const postgresLog = stderrTail(postgres);
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        await stopChild(postgres, "SIGINT", durable ? 60_000 : 5_000);
        if (!persistent) rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    };
    try {
      await waitForPort(port, postgres, "postgres").catch((error: Error) => {
        throw new Error(`${error.message}\n${postgresLog()}`);
      });
      const exists = await waitForDatabaseCheck(bin, port, options.database, user, postgres).catch(
        (error: Error) => {
          throw new Error(`${error.message}\n${postgresLog()}`);
        },
      );
      if (!exists) {
        execFileSync(
          join(bin, "createdb"),
          ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", options.database],
          {
            ...user.as,
            stdio: "ignore",
          },
        );
      }
    } catch (error) {
      await stop();
      throw error;
    }
    return { url: `postgres://postgres@127.0.0.1:${port}/${options.database}`, port, stop };
  };

  return { dir, created, start };
}

function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    if (existsSync(join(root, v, "bin", "initdb"))) return join(root, v, "bin");
  }
  throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql: run scripts/bootstrap.sh");
}

/** Who PostgreSQL runs as: itself refuses root, so as root it runs as the `postgres` system user. */
interface PgUser {
  /** spawn/execFile options that switch to that user (empty when not root). */
  as: { uid?: number; gid?: number };
  /** Makes `path` (recursively) owned by that user; no-op when not root. */
  own(path: string, recursive?: boolean): void;
  /** Throws a clear error when that user cannot read and write `path` (e.g. a private parent dir). */
  checkAccess(path: string): void;
}

function postgresUser(): PgUser {
  if (process.getuid?.() !== 0) {
    return { as: {}, own: () => {}, checkAccess: () => {} };
  }
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  const as = { uid: id("-u"), gid: id("-g") };
  const can = (test: string, path: string) => {
    try {
      execFileSync("test", [test, path], { ...as, stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  };
  return {
    as,
    own: (path, recursive = false) =>
      execFileSync("chown", [...(recursive ? ["-R"] : []), `${as.uid}:${as.gid}`, path]),
    checkAccess: (path) => {
      if (can("-w", path) && can("-x", path)) return;
      let blocked = path;
      for (let p = dirname(path); p !== dirname(p); p = dirname(p)) if (!can("-x", p)) blocked = p;
      throw new Error(
        `PostgreSQL runs as the postgres user, which cannot use ${path} (blocked at ${blocked}): ` +
          "choose a data directory the postgres user can reach (not under a private home such as /root)",
      );
    },
  };
}

/**
 * A postmaster.pid whose process is gone is handled by PostgreSQL itself. Two cases it is not:
 * the pid now belongs to another program (pid reuse after a crash, common in containers), where the
 * file is stale and is removed; and a PostgreSQL still running on this cluster, typically the one a
 * killed local mode left behind and that is shutting down on its parent-death signal, which we wait for.
 */
async function clearStalePidFile(data: string, waitMs = 20_000): Promise<void> {
  const pidFile = join(data, "postmaster.pid");
  const deadline = Date.now() + waitMs;
  for (;;) {
    let pid: number;
    try {
      pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      return; // no /proc (not Linux): leave the decision to PostgreSQL
    }
    const argv = cmdline.split("\0");
    if (basename(argv[0] ?? "") !== "postgres" || !argv.includes(data)) {
      // PostgreSQL would refuse this file ("Is another postmaster running?") although none is.
      rmSync(pidFile, { force: true });
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `PostgreSQL (pid ${pid}) is still running on ${data}: is another local mode using this directory? Stop it first`,
      );
    }
    await sleep(200);
  }
}

const execFileAsync = (cmd: string, args: string[], options: { uid?: number; gid?: number }) =>
  new Promise<string>((resolve, reject) => {
    execFile(cmd, args, { ...options, encoding: "utf8" }, (error, stdout, stderr) =>
      error ? reject(new Error(`${cmd} failed: ${stderr || error.message}`)) : resolve(stdout),
    );
  });

/**
 * Waits until PostgreSQL accepts queries (it opens its port before it has finished starting up, or
 * recovering after a crash) and tells whether database `name` exists.
 */
async function waitForDatabaseCheck(
  bin: string,
  port: number,
  name: string,
  user: PgUser,
  postgres: ChildProcess,
  timeoutMs = 60_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const out = await execFileAsync(
        join(bin, "psql"),
        [
          "-X",
          "-h",
          "127.0.0.1",
          "-p",
          String(port),
          "-U",
          "postgres",
          "-d",
          "postgres",
          "-tAc",
          `SELECT 1 FROM pg_database WHERE datname = '${name}'`,
        ],
        user.as,
      );
      return out.trim() === "1";
    } catch (error) {
      if (exited(postgres))
        throw new Error(`postgres exited with code ${postgres.exitCode ?? postgres.signalCode}`);
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}
