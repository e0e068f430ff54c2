// Local mode's demo clusters outside their data dir (root's, under /var/tmp) live only as long as the
// data dir: a marker names it, local mode's start removes ours whose data dir is gone, and
// `npm run clean` removes a data dir with its cluster. All on real directories under a temp root
// standing in for /var/tmp.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  demoClusterMarker,
  markDemoCluster,
  removeDataDir,
  removeOrphanDemoClusters,
  sharedClusterDir,
} from "../../scripts/local-servers.ts";
import { freePort } from "../../scripts/processes.ts";
import { repoRoot } from "../support/engine-harness.ts";

let work: string;
let root: string;

function clusterFor(dataDir: string): string {
  return sharedClusterDir(dataDir, root);
}

/** A cluster dir as local mode leaves one: PostgreSQL's files (stand-ins) and, if `marked`, the marker. */
function makeCluster(dataDir: string, options: { marked?: boolean; runningPid?: number } = {}): string {
  const dir = clusterFor(dataDir);
  mkdirSync(join(dir, "pg"), { recursive: true });
  writeFileSync(join(dir, "pg", "PG_VERSION"), "15\n");
  if (options.runningPid !== undefined)
    writeFileSync(join(dir, "pg", "postmaster.pid"), `${options.runningPid}\n${dir}/pg\n`);
  if (options.marked !== false) markDemoCluster(dir, dataDir);
  return dir;
}

function listRoot(): string[] {
  return readdirSync(root).sort();
}

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "mbm-demo-clusters-"));
  root = join(work, "var-tmp");
  mkdirSync(root);
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("removeOrphanDemoClusters", () => {
  it("removes only our marked clusters whose data dir is gone, and leaves everything else", () => {
    const liveData = join(work, "live-data");
    mkdirSync(liveData);
    const live = makeCluster(liveData);
    const orphan = makeCluster(join(work, "deleted-data"));
    const unmarked = makeCluster(join(work, "deleted-too"), { marked: false });
    const running = makeCluster(join(work, "deleted-while-running"), { runningPid: process.pid });
    // Our marker in a dir whose name is not what its data dir hashes to: not ours to judge.
    const renamed = join(root, "mongo-backup-manager-demo-000000000000");
    mkdirSync(renamed);
    markDemoCluster(renamed, join(work, "gone"));
    // Not our name pattern at all, though marked.
    const stranger = join(root, "someone-elses-dir");
    mkdirSync(stranger);
    markDemoCluster(stranger, join(work, "gone"));
    // Our name, but a symlink to a marked dir elsewhere, and a plain file.
    const elsewhere = join(work, "elsewhere");
    mkdirSync(elsewhere);
    markDemoCluster(elsewhere, join(work, "gone-linked"));
    const link = clusterFor(join(work, "gone-linked"));
    symlinkSync(elsewhere, link);
    const file = clusterFor(join(work, "gone-file"));
    writeFileSync(file, "not a dir");
    // A corrupt marker.
    const corrupt = makeCluster(join(work, "gone-corrupt"), { marked: false });
    writeFileSync(join(corrupt, demoClusterMarker), "{not json");

    const before = listRoot();
    const removed = removeOrphanDemoClusters(root);

    expect(removed).toEqual([orphan]);
    expect(listRoot()).toEqual(before.filter((name) => name !== basename(orphan)));
    for (const kept of [live, unmarked, running, renamed, stranger, link, file, corrupt]) {
      expect(existsSync(kept), kept).toBe(true);
    }
    expect(existsSync(join(elsewhere, demoClusterMarker))).toBe(true);
  });

  it("does nothing when the root does not exist", () => {
    expect(removeOrphanDemoClusters(join(work, "no-such-root"))).toEqual([]);
  });
});

describe("removeDataDir (npm run clean)", () => {
  it("removes the data dir and its marked cluster, and nobody else's", () => {
    const dataDir = join(work, "data");
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, "api-token"), "t\n");
    const cluster = makeCluster(dataDir);
    const otherData = join(work, "other-data");
    mkdirSync(otherData);
    const other = makeCluster(otherData);

    expect(removeDataDir(dataDir, root).sort()).toEqual([cluster, dataDir].sort());
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(cluster)).toBe(false);
    expect(existsSync(other)).toBe(true);
    expect(existsSync(otherData)).toBe(true);
  });

  it("refuses while the demo's PostgreSQL runs, and removes nothing", () => {
    const dataDir = join(work, "data");
    mkdirSync(dataDir);
    const cluster = makeCluster(dataDir, { runningPid: process.pid });
    expect(() => removeDataDir(dataDir, root)).toThrow(/is running: stop local mode first/);
    expect(existsSync(dataDir)).toBe(true);
    expect(existsSync(join(cluster, "pg", "PG_VERSION"))).toBe(true);
  });

  // `npm run clean` is this script behind the bootstrap (test/scripts/fresh-clone.sh runs it that way
  // on a fresh clone); here it runs directly so that no bootstrap touches this run's node_modules.
  it("scripts/clean.ts (npm run clean) removes DATA_DIR with its cluster", () => {
    const dataDir = join(work, "data");
    mkdirSync(dataDir);
    const cluster = makeCluster(dataDir);
    const run = spawnSync(process.execPath, [join(repoRoot, "scripts/clean.ts")], {
      cwd: repoRoot,
      env: { ...process.env, DATA_DIR: dataDir, MBM_DEMO_CLUSTER_ROOT: root },
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain(cluster);
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(cluster)).toBe(false);
  });
});

describe("local mode's start", () => {
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((done) => child?.once("exit", done));
      child.kill("SIGTERM");
      await exited;
    }
    child = undefined;
  });

  it("removes our clusters whose data dir is gone, and keeps the others", async () => {
    const orphan = makeCluster(join(work, "deleted-data"));
    const unmarked = makeCluster(join(work, "deleted-too"), { marked: false });
    const liveData = join(work, "live-data");
    mkdirSync(liveData);
    const live = makeCluster(liveData);

    const port = await freePort();
    let output = "";
    child = spawn(process.execPath, [join(repoRoot, "scripts/local.ts")], {
      cwd: repoRoot,
      env: {
        ...process.env,
        PORT: String(port),
        DATA_DIR: join(work, "this-start"),
        DEMO: "0",
        MBM_DEMO_CLUSTER_ROOT: root,
        MBM_LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const collect = (d: Buffer) => {
      output += d.toString();
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    const deadline = Date.now() + 60_000;
    while (!output.includes("Console:")) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`local mode did not print its console URL\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(existsSync(orphan), output).toBe(false);
    expect(existsSync(unmarked)).toBe(true);
    expect(existsSync(live)).toBe(true);
    expect(output).toContain("removed demo clusters whose data dir is gone");
  });
});
