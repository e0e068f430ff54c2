// Child-process plumbing shared by the local servers (local-servers.ts) and the PostgreSQL cluster
// under FerretDB (postgres-cluster.ts): free loopback ports, starting a long-running server that
// dies with its parent, waiting for its port, and stopping it. Its own module so that both can use
// it while local-servers.ts depends on postgres-cluster.ts and not the other way round.
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";

/** Where scripts/bootstrap.sh installs things (the same rule as its CACHE line). */
export function cacheDir(): string {
  return (
    process.env.MBM_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "mongo-backup-manager")
  );
}

/** A tool on PATH, else the bootstrap's build of it (PATH wins, as the README says). */
export function findTool(name: string): string {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  const cached = join(cacheDir(), "bin", name);
  if (existsSync(cached)) return cached;
  throw new Error(`${name} not found on PATH or in ${cacheDir()}/bin: run bash scripts/bootstrap.sh`);
}

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitForPort(port: number, child: ChildProcess, name: string, timeoutMs = 30_000) {
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

export const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Sends `signal`, then SIGKILL if the child is still there after `killAfterMs`. Safe to call twice. */
export function stopChild(
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
export function stderrTail(child: ChildProcess): () => string {
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
export function spawnServer(cmd: string, args: string[], deathSignal: NodeJS.Signals, options: SpawnOptions) {
  return setpriv
    ? spawn(setpriv, [`--pdeathsig=${deathSignal}`, "--", cmd, ...args], options)
    : spawn(cmd, args, options);
}
