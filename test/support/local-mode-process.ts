// Local mode as its own process (`node scripts/local.ts`, what `npm start` runs after the
// bootstrap), on a free port with a scratch data dir, for tests that drive it from outside.
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { demoClusterDir } from "../../scripts/local-servers.ts";
import { freePort } from "../../scripts/processes.ts";
import { repoRoot } from "./engine-harness.ts";

export interface LocalModeProcess {
  url: string;
  token: string;
  dataDir: string;
  /** The last 20 kB of its output, for failure messages. */
  output(): string;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  stop(): Promise<void>;
}

export async function startLocalMode(options: {
  dataDir: string;
  token: string;
  viewerToken?: string;
  timeoutMs?: number;
  /** false: no demo MongoDB (DEMO=0). Default on, as `npm start`. */
  demo?: boolean;
}): Promise<LocalModeProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const child: ChildProcess = spawn(process.execPath, [join(repoRoot, "scripts/local.ts")], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: options.dataDir,
      API_TOKEN: options.token,
      ...(options.viewerToken ? { API_READ_TOKEN: options.viewerToken } : {}),
      MBM_LOG_LEVEL: "info",
      ...(options.demo === false ? { DEMO: "0" } : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group: stopping it stops its tasks and the demo MongoDB
  });
  const collect = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((done) => child.once("exit", () => done()));

  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  while (!output.includes(`#token=${options.token}`)) {
    if (child.exitCode !== null) throw new Error(`local mode exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`local mode did not start in time:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    url,
    token: options.token,
    dataDir: options.dataDir,
    output: () => output,
    async api(method, path, body) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    },
    async stop() {
      // The demo's PostgreSQL cluster may live outside the data dir (as root: under /var/tmp).
      const cleanUp = () => rmSync(demoClusterDir(options.dataDir), { recursive: true, force: true });
      if (!child.pid || child.exitCode !== null || child.signalCode !== null) return cleanUp();
      // Ctrl-C as a terminal sends it; local mode stops its jobs and the demo, then exits.
      process.kill(-child.pid, "SIGINT");
      const timer = setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, 15_000);
      await exited;
      clearTimeout(timer);
      cleanUp();
    },
  };
}
