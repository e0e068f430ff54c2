// What the drill tests add to the engine harness: a world whose task has a tmp dir of its own (where
// the throwaway server's data dir goes), and a look for anything a drill left there or running.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineWorld } from "./engine-harness.ts";

/** The world's task tmp dir (TMPDIR of `main.ts`). */
export function taskTmp(world: EngineWorld): string {
  const dir = world.env.TMPDIR;
  if (!dir) throw new Error("not a drill world: no TMPDIR in its environment");
  return dir;
}

/**
 * `makeWorld()` with TMPDIR set to a fresh dir that PostgreSQL's user can pass through (as root it
 * runs as `postgres`, and the run's scratch dir is private): under the system tmp, removed by
 * `removeDrillWorld`.
 */
export async function drillWorld(makeWorld: () => Promise<EngineWorld>): Promise<EngineWorld> {
  const world = await makeWorld();
  const tmp = mkdtempSync(join(tmpdir(), "mbm-drill-test-"));
  chmodSync(tmp, 0o711);
  world.env = { ...world.env, TMPDIR: tmp };
  return world;
}

/** Processes whose command line names the world's tmp dir, and the drill data dirs in it. */
export async function drillLeftovers(world: EngineWorld): Promise<{ processes: string[]; dirs: string[] }> {
  const tmp = taskTmp(world);
  const processes: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmdline.includes(tmp)) processes.push(`${entry}: ${cmdline.slice(0, 300)}`);
    } catch {
      // ended while we looked
    }
  }
  const dirs = readdirSync(tmp).filter((name) => name.startsWith("mbm-drill-"));
  return { processes, dirs };
}

export function removeDrillWorld(world: EngineWorld | undefined): void {
  const tmp = world?.env.TMPDIR;
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
