// Runs mongodump and mongorestore. The password and the URI go into a YAML file passed with
// `--config` (mode 0600 in a private 0700 temp dir, removed afterwards), so neither appears in the
// process list (/proc/<pid>/cmdline) or the environment; mongo tools print a warning and expose the
// password otherwise. Everything the tools print is redacted before it is kept.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { redact } from "#core/redact.ts";

export interface ToolPaths {
  mongodump: string;
  mongorestore: string;
}

export interface ToolRun {
  child: ChildProcess;
  /** Resolves when the tool has exited and its config dir is gone; never rejects. */
  done: Promise<ToolExit>;
}

export interface ToolExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines of stderr, redacted. */
  stderrTail: string[];
}

/**
 * Arguments bounding how long a tool looks for a reachable server. The tools' URI option
 * `serverSelectionTimeoutMS` is read as milliseconds but applied as seconds (mongo-tools
 * common/db/db.go), so 3000 would mean 50 minutes; their own `--serverSelectionTimeout` flag is
 * seconds throughout. It is left out when the user's URI sets the option (the tools refuse both).
 */
export function serverSelectionArgs(uri: string, seconds: number): string[] {
  return /[?&]serverSelectionTimeoutMS=/i.test(uri) ? [] : [`--serverSelectionTimeout=${seconds}`];
}

/** YAML double-quoted scalars accept JSON string syntax, so JSON.stringify quotes any value safely. */
function yamlConfig(values: Record<string, string | undefined>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `${key}: ${JSON.stringify(value)}\n`)
    .join("");
}

/**
 * Starts a mongo tool with `args` (never secrets) and a private config file holding the URI and
 * password. `onStderrLine` sees every redacted stderr line (progress, per-collection counts).
 */
export async function startTool(
  path: string,
  args: string[],
  connection: { uri: string; password: string | undefined },
  onStderrLine: (line: string) => void,
): Promise<ToolRun> {
  const dir = await mkdtemp(join(tmpdir(), "mbm-tool-"));
  const config = join(dir, "config.yaml");
  const secrets = [connection.password];
  try {
    await writeFile(config, yamlConfig({ uri: connection.uri, password: connection.password }), {
      mode: 0o600,
      flag: "wx",
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const child = spawn(path, [`--config=${config}`, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    // The tools need nothing from our environment, and it may hold credentials of ours (AWS).
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, TZ: "UTC" },
  });
  const tail: string[] = [];
  let partial = "";
  const takeLine = (raw: string) => {
    const line = redact(raw, secrets);
    tail.push(line);
    if (tail.length > 20) tail.shift();
    onStderrLine(line);
  };
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) takeLine(line);
  });
  const done = new Promise<ToolExit>((resolve) => {
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      if (partial.trim()) takeLine(partial);
      rm(dir, { recursive: true, force: true })
        .catch(() => undefined)
        .then(() => resolve({ code, signal, stderrTail: tail }));
    };
    child.once("error", (error) => {
      takeLine(`could not start ${path}: ${error.message}`);
      finish(null, null);
    });
    child.once("close", finish);
  });
  return { child, done };
}

/** Stops a tool: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export function stopTool(run: ToolRun, graceMs = 5_000): void {
  const { child } = run;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  timer.unref();
  void run.done.then(() => clearTimeout(timer));
}

/** The reason a tool failed, from its exit and its last `Failed:` line. */
export function describeToolFailure(tool: string, exit: ToolExit): string {
  const failedLine = [...exit.stderrTail].reverse().find((line) => /\bFailed:|error/i.test(line));
  const detail = failedLine ? failedLine.replace(/^\S+\s+/, "").replace(/^Failed:\s*/, "") : "";
  const how = exit.signal
    ? `was killed by ${exit.signal}`
    : exit.code === null
      ? "could not be started"
      : `exited with code ${exit.code}`;
  // Unreachable first: its message quotes the URI, whose `authSource` would look like an auth error.
  const kind = /server selection|connection refused|no reachable servers|i\/o timeout|no such host/i.test(
    detail,
  )
    ? "server unreachable: "
    : /AuthenticationFailed|authentication failed|auth error|unable to authenticate/i.test(detail)
      ? "authentication failed: "
      : "";
  return `${tool} ${how}${detail ? `: ${kind}${detail}` : ""}`;
}

const execFileAsync = promisify(execFile);
const versions = new Map<string, string>();

/** `mongodump version: 100.12.2` -> `100.12.2`. Cached per binary. */
export async function toolVersion(path: string): Promise<string> {
  const cached = versions.get(path);
  if (cached) return cached;
  const { stdout } = await execFileAsync(path, ["--version"], { timeout: 10_000 });
  const version = /version:\s*(\S+)/.exec(stdout)?.[1] ?? "unknown";
  versions.set(path, version);
  return version;
}

/** `done dumping db.coll (123 documents)` -> ["coll", 123]. Database names cannot contain dots. */
export function parseDumpedCollection(line: string, database: string): [string, number] | undefined {
  const match = /done dumping ([^ ]+) \((\d+) documents?\)/.exec(line);
  if (!match?.[1] || !match[2]) return undefined;
  const ns = match[1];
  if (!ns.startsWith(`${database}.`)) return undefined;
  return [ns.slice(database.length + 1), Number(match[2])];
}

/** `20000 document(s) restored successfully. 0 document(s) failed to restore.` */
export function parseRestoreSummary(line: string): { restored: number; failed: number } | undefined {
  const match = /(\d+) document\(s\) restored successfully\. (\d+) document\(s\) failed to restore/.exec(
    line,
  );
  return match ? { restored: Number(match[1]), failed: Number(match[2]) } : undefined;
}

/** Escapes a namespace part for mongorestore's --nsInclude/--nsFrom/--nsTo patterns. */
export function escapeNamespacePart(part: string): string {
  return part.replace(/[\\*]/g, (c) => `\\${c}`);
}
