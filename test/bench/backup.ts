// Backup: the engine's whole pipeline (its real process: claim, mongodump, compression, sha256,
// upload, record) against `mongodump --archive` to /dev/null on the same database, alternating, plus
// `mongodump --archive --gzip` to /dev/null, timed and with its CPU time, for the compression
// comparison. Each engine run's archive is deleted afterwards except the last, kept for restores.
import { execFileSync } from "node:child_process";
import { rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Backup, Compression } from "#core/entities.ts";
import { serverUri } from "#core/mongo-uri.ts";
import { draftBackup } from "#core/use-cases/backups.ts";
import { makeDatabase } from "#test/support/fixtures.ts";
import { findTool } from "../../scripts/processes.ts";
import { parseChildCpuTicks } from "./proc.ts";
import { alternate } from "./stats.ts";
import { type EngineWorld, runTask, type StoreKind, timedRun } from "./world.ts";

export interface ToolSample {
  ms: number;
  peakRss: number;
  /** CPU time of the tool itself (user + system), in ms. */
  cpuMs: number;
}

export interface PipelineSample {
  ms: number;
  peakRss: number;
  /** The engine process's own CPU time (user + system, the tool excluded), in ms. */
  cpuMs: number;
  /** The archive as stored (compressed), in bytes. */
  storedBytes: number;
}

export interface BackupSizeResult {
  database: string;
  baseline: ToolSample[];
  /** `mongodump --archive --gzip` runs: none unless `withGzip`. */
  gzip: ToolSample[];
  /** Size of `mongodump --archive --gzip`'s output (its one untimed run, to a file). */
  gzipBytes: number | undefined;
  pipeline: Record<StoreKind, PipelineSample[]>;
  /** The last completed backup of each store, kept for the restore benchmark. */
  kept: Record<StoreKind, Backup>;
}

const clockTicksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/** A 0600 config file with the server's URI and password, as the engine gives the tools. */
export function toolConfigFile(world: EngineWorld, dir: string, password: string): string {
  const file = join(dir, `tool-config-${world.kind}.yaml`);
  const yaml = `uri: ${JSON.stringify(serverUri(world.server))}\npassword: ${JSON.stringify(password)}\n`;
  writeFileSync(file, yaml, { mode: 0o600 });
  return file;
}

/**
 * Runs a mongo tool with stdout to `out` (default /dev/null) under a shell that, once the tool has
 * exited, prints its own /proc stat line: the tool's CPU time is then in that line's children fields.
 */
export async function toolWithCpu(tool: string, args: string[], out = "/dev/null"): Promise<ToolSample> {
  const script =
    'out=$1; shift; exec >"$out"; "$@"; code=$?; read -r stat < /proc/$$/stat; echo "$stat" >&2; exit $code';
  const run = await timedRun("sh", ["-c", script, "sh", out, findTool(tool), ...args]);
  const statLine = run.output.trim().split("\n").at(-1) ?? "";
  return {
    ms: run.ms,
    peakRss: run.peakRss,
    cpuMs: (parseChildCpuTicks(statLine) * 1000) / clockTicksPerSecond,
  };
}

/** One backup by the engine's process; `compression` as the API would default it unless given. */
export async function engineBackup(
  world: EngineWorld,
  database: string,
  compression?: Compression,
): Promise<{ sample: PipelineSample; backup: Backup }> {
  const queued = draftBackup({
    database: makeDatabase({ server_id: world.server.id, name: database }),
    trigger: "manual",
    schedule_id: null,
    created_by: "bench",
    retention_days: 1,
    compression,
  });
  await world.store.backups.create(queued);
  const run = await runTask(world, "backup", queued.id);
  const backup = await world.store.backups.get(queued.id);
  if (backup?.status !== "completed" || backup.size_bytes === null) {
    throw new Error(
      `backup ${queued.id} on ${world.kind} ended ${backup?.status}: ${backup?.error}\n${run.output}`,
    );
  }
  const sample = {
    ms: run.ms,
    peakRss: run.peakRss,
    cpuMs: run.cpuMs ?? Number.NaN,
    storedBytes: backup.size_bytes,
  };
  return { sample, backup };
}

export async function benchBackup(
  worlds: Record<StoreKind, EngineWorld>,
  database: string,
  options: { configFile: string; scratch: string; runs: number; withGzip: boolean },
): Promise<BackupSizeResult> {
  const { configFile, scratch, runs, withGzip } = options;
  const kept: Partial<Record<StoreKind, Backup>> = {};
  const pipelineRun = (kind: StoreKind) => async () => {
    const { sample, backup } = await engineBackup(worlds[kind], database);
    const previous = kept[kind];
    if (previous?.blob_key) await worlds[kind].blobs.delete(previous.blob_key);
    kept[kind] = backup;
    return sample;
  };
  const dumpArgs = [`--config=${configFile}`, `--db=${database}`, "--archive"];
  const gzipArgs = [...dumpArgs, "--gzip"];
  let gzipBytes: number | undefined;
  // Untimed warm-up: the page cache, and PostgreSQL's autovacuum after the bulk load, settle first.
  if (withGzip) {
    // The one run to a file, for the size of mongodump's gzip output: timed runs all write to
    // /dev/null, so the CPU --gzip adds is not partly that of writing a file.
    const file = join(scratch, "mongodump.archive.gz");
    await toolWithCpu("mongodump", gzipArgs, file);
    gzipBytes = statSync(file).size;
    rmSync(file);
  } else {
    await toolWithCpu("mongodump", dumpArgs);
  }
  const results = await alternate(runs, {
    baseline: () => toolWithCpu("mongodump", dumpArgs),
    ...(withGzip ? { gzip: () => toolWithCpu("mongodump", gzipArgs) } : {}),
    s3: pipelineRun("s3"),
    local: pipelineRun("local"),
  });
  return {
    database,
    baseline: results.baseline,
    gzip: results.gzip ?? [],
    gzipBytes,
    pipeline: { s3: results.s3, local: results.local },
    kept: kept as Record<StoreKind, Backup>,
  };
}
