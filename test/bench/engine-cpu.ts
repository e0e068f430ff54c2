// Preloaded into the engine's process by the benchmark (`node --import`), never by the product: at
// exit it prints the process's own CPU time (user + system of all its threads, getrusage
// RUSAGE_SELF, so the tool it ran is excluded) and, from /proc/self/stat, the CPU time of the
// children it waited for (the tool). world.ts reads the line back (parseEngineCpu).
import { readFileSync, writeSync } from "node:fs";
import { parseChildCpuTicks } from "./proc.ts";

process.on("exit", () => {
  const { user, system } = process.cpuUsage();
  let childTicks = -1;
  try {
    childTicks = parseChildCpuTicks(readFileSync("/proc/self/stat", "utf8"));
  } catch {
    // no /proc: the children's figure is left out
  }
  writeSync(2, `\n${ENGINE_CPU_MARK} ${user} ${system} ${childTicks}\n`);
});

export const ENGINE_CPU_MARK = "bench-engine-cpu";
