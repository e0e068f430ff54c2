// The restore drill's throwaway server (an ephemeral target): a MongoDB the task starts itself on a
// free loopback port, its data in a fresh directory under the task's tmp, removed with the process
// when the drill ends, whatever happened. The binary and its argument template are configuration
// (MBM_DRILL_SERVER, MBM_DRILL_SERVER_ARGS): the task image's `mongod`, or, where no mongod exists
// (local mode, the tests), scripts/throwaway-ferretdb.ts through the same code path.
//
// Nothing outlives the task by design: the server gets a parent-death signal (setpriv, where it
// exists), so a task killed outright takes its server down too. What a killed task cannot remove is
// its data dir; the next drill on the machine removes dirs whose task is gone (removeStaleDrillDirs).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { redact } from "#core/redact.ts";
import { type DrillServerConfig, JobFailedError } from "./engine.ts";

export interface ThrowawayServer {
  port: number;
  /** `mongodb://127.0.0.1:<port>/?directConnection=true`: no credentials, loopback only. */
  uri: string;
  /** Its data directory (removed by `stop`). */
  dir: string;
  pid: number | undefined;
  /** From the spawn until it accepted a connection. */
  startupMs: number;
  /** Stops the process (SIGTERM, then SIGKILL) and removes its data dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** Data dirs are `mbm-drill-<task pid>-<random>`: the pid says whether their task is still alive. */
const DIR_PREFIX = "mbm-drill-";
const STALE_DIR = /^mbm-drill-(\d+)-/;
/** In the data dir: the server's pid, so a later cleanup can find a server its dead task left. */
const PID_FILE = ".mbm-drill-server.pid";
const STOP_GRACE_MS = 30_000;
const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function cmdlineOf(pid: number): Promise<string> {
  return await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
}

/**
 * Removes the data dirs under `root` left by drills whose task is gone (killed before its cleanup),
 * after killing a server still running from one (a server started without a parent-death signal).
 * Returns the dirs removed.
 */
export async function removeStaleDrillDirs(root = tmpdir()): Promise<string[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const owner = STALE_DIR.exec(name)?.[1];
    if (!owner || Number(owner) === process.pid || alive(Number(owner))) continue;
    const dir = join(root, name);
    const serverPid = Number(await readFile(join(dir, PID_FILE), "utf8").catch(() => ""));
    // Only a process whose command line names this very dir is ours to stop (a pid may be reused).
    if (Number.isInteger(serverPid) && serverPid > 0 && (await cmdlineOf(serverPid)).includes(dir)) {
      try {
        process.kill(serverPid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

async function freeLoopbackPort(): Promise<number> {
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

async function accepts(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child) || child.pid === undefined) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(exited(child)), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** The template's arguments for this start. */
export function serverArgs(template: readonly string[], port: number, dbpath: string): string[] {
  return template.map((arg) => arg.replaceAll("{port}", String(port)).replaceAll("{dbpath}", dbpath));
}

/**
 * Starts the throwaway server and resolves once it accepts connections. JobFailedError("the
 * throwaway server could not start: ...", with the tail of its output, redacted) when it exits,
 * cannot be spawned or misses the deadline; the process and its dir are gone by then.
 */
export async function startThrowawayServer(
  config: DrillServerConfig,
  signal: AbortSignal,
  root = tmpdir(),
): Promise<ThrowawayServer> {
  const dir = await mkdtemp(join(root, `${DIR_PREFIX}${process.pid}-`));
  const port = await freeLoopbackPort();
  const args = serverArgs(config.args, port, dir);
  const started = performance.now();
  const child = spawn(
    setpriv ?? config.binary,
    setpriv ? ["--pdeathsig=SIGTERM", "--", config.binary, ...args] : args,
    {
      stdio: ["ignore", "pipe", "pipe"],
      // Nothing of ours (AWS credentials) in its environment; HOME in its own dir.
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, TZ: "UTC" },
    },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });
  if (child.pid !== undefined) await writeFile(join(dir, PID_FILE), String(child.pid)).catch(() => undefined);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (!exited(child) && child.pid !== undefined) {
        child.kill("SIGTERM");
        if (!(await waitForExit(child, STOP_GRACE_MS))) {
          child.kill("SIGKILL");
          await waitForExit(child, 5_000);
        }
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const tail = () => {
    const lines = redact(output, []).trim().split("\n").slice(-5).join(" | ");
    return lines ? `: ${lines.slice(-1000)}` : "";
  };
  const deadline = Date.now() + config.startTimeoutMs;
  try {
    for (;;) {
      signal.throwIfAborted();
      if (spawnError)
        throw new JobFailedError(
          `the throwaway server could not start: ${config.binary}: ${spawnError.message}`,
        );
      if (exited(child)) {
        throw new JobFailedError(
          `the throwaway server could not start: ${config.binary} exited with ${child.exitCode ?? child.signalCode}${tail()}`,
        );
      }
      if (await accepts(port)) break;
      if (Date.now() > deadline) {
        throw new JobFailedError(
          `the throwaway server could not start: it did not accept connections on 127.0.0.1:${port} within ${Math.round(config.startTimeoutMs / 1000)} s${tail()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    uri: `mongodb://127.0.0.1:${port}/?directConnection=true`,
    dir,
    pid: child.pid,
    startupMs: Math.round(performance.now() - started),
    stop,
  };
}
