// Starts and stops the real components that tests and local mode talk to: moto's server (AWS APIs) and
// FerretDB (MongoDB wire protocol) on a PostgreSQL backend. Each binds a free loopback port on every
// start. Used by the vitest global setup (once per run, on a throwaway cluster) and by local mode (the
// demo MongoDB, on a cluster that lives in its data directory and survives restarts).
import { type ChildProcess, execFile, execFileSync, type SpawnOptions, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
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
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { MongoClient } from "mongodb";

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForPort(port: number, child: ChildProcess, name: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited(child))
      throw new Error(`${name} exited early with code ${child.exitCode ?? child.signalCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
      socket.connect(port, "127.0.0.1");
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`${name} did not open port ${port} within ${timeoutMs} ms`);
}

function cacheBin(name: string): string {
  const cache = process.env.MBM_CACHE ?? join(process.env.HOME ?? "/root", ".cache", "mongo-backup-manager");
  const inCache = join(cache, "bin", name);
  if (existsSync(inCache)) return inCache;
  throw new Error(`${name} not found in ${cache}/bin: run scripts/bootstrap.sh first`);
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Sends `signal`, then SIGKILL if the child is still there after `killAfterMs`. Safe to call twice. */
function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = "SIGTERM",
  killAfterMs = 5_000,
): Promise<void> {
  if (exited(child) || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** Keeps the last few KiB a child writes to stderr, for error messages. */
function stderrTail(child: ChildProcess): () => string {
  let tail = "";
  child.stderr?.on("data", (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000);
  });
  return () => tail;
}

/**
 * util-linux's setpriv, to give a server a parent-death signal: if this process dies without
 * stopping its servers (SIGKILL, a crash), they are signalled too instead of living on as orphans
 * that hold the ports and the cluster's lock. Absent (not Linux): servers are started without it.
 */
const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

/** Spawns a long-running server, with a parent-death signal where setpriv is available. */
function spawnServer(cmd: string, args: string[], deathSignal: NodeJS.Signals, options: SpawnOptions) {
  return setpriv
    ? spawn(setpriv, [`--pdeathsig=${deathSignal}`, "--", cmd, ...args], options)
    : spawn(cmd, args, options);
}

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<RunningServer> {
  const port = await freePort();
  const child = spawnServer(cacheBin("moto_server"), ["-H", "127.0.0.1", "-p", String(port)], "SIGTERM", {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const stderr = stderrTail(child);
  try {
    await waitForPort(port, child, "moto_server");
  } catch (error) {
    await stopChild(child);
    throw new Error(`${(error as Error).message}\n${stderr()}`);
  }
  return { url: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
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
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
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

/**
 * Where local mode keeps the demo MongoDB's cluster for a data dir. Not root: `<dataDir>/demo-mongo`.
 * As root, PostgreSQL runs as the postgres user, which cannot enter the 0700 data dir (nor a private
 * home), so the cluster goes under /var/tmp (kept across reboots), named after the data dir.
 */
export function demoClusterDir(dataDir: string): string {
  if (process.getuid?.() !== 0) return join(dataDir, "demo-mongo");
  const hash = createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12);
  return join("/var/tmp", `mongo-backup-manager-demo-${hash}`);
}

export interface RunningMongo extends RunningServer {
  host: string;
  port: number;
  username: string;
  password: string;
  /** True when this start created the PostgreSQL cluster (always, without `dir`). */
  created: boolean;
}

export interface FerretDbOptions {
  /**
   * Keep the PostgreSQL cluster in `<dir>/pg` (and FerretDB's state in `<dir>/ferretdb`) across
   * restarts: created on the first start, reused afterwards, never deleted. As root, `dir` and
   * `<dir>/pg` are made the postgres user's, and that user must be able to reach `dir` (not under
   * a private home such as /root). Without `dir`: a fresh cluster in a temp dir, deleted on stop.
   * With `dir` the servers also get their own process group, so a Ctrl-C in the terminal reaches
   * only the caller, which stops them in order (they still stop by themselves if the caller dies).
   */
  dir?: string;
  /**
   * The setup user's password. FerretDB creates that user only on the first start of an empty
   * backend, so a persistent `dir` must be started with the same password every time (checked on
   * start). Default: a random one, allowed only when the cluster is being created.
   */
  password?: string;
  /** fsync and synchronous commits on. Default: on with `dir`; off without (disposable test data). */
  durable?: boolean;
}

/**
 * FerretDB v1 on PostgreSQL, with authentication on (a setup user `admin` in `admin`), each on a free
 * loopback port chosen on every start (so a persistent cluster's port changes between restarts).
 */
export async function startFerretDb(options: FerretDbOptions = {}): Promise<RunningMongo> {
  const bin = postgresBinDir();
  const user = postgresUser();
  const persistent = options.dir !== undefined;
  const durable = options.durable ?? persistent;
  const dir = persistent ? resolve(options.dir as string) : mkdtempSync(join(tmpdir(), "mbm-pg-"));
  const data = persistent ? join(dir, "pg") : join(dir, "data");
  const stateDir = persistent ? join(dir, "ferretdb") : dir;

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
    // The directory is the demo's own: as root it belongs to the postgres user (PostgreSQL must
    // reach its cluster inside); root still writes FerretDB's state next to it.
    if (user.as.uid !== undefined && statSync(dir).uid !== user.as.uid) user.own(dir);
    user.checkAccess(dir);
    mkdirSync(stateDir, { recursive: true });
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
    if (!created && options.password === undefined) {
      throw new Error(
        `${dir} holds an existing demo cluster: pass the password its setup user was created with`,
      );
    }
    await clearStalePidFile(data);
  }

  const pgPort = await freePort();
  const postgres = spawnServer(
    join(bin, "postgres"),
    [
      "-D",
      data,
      "-p",
      String(pgPort),
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
  let ferret: ChildProcess | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (ferret) await stopChild(ferret);
      await stopChild(postgres, "SIGINT", durable ? 60_000 : 5_000);
      if (!persistent) rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  try {
    await waitForPort(pgPort, postgres, "postgres").catch((error: Error) => {
      throw new Error(`${error.message}\n${postgresLog()}`);
    });
    const exists = await waitForDatabaseCheck(bin, pgPort, "ferretdb", user, postgres).catch(
      (error: Error) => {
        throw new Error(`${error.message}\n${postgresLog()}`);
      },
    );
    if (!exists) {
      execFileSync(
        join(bin, "createdb"),
        ["-h", "127.0.0.1", "-p", String(pgPort), "-U", "postgres", "ferretdb"],
        {
          ...user.as,
          stdio: "ignore",
        },
      );
    }

    const port = await freePort();
    const username = "admin";
    const password = options.password ?? `pw-${randomBytes(12).toString("hex")}`;
    // FerretDB takes the setup password from its environment rather than argv, so the secret does
    // not sit in this machine's process list either.
    ferret = spawnServer(
      cacheBin("ferretdb"),
      [
        "--handler=postgresql",
        `--postgresql-url=postgres://postgres@127.0.0.1:${pgPort}/ferretdb`,
        `--listen-addr=127.0.0.1:${port}`,
        "--test-enable-new-auth",
        `--setup-username=${username}`,
        "--setup-database=admin",
        "--telemetry=disable",
        "--debug-addr=-",
        "--log-level=error",
        "--state-dir",
        stateDir,
      ],
      "SIGTERM",
      {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, FERRETDB_SETUP_PASSWORD: password },
        detached: persistent,
      },
    );
    const ferretLog = stderrTail(ferret);
    await waitForPort(port, ferret, "ferretdb").catch((error: Error) => {
      throw new Error(`${error.message}\n${ferretLog()}`);
    });
    if (!created) await checkSetupPassword(port, username, password, dir);
    return {
      url: `mongodb://127.0.0.1:${port}`,
      host: "127.0.0.1",
      port,
      username,
      password,
      created,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** On a reused cluster the setup user already exists: make a wrong password a clear error at start. */
async function checkSetupPassword(port: number, username: string, password: string, dir: string) {
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/?authSource=admin`, {
    auth: { username, password },
    serverSelectionTimeoutMS: 10_000,
  });
  try {
    await client.db("admin").command({ listDatabases: 1, nameOnly: true });
  } catch (error) {
    if (/auth/i.test((error as Error).message)) {
      throw new Error(
        `the demo MongoDB in ${dir} refused the password: its user was created on first start with another one`,
      );
    }
    throw error;
  } finally {
    await client.close();
  }
}
