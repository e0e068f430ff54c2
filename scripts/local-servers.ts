// Starts and stops the real components the tests talk to: moto's server (AWS APIs) and FerretDB
// (MongoDB wire protocol) on a PostgreSQL backend. Each binds a free loopback port. Used by the vitest
// global setup (once per run) and by scripts that need the same servers.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

async function waitForPort(port: number, child: ChildProcess, name: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited early with code ${child.exitCode}`);
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
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not open port ${port} within ${timeoutMs} ms`);
}

function cacheBin(name: string): string {
  const cache = process.env.MBM_CACHE ?? join(process.env.HOME ?? "/root", ".cache", "mongo-backup-manager");
  const inCache = join(cache, "bin", name);
  if (existsSync(inCache)) return inCache;
  throw new Error(`${name} not found in ${cache}/bin: run scripts/bootstrap.sh first`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(cacheBin("moto_server"), ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  try {
    await waitForPort(port, child, "moto_server");
  } catch (error) {
    await stopChild(child);
    throw new Error(`${(error as Error).message}\n${stderr}`);
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

export interface RunningMongo extends RunningServer {
  host: string;
  port: number;
  username: string;
  password: string;
}

/**
 * FerretDB v1 on PostgreSQL, with authentication on (a setup user in `admin`). PostgreSQL refuses
 * to run as root, so as root its processes run as the `postgres` system user.
 */
export async function startFerretDb(): Promise<RunningMongo> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), "mbm-pg-"));
  const asRoot = process.getuid?.() === 0;
  const asPg = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  if (asRoot) execFileSync("chown", ["postgres", dir]);
  const data = join(dir, "data");
  const [initCmd, initArgs] = asPg(join(bin, "initdb"), [
    "-D",
    data,
    "-A",
    "trust",
    "-U",
    "postgres",
    "-E",
    "UTF8",
  ]);
  execFileSync(initCmd, initArgs, { stdio: "ignore" });

  const pgPort = await freePort();
  const [pgCmd, pgArgs] = asPg(join(bin, "postgres"), [
    "-D",
    data,
    "-p",
    String(pgPort),
    "-k",
    dir,
    "-c",
    "listen_addresses=127.0.0.1",
    // Test data is disposable: durability settings off for speed.
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
  ]);
  const postgres = spawn(pgCmd, pgArgs, { stdio: "ignore" });
  let ferret: ChildProcess | undefined;
  const stopAll = async () => {
    if (ferret) await stopChild(ferret);
    await stopChild(postgres);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(pgPort, postgres, "postgres");
    const [createCmd, createArgs] = asPg(join(bin, "createdb"), [
      "-h",
      "127.0.0.1",
      "-p",
      String(pgPort),
      "-U",
      "postgres",
      "ferretdb",
    ]);
    execFileSync(createCmd, createArgs, { stdio: "ignore" });

    const port = await freePort();
    const username = "admin";
    const password = `pw-${randomBytes(12).toString("hex")}`;
    // FerretDB takes the setup password from its environment rather than argv, so the test
    // secret does not sit in this machine's process list either.
    ferret = spawn(
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
        dir,
      ],
      { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, FERRETDB_SETUP_PASSWORD: password } },
    );
    let stderr = "";
    ferret.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    await waitForPort(port, ferret, "ferretdb").catch((error: Error) => {
      throw new Error(`${error.message}\n${stderr}`);
    });
    return { url: `mongodb://127.0.0.1:${port}`, host: "127.0.0.1", port, username, password, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
