// The benchmark's pure helpers (test/bench): medians and interleaving, /proc parsing, the report's
// verdicts and table. No timings here: the benchmark measures.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseChildCpuTicks, parseChildren, parseVmRss, processTree, treeRss } from "#test/bench/proc.ts";
import { floorTarget, formatNumber, formatTable, formatTargets, target } from "#test/bench/report.ts";
import { alternate, median, percentile, ratio } from "#test/bench/stats.ts";

describe("bench stats", () => {
  it("takes nearest-rank percentiles, NaN of none", () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 .. 1, unsorted
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([7, 3], 50)).toBe(3);
    expect(percentile([7, 3], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it("takes medians of odd and even counts, NaN of none", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, 9, 2])).toBe(9); // numerically sorted, not as strings ("10" < "2")
    expect(median([])).toBeNaN();
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(1, 0)).toBeNaN();
  });

  it("interleaves variants, each round starting one variant later", async () => {
    const order: string[] = [];
    const results = await alternate(3, {
      a: async () => order.push("a"),
      b: async () => `b${order.push("b")}`,
      c: async () => order.push("c"),
    });
    expect(order.join("")).toBe("abcbcacab");
    expect(results).toEqual({ a: [1, 6, 8], b: ["b2", "b4", "b9"], c: [3, 5, 7] });
  });
});

describe("bench /proc parsing", () => {
  it("reads VmRSS in bytes, children pids and a shell's children CPU ticks", () => {
    expect(parseVmRss("Name:\tnode\nVmRSS:\t  123456 kB\nVmSwap:\t0 kB\n")).toBe(123456 * 1024);
    expect(parseVmRss("Name:\tzombie\n")).toBe(0);
    expect(parseChildren("12 345 \n")).toEqual([12, 345]);
    expect(parseChildren("")).toEqual([]);
    // pid (comm with spaces) state ppid ... utime(14) stime(15) cutime(16) cstime(17) ...
    const stat = "4242 (sh -c x) S 1 4242 4242 0 -1 4194560 100 200 0 0 3 4 57 12 20 0 1 0 99 1 1";
    expect(parseChildCpuTicks(stat)).toBe(69);
    expect(() => parseChildCpuTicks("garbage")).toThrow(/not a \/proc stat line/);
  });

  it("finds a child in this process's tree and sums the tree's RSS", async () => {
    // A tree walk that never found children would still pass the RSS check on this process alone.
    const child = spawn("sleep", ["5"], { stdio: "ignore" });
    try {
      await new Promise((ready) => child.once("spawn", ready));
      expect(processTree(process.pid)).toContain(child.pid);
      expect(treeRss(process.pid)).toBeGreaterThan(10 * 1024 * 1024);
    } finally {
      child.kill();
    }
  });
});

describe("bench report", () => {
  it("judges targets, and says why one misses only when it does", () => {
    expect(target("ratio", 1.05, 1.1, "x")).toMatchObject({ pass: true });
    expect(target("ratio", 1.2, 1.1, "x", "the emulator")).toMatchObject({
      pass: false,
      note: "the emulator",
    });
    expect(target("ratio", 1.0, 1.1, "x", "the emulator")).not.toHaveProperty("note");
    expect(target("ratio", Number.NaN, 1.1, "x").pass).toBe(false);
    expect(floorTarget("speed", 4, 3, "x")).toMatchObject({ pass: true, op: ">=" });
    expect(floorTarget("speed", 2, 3, "x").pass).toBe(false);
    expect(target("ratio", 1, 1, "x")).toMatchObject({ pass: true, op: "<=" });
  });

  it("formats numbers and aligns a table", () => {
    expect([formatNumber(1234), formatNumber(123.4), formatNumber(12.34), formatNumber(1.234)]).toEqual([
      "1234",
      "123",
      "12.3",
      "1.23",
    ]);
    expect(formatNumber(Number.NaN)).toBe("n/a");
    expect(
      formatTable([
        ["name", "ms"],
        ["a", 1.5],
        ["longer", 20],
      ]).split("\n"),
    ).toEqual(["name      ms", "------  ----", "a       1.50", "longer    20"]);
    const text = formatTargets([target("a", 2, 1, "x", "why"), floorTarget("b", 5, 3, "x")]);
    expect(text).toMatch(/a\s+2 x\s+<= 1 x\s+MISS/);
    expect(text).toMatch(/b\s+5 x\s+>= 3 x\s+PASS/);
    expect(text).toContain("a: why");
  });
});
