// Local mode's SQLite database when things go wrong: a writer killed mid-burst, a full disk, a
// read-only data dir, a second server on the same data dir.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { claimDataDir, DataDirInUseError } from "#adapters/local/data-dir-claim.ts";
import { FileBlobStore } from "#adapters/local/file-blob-store.ts";
import { localDatabase } from "#adapters/local/local-data-dir.ts";
import { SignedLinkDownloads } from "#adapters/local/signed-link-downloads.ts";
import type { LocalDatabase } from "#adapters/local/sqlite-database.ts";
import { SqliteMetadataStore } from "#adapters/local/sqlite-metadata-store.ts";
import { SqliteSecretStore } from "#adapters/local/sqlite-secret-store.ts";
import { MongoDriverInspector } from "#adapters/mongo-driver-inspector.ts";
import { newId } from "#core/ids.ts";
import { createApp } from "#functions/api/app.ts";
import { bearerTokenAuth } from "#functions/api/auth.ts";
import { createLogger } from "#functions/logger.ts";
import { quietAlerts } from "#test/support/core-deps.ts";
import { scratchDir } from "#test/support/env.ts";

const writer = join(import.meta.dirname, "../support/sqlite-store-writer.ts");
const isRoot = process.getuid?.() === 0;

/** The API app over local mode's stores on `database`, and a POST /api/servers. */
function apiOver(database: LocalDatabase, dataDir: string) {
  const token = randomBytes(16).toString("hex");
  const store = new SqliteMetadataStore({ database });
  const app = createApp({
    store,
    secrets: new SqliteSecretStore({ database, keyFile: join(dataDir, "secret.key") }),
    blobs: new FileBlobStore({ dir: join(dataDir, "blobs") }),
    inspector: new MongoDriverInspector(),
    runner: null,
    scheduler: null,
    alerts: quietAlerts(),
    authenticate: bearerTokenAuth({ operator: token }),
    downloads: new SignedLinkDownloads({ baseUrl: "http://127.0.0.1:1" }),
    log: createLogger("reliability-test", { level: "silent" }),
  });
  const createServer = async (name: string) => {
    const res = await app.request("/api/servers", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        name,
        host: "db.example.internal",
        port: 27017,
        username: "u",
        password: "pw-1234",
      }),
    });
    return { status: res.status, json: (await res.json()) as { id?: string; error?: { message: string } } };
  };
  return { store, createServer };
}

const count = (database: LocalDatabase, table: string) =>
  database.read((db) => Number(db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get()?.n));

describe("a writer process killed with SIGKILL mid-burst", () => {
  it("loses no acknowledged write, and the database opens cleanly afterwards", async () => {
    const dir = join(scratchDir("sigkill-"), "data");
    const serverId = newId();
    const child = spawn(process.execPath, [writer, dir, serverId, "100000", "sequential"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const acknowledged: string[] = [];
    let partial = "";
    child.stdout.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      acknowledged.push(...lines);
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once("exit", (_, signal) => resolve(signal)),
    );
    const deadline = Date.now() + 60_000;
    while (acknowledged.length < 300) {
      if (child.exitCode !== null) throw new Error(`writer exited early after ${acknowledged.length} writes`);
      if (Date.now() > deadline) throw new Error(`only ${acknowledged.length} writes acknowledged in 60 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGKILL"); // mid-burst: it writes as fast as it can
    expect(await exited).toBe("SIGKILL");
    const seen = acknowledged.length;

    const database = localDatabase(dir);
    const check = database.read((db) => db.prepare("PRAGMA integrity_check").all());
    expect(check).toEqual([{ integrity_check: "ok" }]);
    const store = new SqliteMetadataStore({ database });
    const missing: string[] = [];
    for (const id of acknowledged) if (!(await store.backups.get(id))) missing.push(id);
    expect(missing, `${missing.length} of ${seen} acknowledged writes lost`).toEqual([]);
    // At most the one write in flight beyond what was acknowledged.
    expect(count(database, "c_backups") - seen).toBeLessThanOrEqual(1);
    await store.backups.create({ ...(await store.backups.get(acknowledged[0] ?? ""))!, id: newId() });
    database.close();
  });
});

describe("a full disk", () => {
  it("answers the request that hit it with a 503 naming the data dir, and leaves nothing half written", async () => {
    const dir = join(scratchDir("full-"), "data");
    // SQLITE_FULL as a full disk gives it, from a cap on the file's pages (PRAGMA max_page_count)
    // a few pages above what the schema takes.
    const probe = localDatabase(dir);
    const pages = probe.read((db) => Number(db.prepare("PRAGMA page_count").get()?.page_count));
    probe.close();
    const database = localDatabase(dir, { maxPageCount: pages + 3 });
    const { store, createServer } = apiOver(database, dir);
    const created: string[] = [];
    let refused: Awaited<ReturnType<typeof createServer>> | undefined;
    for (let i = 0; i < 500 && !refused; i++) {
      const reply = await createServer(`server-${i}-${"x".repeat(180)}`);
      if (reply.status === 201) created.push(reply.json.id ?? "");
      else refused = reply;
    }
    expect(created.length).toBeGreaterThan(0);
    expect(refused?.status, JSON.stringify(refused)).toBe(503);
    expect(refused?.json.error?.message).toBe(
      `local data dir ${dir}: disk full (${join(dir, "metadata.sqlite")})`,
    );
    // Every write is whole: every server the API acknowledged is there, each server has its secret
    // and no secret is left without its server. The refused request's own server may be there: its
    // audit entry is written after it (core/use-cases/deps.ts audited) and that write met the full
    // disk; then it is complete, with its secret, and the only one.
    const listed = (await store.servers.list({}, { limit: 100 })).items.map((s) => s.id);
    expect(listed).toEqual(expect.arrayContaining(created));
    expect(listed.length - created.length).toBeLessThanOrEqual(1);
    expect(count(database, "secrets")).toBe(listed.length);
    expect(database.read((db) => db.prepare("PRAGMA integrity_check").all())).toEqual([
      { integrity_check: "ok" },
    ]);
    database.close();
  });
});

describe("a read-only data dir", () => {
  const mounts: string[] = [];
  afterEach(() => {
    for (const dir of mounts.splice(0)) execFileSync("umount", ["-l", dir]);
  });

  /**
   * A data dir writes cannot reach. Root writes through any file mode, so as root it is a tmpfs
   * mounted read-only; otherwise a directory without write permission.
   */
  function makeReadOnly(dir: string): void {
    // (Not under an open database: a mount with files open for writing cannot turn read-only.)
    if (isRoot) {
      execFileSync("mount", ["-o", "remount,ro", dir]);
    } else {
      chmodSync(dir, 0o555);
    }
  }
  function writableDataDir(): string {
    const dir = join(scratchDir("readonly-"), "data");
    mkdirSync(dir, { mode: 0o700 });
    if (isRoot) {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", dir]);
      mounts.push(dir);
    }
    return dir;
  }

  it("answers the first request with a 503 naming the data dir when the database cannot be created", async () => {
    const dir = writableDataDir();
    makeReadOnly(dir);
    const database = localDatabase(dir);
    const { createServer } = apiOver(database, dir);
    const reply = await createServer("one");
    expect(reply.status, JSON.stringify(reply)).toBe(503);
    expect(reply.json.error?.message).toMatch(
      new RegExp(`^local data dir ${dir}: (read-only file system|permission denied) \\(`),
    );
    database.close();
  });
});

describe("the server's claim on its data dir", () => {
  it("refuses a second claim while the first holds, naming it; takes over a dead or silent holder's", async () => {
    const dir = join(scratchDir("claim-"), "data");
    const one = localDatabase(dir);
    const two = localDatabase(dir);
    const claim = claimDataDir(one, dir);
    expect(() => claimDataDir(two, dir)).toThrow(DataDirInUseError);
    expect(() => claimDataDir(two, dir)).toThrow(
      new RegExp(
        `^data dir ${dir} is in use by another local mode server \\(pid ${process.pid} on ${hostname()}, `,
      ),
    );
    claim.release();
    claimDataDir(two, dir).release();

    const holder = (pid: number, host: string, heartbeatMs: number) =>
      one.write((db) =>
        db
          .prepare(
            "INSERT OR REPLACE INTO server_claim (slot, pid, host, started_at, heartbeat_ms) VALUES (1, ?, ?, 'then', ?)",
          )
          .run(pid, host, heartbeatMs),
      );
    // A holder on this host that died without releasing (SIGKILL): its pid is gone.
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise<void>((resolve) => dead.once("exit", () => resolve()));
    holder(dead.pid ?? 0, hostname(), Date.now());
    claimDataDir(two, dir).release();
    // A holder on another host (a shared data dir): alive while its heartbeat is fresh.
    holder(1, "elsewhere", Date.now());
    expect(() => claimDataDir(two, dir)).toThrow(/pid 1 on elsewhere/);
    holder(1, "elsewhere", Date.now() - 120_000);
    claimDataDir(two, dir).release();
    one.close();
    two.close();
  });
});
