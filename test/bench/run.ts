// npm run bench [-- --quick] [-- --json FILE] [-- --check] [-- --only sqlite|ceiling]
// Measures the engine against the tools it wraps, memory as data grows, API cost as tables grow and
// the Lambda bundles, on servers it starts itself (moto, FerretDB on PostgreSQL) and stops at the end.
// Prints a table with every target and PASS/MISS; exits 0 unless --check is given and a target misses
// (timings are for people to read, never a gate by default). Method: test/bench/README.md.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MongoClient } from "mongodb";
import { defaultCompression } from "#core/use-cases/backups.ts";
import { benchApi } from "./api.ts";
import { benchBackup, engineBackup, toolConfigFile } from "./backup.ts";
import { benchBundles } from "./bundles.ts";
import { benchCeiling } from "./ceiling.ts";
import { ceilingSummary, ceilingTargets, formatCeiling } from "./ceiling-report.ts";
import { benchCompression } from "./compression.ts";
import { seedDatabase } from "./dataset.ts";
import { benchDrill, drillSummary, drillTarget, formatDrill } from "./drill.ts";
import { benchLocalStore, formatLocalStore } from "./local-store.ts";
import { formatTargets } from "./report.ts";
import { archiveFile, benchRestore } from "./restore.ts";
import { type BenchServers, startServers } from "./servers.ts";
import { MiB, round } from "./stats.ts";
import { judge, type RunResults, restoreSummary, summarize } from "./summary.ts";
import { formatRestore, formatSummary } from "./tables.ts";
import { engineWorld, stopRunning } from "./world.ts";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    json: { type: "string" },
    check: { type: "boolean", default: false },
    "restore-only": { type: "boolean", default: false },
    "drill-only": { type: "boolean", default: false },
    "large-mib": { type: "string" },
    only: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log(
    "usage: npm run bench -- [--quick] [--json FILE] [--check] [--restore-only] [--drill-only] [--large-mib N] [--only sqlite|ceiling]   (see test/bench/README.md)",
  );
  process.exit(0);
}

/**
 * Full: data past the tools' buffer warm-up, tables as the issue names them, 5 rounds. Quick: the same
 * measurements on 1/20 of the data and 1/10 of the records, 3 rounds (5 bundle imports), under 3 minutes.
 * The ceiling moves at least `ceilingMiB` of archive per job (the recording repeated), so a job's fixed
 * cost of tens of ms stays a few percent of it.
 */
const plan = args.quick
  ? {
      mode: "quick" as const,
      smallMiB: 2,
      largeMiB: 20,
      runs: 3,
      apiCounts: [1_000, 10_000],
      apiRuns: 15,
      localStore: { counts: [1_000, 10_000, 100_000], writes: 100, pages: 50, clients: 20, servers: 300 },
      initRuns: 5,
      ceilingMiB: 64,
    }
  : {
      mode: "full" as const,
      smallMiB: 40,
      largeMiB: 400,
      runs: 5,
      apiCounts: [10_000, 100_000],
      apiRuns: 25,
      localStore: {
        counts: [10_000, 100_000, 1_000_000],
        writes: 500,
        pages: 200,
        clients: 50,
        servers: 2_000,
      },
      initRuns: 10,
      ceilingMiB: 256,
    };

// --large-mib: the large size for this run (e.g. to profile one restore at a size between quick and full).
if (args["large-mib"] !== undefined) {
  const mib = Number(args["large-mib"]);
  if (!Number.isInteger(mib) || mib < 1)
    throw new Error(`--large-mib must be a positive integer, got ${args["large-mib"]}`);
  plan.largeMiB = mib;
}

function machine() {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown";
  return { nproc: availableParallelism(), cpu, ram_gib: round(totalmem() / 1024 ** 3, 1) };
}

const log = (message: string) =>
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

/** With --json, writes `summary` there; without, nothing. */
function writeJson(summary: object): void {
  if (!args.json) return;
  writeFileSync(args.json, `${JSON.stringify(summary, null, 2)}\n`);
  log(`wrote ${args.json}`);
}

/** --only sqlite: the local store's section alone; it needs none of the servers. */
async function localStoreOnly(started: number): Promise<number> {
  const scratch = mkdtempSync(join(tmpdir(), "mbm-bench-"));
  try {
    const results = await benchLocalStore({ scratch, ...plan.localStore, log });
    console.log(formatLocalStore(results));
    const seconds = round((performance.now() - started) / 1000, 0);
    writeJson({ mode: plan.mode, only: "sqlite", machine: machine(), local_store: results, seconds });
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const started = performance.now();
  if (args.only !== undefined && args.only !== "ceiling") {
    if (args.only !== "sqlite")
      throw new Error(`--only: the sections it selects are sqlite and ceiling, got ${args.only}`);
    return await localStoreOnly(started);
  }
  log(`starting moto and FerretDB (${plan.mode} run)`);
  const servers = await startServers();
  const stopOnSignal = () => {
    log("interrupted: stopping the running job and the servers");
    // A SIGTERM reaches only this process: the engine or tool it waits for would run on, orphaned.
    stopRunning();
    void servers.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  const { mongo } = servers;
  const client = new MongoClient(`mongodb://${mongo.host}:${mongo.port}/?authSource=admin`, {
    auth: { username: mongo.username, password: mongo.password },
  });
  try {
    if (args["restore-only"]) return await restoreOnly(client, servers, started);
    if (args["drill-only"]) return await drillOnly(client, servers, started);
    if (args.only === "ceiling") return await ceilingOnly(client, servers, started);
    log(`seeding ${plan.smallMiB} and ${plan.largeMiB} MiB`);
    const small = await seedDatabase(client, "bench_small", plan.smallMiB);
    const large = await seedDatabase(client, "bench_large", plan.largeMiB);
    const worlds = { s3: await engineWorld("s3", servers), local: await engineWorld("local", servers) };
    const configFile = toolConfigFile(worlds.local, servers.scratch, mongo.password);
    const backupOptions = { configFile, scratch: servers.scratch, runs: plan.runs };

    log("backup, small");
    const backupSmall = await benchBackup(worlds, "bench_small", { ...backupOptions, withGzip: false });
    log("backup, large (with mongodump --gzip)");
    const backupLarge = await benchBackup(worlds, "bench_large", { ...backupOptions, withGzip: true });
    const archive = await archiveFile(worlds.local, backupLarge.kept.local, servers.scratch);

    log("restore, large");
    const restore = await benchRestore(worlds, backupLarge.kept, {
      archive,
      configFile,
      client,
      documents: large.documents,
      runs: plan.runs,
    });
    log("restore drill, large (local store)");
    const drill = drillSummary(
      await benchDrill(worlds.local, backupLarge.kept.local, {
        client,
        documents: large.documents,
        runs: plan.runs,
      }),
    );
    log("compression");
    const compression = await benchCompression({
      archive,
      runs: plan.runs,
      dump: { baseline: backupLarge.baseline, gzip: backupLarge.gzip, gzipBytes: backupLarge.gzipBytes },
      codecCheck: { world: worlds.local, database: "bench_small", client, documents: small.documents },
    });
    log(`ceiling: stand-in tools, at least ${plan.ceilingMiB} MiB of archive per job`);
    const ceiling = await benchCeiling({
      worlds,
      recording: archive,
      recorded: backupLarge.kept.local,
      scratch: servers.scratch,
      runs: plan.runs,
      minBytes: plan.ceilingMiB * MiB,
    });
    log(`API, ${plan.apiCounts.join(" and ")} backup records`);
    const api = await benchApi({
      awsEndpoint: servers.awsEndpoint,
      scratch: servers.scratch,
      counts: plan.apiCounts,
      runs: plan.apiRuns,
    });
    log("local store (SQLite)");
    const localStore = await benchLocalStore({ scratch: servers.scratch, ...plan.localStore, log });
    log("Lambda bundles");
    const bundles = await benchBundles(servers.scratch, plan.initRuns);

    const results: RunResults = {
      mode: plan.mode,
      runs: plan.runs,
      machine: machine(),
      sizes: {
        small_mib: plan.smallMiB,
        large_mib: plan.largeMiB,
        documents_small: small.documents,
        documents_large: large.documents,
      },
      backup: { small: backupSmall, large: backupLarge },
      restore,
      compression,
      ceiling,
      api,
      bundles,
      default_codec: defaultCompression,
      seconds: round((performance.now() - started) / 1000, 0),
    };
    const summary = summarize(results);
    const targets = [...judge(summary), drillTarget(drill)];
    console.log(`${formatSummary(summary, targets)}\n\n${formatDrill(drill)}`);
    console.log(`\n${formatLocalStore(localStore)}`);
    writeJson({ ...summary, drill, targets, local_store: localStore });
    return args.check && targets.some((t) => !t.pass) ? 1 : 0;
  } finally {
    await client.close();
    await servers.stop();
  }
}

/**
 * --restore-only: the restore section alone, at the large size: one untimed engine backup per store
 * gives the archives, then the same alternating rounds as a full run. Its JSON holds `restore` only.
 */
async function restoreOnly(client: MongoClient, servers: BenchServers, started: number): Promise<number> {
  log(`seeding ${plan.largeMiB} MiB`);
  const large = await seedDatabase(client, "bench_large", plan.largeMiB);
  const worlds = { s3: await engineWorld("s3", servers), local: await engineWorld("local", servers) };
  const configFile = toolConfigFile(worlds.local, servers.scratch, servers.mongo.password);
  log("one backup per store (untimed)");
  const kept = {
    s3: (await engineBackup(worlds.s3, "bench_large")).backup,
    local: (await engineBackup(worlds.local, "bench_large")).backup,
  };
  const archive = await archiveFile(worlds.local, kept.local, servers.scratch);
  log("restore, large");
  const result = await benchRestore(worlds, kept, {
    archive,
    configFile,
    client,
    documents: large.documents,
    runs: plan.runs,
  });
  const restore = restoreSummary(result);
  const seconds = round((performance.now() - started) / 1000, 0);
  console.log(
    `mongo-backup-manager benchmark, restore only (${plan.mode}: ${plan.runs} alternating runs per variant, medians; ${plan.largeMiB} MiB, ${large.documents} docs)\n` +
      `machine: ${machine().nproc} cores, ${machine().cpu}; took ${seconds} s\n\n${formatRestore(restore)}`,
  );
  const sizes = { large_mib: plan.largeMiB, documents_large: large.documents };
  writeJson({
    mode: plan.mode,
    restore_only: true,
    runs: plan.runs,
    machine: machine(),
    sizes,
    seconds,
    restore,
  });
  return 0;
}

/**
 * --only ceiling: the engine's ceiling alone. One untimed backup of the large data set to the local
 * store gives the recording (the real mongodump's archive); then the same stand-in rounds as a full run.
 */
async function ceilingOnly(client: MongoClient, servers: BenchServers, started: number): Promise<number> {
  log(`seeding ${plan.largeMiB} MiB`);
  await seedDatabase(client, "bench_large", plan.largeMiB);
  const worlds = { s3: await engineWorld("s3", servers), local: await engineWorld("local", servers) };
  log("one backup (untimed): the recording");
  const { backup } = await engineBackup(worlds.local, "bench_large");
  const recording = await archiveFile(worlds.local, backup, servers.scratch);
  log(`ceiling: stand-in tools, at least ${plan.ceilingMiB} MiB of archive per job`);
  const ceiling = ceilingSummary(
    await benchCeiling({
      worlds,
      recording,
      recorded: backup,
      scratch: servers.scratch,
      runs: plan.runs,
      minBytes: plan.ceilingMiB * MiB,
    }),
  );
  const targets = ceilingTargets(ceiling);
  const seconds = round((performance.now() - started) / 1000, 0);
  console.log(
    `mongo-backup-manager benchmark, ceiling only (${plan.mode}: ${plan.runs} alternating runs per variant, medians)\n` +
      `machine: ${machine().nproc} cores, ${machine().cpu}; took ${seconds} s\n\n${formatCeiling(ceiling)}\n\n${formatTargets(targets)}`,
  );
  writeJson({
    mode: plan.mode,
    only: "ceiling",
    runs: plan.runs,
    machine: machine(),
    seconds,
    ceiling,
    targets,
  });
  return args.check && targets.some((t) => !t.pass) ? 1 : 0;
}

/**
 * --drill-only: the restore drill's row alone, at the large size (with --quick, 20 MiB; --large-mib
 * to choose): one untimed backup to the local store, then alternating plain restores and drills.
 */
async function drillOnly(client: MongoClient, servers: BenchServers, started: number): Promise<number> {
  log(`seeding ${plan.largeMiB} MiB`);
  const large = await seedDatabase(client, "bench_large", plan.largeMiB);
  const world = await engineWorld("local", servers);
  log("one backup (untimed)");
  const { backup } = await engineBackup(world, "bench_large");
  log("restore drill against a plain restore");
  const drill = drillSummary(
    await benchDrill(world, backup, { client, documents: large.documents, runs: plan.runs }),
  );
  const seconds = round((performance.now() - started) / 1000, 0);
  const verdict = drillTarget(drill);
  console.log(
    `mongo-backup-manager benchmark, restore drill only (${plan.mode}: ${plan.runs} alternating runs per variant; ${plan.largeMiB} MiB, ${large.documents} docs)\n` +
      `machine: ${machine().nproc} cores, ${machine().cpu}; took ${seconds} s\n\n${formatDrill(drill)}\n` +
      `verdict: ${verdict.pass ? "PASS" : "MISS"}`,
  );
  writeJson({
    mode: plan.mode,
    drill_only: true,
    runs: plan.runs,
    machine: machine(),
    seconds,
    drill,
    targets: [verdict],
  });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
