// Restore drill: the engine's drill of a backup on a throwaway server (its real process: the server
// started, the archive restored, the proof read, everything removed) against the engine's plain
// restore of the same backup into the bench's FerretDB. The throwaway server's start-up is reported
// apart (from the drill's "drill passed" log line), and the target holds the rest of the drill to
// 1.1x the plain restore. Both are whole task processes, Node's start and the record writes included.
import type { MongoClient } from "mongodb";
import type { Backup } from "#core/entities.ts";
import { queueDrill } from "#core/use-cases/drills.ts";
import { type Target, target } from "./report.ts";
import { documentCount, restoreRecord } from "./restore.ts";
import { alternate, median, round } from "./stats.ts";
import { type EngineWorld, type ProcessRun, runTask } from "./world.ts";

export interface DrillRun extends ProcessRun {
  /** The throwaway server's start-up, from the drill's stages. */
  startupMs: number;
  /** mongorestore's own time in the drill: the measured recovery time it records. */
  recoveryMs: number;
}

export interface DrillResult {
  restore: ProcessRun[];
  drill: DrillRun[];
}

export async function benchDrill(
  world: EngineWorld,
  backup: Backup,
  options: { client: MongoClient; documents: number; runs: number },
): Promise<DrillResult> {
  const target = `${backup.database}_drill_baseline`;
  const restore = async () => {
    await options.client.db(target).dropDatabase();
    const record = await world.store.restores.create(restoreRecord(world, backup, target));
    const run = await runTask(world, "restore", record.id);
    const done = await world.store.restores.get(record.id);
    if (done?.status !== "completed")
      throw new Error(`restore ${record.id} ended ${done?.status}: ${done?.error}`);
    const count = await documentCount(options.client, target);
    if (count !== options.documents)
      throw new Error(`restore left ${count} documents, expected ${options.documents}`);
    return run;
  };
  const drill = async (): Promise<DrillRun> => {
    const queued = await queueDrill({ store: world.store }, backup, { kind: "ephemeral" }, "manual", "bench");
    const run = await runTask(world, "verify", queued.id);
    const done = await world.store.drills.get(queued.id);
    if (done?.status !== "completed" || done.result?.status !== "passed") {
      throw new Error(`drill ${queued.id} ended ${done?.status}: ${done?.error}\n${run.output}`);
    }
    const restored = Object.values(done.result.collections).reduce((n, c) => n + (c.restored ?? 0), 0);
    if (restored !== options.documents)
      throw new Error(`drill restored ${restored} documents, expected ${options.documents}`);
    const startupMs = run.stagesMs?.startup_ms;
    if (startupMs === undefined) throw new Error(`the drill logged no stages:\n${run.output}`);
    return { ...run, startupMs, recoveryMs: done.result.duration_ms ?? Number.NaN };
  };
  const results = await alternate(options.runs, { restore, drill });
  await options.client.db(target).dropDatabase();
  return results;
}

export function drillSummary(result: DrillResult) {
  const med = (values: number[]) => round(median(values), 0);
  const restoreMs = med(result.restore.map((r) => r.ms));
  const drillMs = med(result.drill.map((r) => r.ms));
  const startupMs = med(result.drill.map((r) => r.startupMs));
  // Per run, so the start-up taken off is that run's own.
  const withoutStartup = med(result.drill.map((r) => r.ms - r.startupMs));
  return {
    restore_ms: restoreMs,
    drill_ms: drillMs,
    startup_ms: startupMs,
    drill_without_startup_ms: withoutStartup,
    recovery_ms: med(result.drill.map((r) => r.recoveryMs)),
    ratio: round(withoutStartup / restoreMs, 3),
  };
}

export type DrillSummary = ReturnType<typeof drillSummary>;

export function drillTarget(s: DrillSummary): Target {
  return target("drill minus server start-up / plain restore", s.ratio, 1.1, "x");
}

export function formatDrill(s: DrillSummary): string {
  return [
    `restore drill (ephemeral target), medians: plain restore ${s.restore_ms} ms; drill ${s.drill_ms} ms,`,
    `  of which the throwaway server's start-up ${s.startup_ms} ms; drill minus start-up ${s.drill_without_startup_ms} ms`,
    `  = ${s.ratio}x the plain restore (target <= 1.1x); recovery time recorded (mongorestore alone) ${s.recovery_ms} ms`,
  ].join("\n");
}
