// What Linux's /proc tells about the processes the benchmark runs.
// - Peak memory of a process and all its descendants (the engine and the mongo tool it runs): every
//   few milliseconds the tree is walked through /proc/<pid>/task/<tid>/children and the VmRSS of its
//   members summed; the largest sum is the peak. Pages shared between processes count once per
//   process, as `ps` shows them: an upper bound, the same for every variant.
// - CPU time of a finished child: a shell reports its own /proc/<pid>/stat after waiting for the
//   child, whose user and system time are then in the shell's cutime and cstime fields.
import { readdirSync, readFileSync } from "node:fs";

/** `VmRSS:   123456 kB` in a /proc/<pid>/status text, in bytes; 0 when absent (a zombie). */
export function parseVmRss(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** The pids in a /proc/<pid>/task/<tid>/children text ("12 34 "). */
export function parseChildren(text: string): number[] {
  return text
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined; // the process ended while we looked
  }
}

/** `root` and every process below it. */
export function processTree(root: number): number[] {
  const seen: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    seen.push(pid);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) queue.push(...parseChildren(read(`/proc/${pid}/task/${tid}/children`) ?? ""));
  }
  return seen;
}

/** The summed VmRSS of `root`'s tree right now, in bytes. */
export function treeRss(root: number): number {
  let total = 0;
  for (const pid of processTree(root)) total += parseVmRss(read(`/proc/${pid}/status`) ?? "");
  return total;
}

/** Samples `root`'s tree every `intervalMs` until stopped; `stop()` returns the peak in bytes. */
export function sampleTreeRss(root: number, intervalMs = 25): { stop(): number } {
  let peak = treeRss(root);
  const timer = setInterval(() => {
    peak = Math.max(peak, treeRss(root));
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** cutime + cstime (fields 16 and 17) of a /proc/<pid>/stat line, in clock ticks. */
export function parseChildCpuTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const cutime = Number(fields[13]);
  const cstime = Number(fields[14]);
  if (!Number.isFinite(cutime) || !Number.isFinite(cstime)) throw new Error(`not a /proc stat line: ${stat}`);
  return cutime + cstime;
}
