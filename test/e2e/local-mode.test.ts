// The newcomer's path, end to end: `npm start` as a child process (bootstrap included), then the API
// over HTTP: list servers -> sync -> back up one database -> restore it under a new name -> the data
// is equal, read through the MongoDB driver. Then Ctrl-C during a backup: the job is recorded failed.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localDatabase } from "#adapters/local/local-data-dir.ts";
import { SqliteMetadataStore } from "#adapters/local/sqlite-metadata-store.ts";
import { demoClusterDir, demoClusterMarker } from "../../scripts/local-servers.ts";
import { freePort } from "../../scripts/processes.ts";
import { repoRoot } from "../support/engine-harness.ts";
import { seedBulkDatabase, snapshotDatabase } from "../support/sample-data.ts";

const token = `e2e-${Date.now()}-token`;
let dataDir: string;
let port: number;
let child: ChildProcess;
let output = "";
let exited: Promise<number | null>;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n--- npm start output ---\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitForJob(
  path: string,
  until: (status: string) => boolean = (s) => !["queued", "running"].includes(s),
) {
  return await waitFor(path, async () => {
    const reply = await api("GET", path);
    return until(reply.json.status) ? reply.json : undefined;
  });
}

async function demoClient(server: { host: string; port: number }) {
  const password = readFileSync(join(dataDir, "demo-mongo-password"), "utf8").trim();
  const client = new MongoClient(`mongodb://${server.host}:${server.port}/?authSource=admin`, {
    auth: { username: "admin", password },
    serverSelectionTimeoutMS: 10_000,
  });
  await client.connect();
  return client;
}

describe("local mode from npm start", () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "mbm-e2e-"));
    port = await freePort();
    child = spawn("npm", ["start"], {
      cwd: repoRoot,
      env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, API_TOKEN: token, MBM_LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group, so the test can Ctrl-C it as a terminal would
    });
    const collect = (d: Buffer) => {
      output = (output + d.toString()).slice(-20_000);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    exited = new Promise((done) => child.once("exit", (code) => done(code)));
    await waitFor(
      "the console URL",
      async () => (output.includes(`#token=${token}`) ? true : undefined),
      240_000,
    );
  }, 300_000);

  afterAll(async () => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(demoClusterDir(dataDir), { recursive: true, force: true });
  });

  it("prints the console URL with the token and serves the console", async () => {
    expect(output).toContain(`http://127.0.0.1:${port}/#token=${token}`);
    const home = await fetch(`http://127.0.0.1:${port}/`);
    expect(home.status).toBe(200);
    // The built console (npm start builds it), not the fallback page.
    expect(await home.text()).toMatch(/<script type="module" src="\/assets\/main-[A-Z0-9]+\.js">/);
    expect((await api("GET", "/api/health")).json.ok).toBe(true);
    // The demo cluster names its data dir, so a later start can remove it once the data dir is gone.
    const marker = JSON.parse(readFileSync(join(demoClusterDir(dataDir), demoClusterMarker), "utf8"));
    expect(marker).toEqual({ data_dir: dataDir });
  });

  it("backs up the demo database and restores it under a new name, equal", async () => {
    const servers = await api("GET", "/api/servers");
    expect(servers.status).toBe(200);
    const demo = servers.json.items.find((s: { name: string }) => s.name === "Demo");
    expect(demo).toMatchObject({ host: "127.0.0.1", has_password: true });

    const sync = await api("POST", "/api/databases/sync", { server_id: demo.id });
    expect(sync.status).toBe(200);
    expect(sync.json.results[0]).toMatchObject({ ok: true });
    const dbs = await api("GET", `/api/databases?server_id=${demo.id}`);
    expect(dbs.json.items.map((d: { name: string }) => d.name).sort()).toEqual(["analytics", "shop"]);

    const triggered = await api("POST", "/api/backups", { server_id: demo.id, database: "shop" });
    expect(triggered.status).toBe(202);
    expect(triggered.json.items).toHaveLength(1);
    const backup = await waitForJob(`/api/backups/${triggered.json.items[0].id}`);
    expect(backup, backup.error).toMatchObject({ status: "completed", error: null });
    expect(backup.size_bytes).toBeGreaterThan(1000);
    expect(backup.sha256).toMatch(/^[0-9a-f]{64}$/);

    const restored = await api("POST", "/api/restore", {
      backup_id: backup.id,
      target_database: "shop_restored",
    });
    expect(restored.status).toBe(202);
    const restore = await waitForJob(`/api/restore/${restored.json.id}`);
    expect(restore, restore.error).toMatchObject({ status: "completed", target_database: "shop_restored" });

    const client = await demoClient(demo);
    try {
      const source = await snapshotDatabase(client, "shop");
      const copy = await snapshotDatabase(client, "shop_restored");
      expect(Object.values(source.documents).flat().length).toBeGreaterThan(2000);
      expect(copy).toEqual(source);
    } finally {
      await client.close();
    }
  });

  it("records a backup cut short by Ctrl-C as failed and stops everything", async () => {
    const demo = (await api("GET", "/api/servers")).json.items[0];
    const client = await demoClient(demo);
    try {
      await seedBulkDatabase(client, "bulk", 24);
    } finally {
      await client.close();
    }
    await api("POST", "/api/databases/sync", {});
    const triggered = await api("POST", "/api/backups", { server_id: demo.id, database: "bulk" });
    const id = triggered.json.items[0].id;
    await waitForJob(`/api/backups/${id}`, (s) => s !== "queued");

    process.kill(-(child.pid ?? 0), "SIGINT"); // what a terminal's Ctrl-C does
    await exited;
    const store = new SqliteMetadataStore({ database: localDatabase(dataDir) });
    const backup = await store.backups.get(id);
    // 24 MiB of incompressible data takes seconds to dump and compress: the signal lands mid-backup.
    expect(backup).toMatchObject({ status: "failed", blob_key: null });
    expect(backup?.error).toMatch(/SIGTERM/);
    const blobs = join(dataDir, "blobs", "backups", demo.id, "bulk");
    expect(existsSync(blobs) ? readdirSync(blobs) : []).toEqual([]);
    const stillUp = await fetch(`http://127.0.0.1:${port}/api/health`).then(
      () => true,
      () => false,
    );
    expect(stillUp).toBe(false);
  });
});
