// Local store (SQLite, issue 19): what one write and a list page cost as the backups grow to
// 10,000, 100,000 and 1,000,000, and a concurrent create load through local mode's real API.
//
// - Sizes: one data dir, filled up step by step with the bench's bulk loader (one transaction of
//   INSERTs, test/support/bulk-load.ts); at each size `writes` creates through the store (the
//   product's path: validation, INSERT, COMMIT with its fsync) and `pages` of each list through the
//   app (app.request, as the API bench does): the first page of GET /api/backups, and a filtered one
//   (?server_id=&database=, one database's backups, what the console shows).
// - Load: `node scripts/local.ts` (what `npm start` runs, DEMO=0) as its own process, and `clients`
//   concurrent HTTP clients creating `servers` servers with POST /api/servers (a server, its sealed
//   password and an audit entry: three commits), as the figures were taken.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { localDatabase } from "#adapters/local/local-data-dir.ts";
import { SqliteMetadataStore } from "#adapters/local/sqlite-metadata-store.ts";
import { entitySpecs } from "#adapters/metadata-rules.ts";
import { bulkLoadSqlite } from "#test/support/bulk-load.ts";
import { makeBackup } from "#test/support/fixtures.ts";
import { freePort } from "../../scripts/processes.ts";
import { appOver, backupRecord, benchDatabases, benchServerIds } from "./api.ts";
import { MiB, percentile, round, since } from "./stats.ts";

export interface LocalStoreRow {
  backups: number;
  /** Seconds to bulk-load the records added for this size. */
  load_s: number;
  write_p50_ms: number;
  write_p99_ms: number;
  first_page_p50_ms: number;
  first_page_p99_ms: number;
  filtered_page_p50_ms: number;
  filtered_page_p99_ms: number;
  /** The database file with its WAL, MiB. */
  file_mib: number;
}

export interface ConcurrentCreate {
  clients: number;
  servers: number;
  seconds: number;
  writes_per_s: number;
  p50_ms: number;
  p99_ms: number;
  /** Replies other than 201 (must be 0). */
  failures: number;
}

export interface LocalStoreResults {
  rows: LocalStoreRow[];
  concurrent_create: ConcurrentCreate;
}

const repoRoot = resolve(import.meta.dirname, "../..");

export async function benchLocalStore(options: {
  scratch: string;
  counts: readonly number[];
  writes: number;
  pages: number;
  clients: number;
  servers: number;
  log: (message: string) => void;
}): Promise<LocalStoreResults> {
  const dir = join(options.scratch, "local-store");
  const database = localDatabase(dir);
  const store = new SqliteMetadataStore({ database });
  const get = appOver(store, dir);
  const rows: LocalStoreRow[] = [];
  let loaded = 0;
  for (const count of options.counts) {
    let start = performance.now();
    const chunk = 100_000; // records in memory at a time; each chunk is one transaction
    for (let from = loaded; from < count; from += chunk) {
      const batch = Array.from({ length: Math.min(chunk, count - from) }, (_, k) => backupRecord(from + k));
      await bulkLoadSqlite({ database }, entitySpecs.backups, batch);
    }
    loaded = count;
    const loadS = round(since(start) / 1000, 1);
    options.log(`local store: ${count} backups loaded in ${loadS} s`);

    const server = benchServerIds[3] as string;
    const filtered = `/api/backups?server_id=${server}&database=${benchDatabases[3]}`;
    await get("/api/backups", 25); // warm-up
    await get(filtered, 25);
    const writes: number[] = [];
    for (let i = 0; i < options.writes; i++) {
      start = performance.now();
      await store.backups.create(makeBackup({ server_id: server, database: "bench-writes" }));
      writes.push(since(start));
    }
    const first: number[] = [];
    const filter: number[] = [];
    for (let i = 0; i < options.pages; i++) {
      first.push(await get("/api/backups", 25));
      filter.push(await get(filtered, 25));
    }
    const file = join(dir, "metadata.sqlite");
    const bytes = statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    rows.push({
      backups: count,
      load_s: loadS,
      write_p50_ms: percentile(writes, 50),
      write_p99_ms: percentile(writes, 99),
      first_page_p50_ms: percentile(first, 50),
      first_page_p99_ms: percentile(first, 99),
      filtered_page_p50_ms: percentile(filter, 50),
      filtered_page_p99_ms: percentile(filter, 99),
      file_mib: round(bytes / MiB, 0),
    });
  }
  database.close();
  options.log(
    `local store: ${options.servers} servers by ${options.clients} clients through local mode's API`,
  );
  const concurrent = await concurrentCreate(join(options.scratch, "local-load"), options);
  return { rows, concurrent_create: concurrent };
}

/** Local mode as its own process on a fresh data dir; resolves once it listens. */
async function startLocalMode(dataDir: string): Promise<{ url: string; token: string; child: ChildProcess }> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const child = spawn(process.execPath, [join(repoRoot, "scripts/local.ts")], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: dataDir,
      API_TOKEN: token,
      DEMO: "0",
      MBM_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const deadline = Date.now() + 120_000;
  while (!output.includes(`#token=${token}`)) {
    if (child.exitCode !== null) throw new Error(`local mode exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`local mode did not start in 120 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `http://127.0.0.1:${port}`, token, child };
}

async function concurrentCreate(
  dataDir: string,
  options: { clients: number; servers: number },
): Promise<ConcurrentCreate> {
  const local = await startLocalMode(dataDir);
  try {
    const latencies: number[] = [];
    let failures = 0;
    let next = 0;
    const client = async () => {
      for (let i = next++; i < options.servers; i = next++) {
        const start = performance.now();
        const res = await fetch(`${local.url}/api/servers`, {
          method: "POST",
          headers: { authorization: `Bearer ${local.token}`, "content-type": "application/json" },
          body: JSON.stringify({
            name: `load-${i}`,
            host: "db.example.internal",
            port: 27017,
            username: "backup",
            password: `pw-${i}`,
          }),
        });
        await res.arrayBuffer();
        latencies.push(since(start));
        if (res.status !== 201) failures++;
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: options.clients }, client));
    const seconds = since(start) / 1000;
    return {
      clients: options.clients,
      servers: options.servers,
      seconds: round(seconds, 1),
      writes_per_s: round(options.servers / seconds, 0),
      p50_ms: percentile(latencies, 50),
      p99_ms: percentile(latencies, 99),
      failures,
    };
  } finally {
    local.child.kill("SIGINT");
    await new Promise((r) => local.child.once("exit", r));
  }
}

/** The section as printed by `--only sqlite` and the full run. */
export function formatLocalStore(results: LocalStoreResults): string {
  const lines = [
    "Local store (SQLite): one write (store create) and list pages (GET /api/backups through the app), ms",
    "  backups     load s  write p50  write p99  first p50  first p99  filtered p50  filtered p99  file MiB",
  ];
  for (const r of results.rows) {
    lines.push(
      `  ${String(r.backups).padStart(9)}  ${String(r.load_s).padStart(6)}  ${fmt(r.write_p50_ms, 9)}  ${fmt(r.write_p99_ms, 9)}  ${fmt(r.first_page_p50_ms, 9)}  ${fmt(r.first_page_p99_ms, 9)}  ${fmt(r.filtered_page_p50_ms, 12)}  ${fmt(r.filtered_page_p99_ms, 12)}  ${String(r.file_mib).padStart(8)}`,
    );
  }
  const c = results.concurrent_create;
  lines.push(
    `Concurrent create through local mode's API: ${c.servers} servers by ${c.clients} clients in ${c.seconds} s: ` +
      `${c.writes_per_s} writes/s, p50 ${c.p50_ms} ms, p99 ${c.p99_ms} ms, ${c.failures} failed`,
  );
  const [small, , large] = results.rows;
  if (small && large) {
    lines.push(
      `Targets: write at ${large.backups} / at ${small.backups} = ${round(large.write_p50_ms / small.write_p50_ms, 2)} x (<= 2), ` +
        `p50 ${large.write_p50_ms} ms (< 10); first page ${round(large.first_page_p50_ms / small.first_page_p50_ms, 2)} x, ` +
        `filtered ${round(large.filtered_page_p50_ms / small.filtered_page_p50_ms, 2)} x (<= 2); ` +
        `writes/s ${round(c.writes_per_s / 52, 1)} x the JSON store's 52 (>= 4)`,
    );
  }
  return lines.join("\n");
}

const fmt = (ms: number, width: number) => ms.toFixed(2).padStart(width);
