// Starts and stops the real components that tests and local mode talk to: moto's server (AWS APIs),
// LocalStack (the second AWS emulator, tests only, when asked) and FerretDB (MongoDB wire protocol)
// on a PostgreSQL backend (postgres-cluster.ts). Each binds a free
// loopback port on every start. Used by the vitest global setup (once per run, on a throwaway cluster)
// and by local mode (the demo MongoDB, on a cluster that lives in its data directory and survives
// restarts).
import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { MongoClient } from "mongodb";
import { preparePostgresCluster } from "./postgres-cluster.ts";
import {
  cacheDir,
  exited,
  freePort,
  type RunningServer,
  sleep,
  spawnServer,
  stderrTail,
  stopChild,
  waitForPort,
} from "./processes.ts";

export type { RunningServer } from "./processes.ts";

function cacheBin(name: string): string {
  const inCache = join(cacheDir(), "bin", name);
  if (existsSync(inCache)) return inCache;
  throw new Error(`${name} not found in ${cacheDir()}/bin: run scripts/bootstrap.sh first`);
}

/**
 * moto's server answers requests on several threads, and its DynamoDB backend takes no lock: two
 * conditional writes of one item can both pass their check, which DynamoDB itself never allows (each
 * request is applied atomically). The contract tests race writers on purpose ("two writers never both
 * win"), so moto is started with each DynamoDB request under one lock: DynamoDB's own semantics, and
 * the other services stay threaded (an SQS long poll must not hold anything up).
 */
const MOTO_WITH_ATOMIC_DYNAMODB = `
import threading
from moto.dynamodb.responses import DynamoHandler
from moto.server import main
lock = threading.Lock()
call_action = DynamoHandler.call_action
def atomic_call_action(self):
    with lock:
        return call_action(self)
DynamoHandler.call_action = atomic_call_action
main()
`;

export async function startMoto(): Promise<RunningServer> {
  const port = await freePort();
  const python = join(cacheDir(), "moto", "bin", "python");
  if (!existsSync(python))
    throw new Error(`moto's Python not found in ${cacheDir()}: run scripts/bootstrap.sh first`);
  const args = ["-c", MOTO_WITH_ATOMIC_DYNAMODB, "-H", "127.0.0.1", "-p", String(port)];
  const child = spawnServer(python, args, "SIGTERM", {
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

/** Where root's demo clusters go: PostgreSQL's user can reach it, and it is kept across reboots. */
export const sharedDemoRoot = "/var/tmp";
const sharedClusterName = /^mongo-backup-manager-demo-[0-9a-f]{12}$/;
/** Written into each demo cluster dir we make, naming its data dir: how we know a dir is ours. */
export const demoClusterMarker = ".mongo-backup-manager-demo.json";

/** The services the tests take from LocalStack when it runs (README "AWS emulators"). */
export const LOCALSTACK_SERVICES = ["s3", "secretsmanager", "sns", "sqs", "events", "scheduler"] as const;
export type LocalStackService = (typeof LOCALSTACK_SERVICES)[number];

/**
 * `python -m localstack.runtime.main`, with its gateway bound to loopback. Its default gateway server
 * (twisted) takes only the port from GATEWAY_LISTEN and listens on every interface (a TODO in its
 * `aws/serving/twisted.py`); its hypercorn server binds the host but stalled S3 uploads that a client
 * aborts (the blob store contract's afterAll timed out), so twisted it is, given 127.0.0.1 as the
 * default interface of the endpoint class it builds its listeners with.
 */
const LOOPBACK_LOCALSTACK = `
import runpy
from twisted.internet import endpoints

class LoopbackTCP4ServerEndpoint(endpoints.TCP4ServerEndpoint):
    def __init__(self, reactor, port, backlog=50, interface=""):
        super().__init__(reactor, port, backlog, interface or "127.0.0.1")

endpoints.TCP4ServerEndpoint = LoopbackTCP4ServerEndpoint
runpy.run_module("localstack.runtime.main", run_name="__main__", alter_sys=True)
`;

/**
 * LocalStack (installed by `MBM_WITH_LOCALSTACK=1 bash scripts/bootstrap.sh`) on a free loopback port,
 * all its state under `volumeDir`. Resolves once `/_localstack/health` reports every service in
 * LOCALSTACK_SERVICES available; the error says what it last saw.
 */
export async function startLocalStack(volumeDir: string, timeoutMs = 120_000): Promise<RunningServer> {
  const python = join(cacheDir(), "localstack", "bin", "python");
  if (!existsSync(python)) {
    throw new Error(
      `LocalStack not installed in ${cacheDir()}/localstack: run MBM_WITH_LOCALSTACK=1 bash scripts/bootstrap.sh`,
    );
  }
  mkdirSync(volumeDir, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawnServer(python, ["-c", LOOPBACK_LOCALSTACK], "SIGTERM", {
    stdio: ["ignore", "ignore", "pipe"],
    cwd: volumeDir,
    // Not the caller's environment: none of its AWS_* or LocalStack settings should reach the emulator.
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: volumeDir,
      GATEWAY_LISTEN: `127.0.0.1:${port}`,
      SERVICES: LOCALSTACK_SERVICES.join(","),
      LOCALSTACK_VOLUME_DIR: volumeDir,
      // No DNS server (it would want port 53), no certificate download, no usage analytics: the
      // machine reaches no network but the package registries.
      DNS_ADDRESS: "0",
      SKIP_SSL_CERT_DOWNLOAD: "1",
      DISABLE_EVENTS: "1",
    },
  });
  const log = stderrTail(child);
  const deadline = Date.now() + timeoutMs;
  let seen = "nothing yet";
  try {
    while (Date.now() < deadline) {
      if (exited(child))
        throw new Error(`LocalStack exited early with code ${child.exitCode ?? child.signalCode}`);
      try {
        const res = await fetch(`${url}/_localstack/health`, { signal: AbortSignal.timeout(5_000) });
        const body = await res.text();
        seen = `HTTP ${res.status}: ${body.slice(0, 2000)}`;
        if (res.ok) {
          const health = JSON.parse(body) as { services?: Record<string, string> };
          const ready = (s: string | undefined) => s === "available" || s === "running";
          if (LOCALSTACK_SERVICES.every((name) => ready(health.services?.[name]))) {
            return { url, stop: () => stopChild(child) };
          }
        }
      } catch (error) {
        if (error instanceof SyntaxError) seen = `unparsable health answer: ${seen}`;
        else seen = (error as Error).message;
      }
      await sleep(250);
    }
    throw new Error(`LocalStack was not healthy at ${url} within ${timeoutMs} ms; last seen: ${seen}`);
  } catch (error) {
    await stopChild(child);
    throw new Error(`${(error as Error).message}\n${log()}`);
  }
}

/**
 * Where local mode keeps the demo MongoDB's cluster for a data dir. Not root: `<dataDir>/demo-mongo`.
 * As root, PostgreSQL runs as the postgres user, which cannot enter the 0700 data dir (nor a private
 * home), so the cluster goes under `root` (/var/tmp), named after the data dir.
 */
export function demoClusterDir(dataDir: string, root = sharedDemoRoot): string {
  if (process.getuid?.() !== 0) return join(dataDir, "demo-mongo");
  return sharedClusterDir(dataDir, root);
}

/** The cluster dir a data dir gets under the shared root (whatever user runs this). */
export function sharedClusterDir(dataDir: string, root = sharedDemoRoot): string {
  const hash = createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12);
  return join(root, `mongo-backup-manager-demo-${hash}`);
}

/** Marks `clusterDir` as the demo cluster of `dataDir` (rewritten on every start: cheap, and it marks
 * clusters made before markers existed). */
export function markDemoCluster(clusterDir: string, dataDir: string): void {
  writeFileSync(join(clusterDir, demoClusterMarker), `${JSON.stringify({ data_dir: resolve(dataDir) })}\n`);
}

/** The data dir our marker in `clusterDir` names, or undefined when the dir is not ours. */
function markedDataDir(clusterDir: string): string | undefined {
  try {
    if (!lstatSync(clusterDir).isDirectory()) return undefined;
    const marker: unknown = JSON.parse(readFileSync(join(clusterDir, demoClusterMarker), "utf8"));
    const dataDir = (marker as { data_dir?: unknown } | null)?.data_dir;
    return typeof dataDir === "string" && isAbsolute(dataDir) ? dataDir : undefined;
  } catch {
    return undefined;
  }
}

/** True when the cluster's PostgreSQL is running (its postmaster.pid names a live process). */
function clusterRunning(clusterDir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(clusterDir, "pg", "postmaster.pid"), "utf8").split("\n")[0]);
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the demo clusters under `root` whose data dir no longer exists, so a cluster lives only as
 * long as its data dir. Only dirs that carry our name pattern, our marker naming a data dir, and the
 * name that data dir hashes to, and whose PostgreSQL is not running; anything else is left alone
 * (including clusters from before markers: remove those by hand). Returns the dirs removed.
 */
export function removeOrphanDemoClusters(root = sharedDemoRoot): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names.filter((n) => sharedClusterName.test(n))) {
    const dir = join(root, name);
    const dataDir = markedDataDir(dir);
    if (!dataDir || sharedClusterDir(dataDir, root) !== dir) continue;
    if (existsSync(dataDir) || clusterRunning(dir)) continue;
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/**
 * Removes a data dir together with its demo cluster (`npm run clean`). Refuses while the demo's
 * PostgreSQL runs from it (stop local mode first). A shared-root cluster is removed only when our
 * marker names this data dir. Returns what was removed.
 */
export function removeDataDir(dataDir: string, root = sharedDemoRoot): string[] {
  const absolute = resolve(dataDir);
  const candidates = [join(absolute, "demo-mongo"), sharedClusterDir(absolute, root)];
  const running = candidates.find((dir) => existsSync(dir) && clusterRunning(dir));
  if (running) throw new Error(`the demo MongoDB in ${running} is running: stop local mode first`);
  const removed: string[] = [];
  const shared = sharedClusterDir(absolute, root);
  if (markedDataDir(shared) === absolute) {
    rmSync(shared, { recursive: true, force: true });
    removed.push(shared);
  }
  if (existsSync(absolute)) {
    rmSync(absolute, { recursive: true, force: true });
    removed.push(absolute);
  }
  return removed;
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
  const persistent = options.dir !== undefined;
  const cluster = preparePostgresCluster({
    dir: options.dir,
    durable: options.durable,
    database: "ferretdb",
  });
  const { dir, created } = cluster;
  // Without `dir`, FerretDB's state goes in the cluster's temp dir, deleted with it.
  const stateDir = persistent ? join(dir, "ferretdb") : dir;
  if (persistent) {
    mkdirSync(stateDir, { recursive: true });
    if (!created && options.password === undefined) {
      throw new Error(
        `${dir} holds an existing demo cluster: pass the password its setup user was created with`,
      );
    }
  }

  const postgres = await cluster.start();
  let ferret: ChildProcess | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (ferret) await stopChild(ferret);
      await postgres.stop();
    })();
    return stopping;
  };
  try {
    const port = await freePort();
    const username = "admin";
    const password = options.password ?? `pw-${randomBytes(12).toString("hex")}`;
    // FerretDB takes the setup password from its environment rather than argv, so the secret does
    // not sit in this machine's process list either.
    ferret = spawnServer(
      cacheBin("ferretdb"),
      [
        "--handler=postgresql",
        `--postgresql-url=${postgres.url}`,
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
