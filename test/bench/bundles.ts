// Lambda bundles: each function bundled with esbuild's JS API the way infra/app-stack.ts has CDK's
// NodejsFunction bundle it (ESM, node24, minified, source map, mainFields module/main, the
// createRequire banner, and CDK's default for a Node 24 runtime: `@aws-sdk/*` external, provided by
// the Lambda runtime). Size is the bundle's .mjs; cold init is a fresh `node` importing it with the
// environment its handler reads (median of 10), which is what Lambda's Init phase runs.
import { spawn } from "node:child_process";
import { mkdirSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { median } from "./stats.ts";
import { repoRoot } from "./world.ts";

export const functionEntries = {
  api: "functions/api/handler.ts",
  "fan-out": "functions/events/fan-out.ts",
  "task-state": "functions/events/task-state.ts",
  housekeeping: "functions/events/housekeeping.ts",
  retention: "functions/events/retention.ts",
} as const;

export type FunctionName = keyof typeof functionEntries;

export interface BundleResult {
  bytes: number;
  initMs: number[];
}

/** What the stack gives every function (infra/app-stack.ts `commonEnv`), with placeholder values. */
const lambdaEnv = {
  MBM_ADAPTERS: "aws",
  MBM_TABLE_NAME: "bench-table",
  MBM_BUCKET: "bench-bucket",
  MBM_SECRET_PREFIX: "mbm/servers/",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  NODE_OPTIONS: "--enable-source-maps",
};

async function bundle(name: FunctionName, outDir: string): Promise<string> {
  const outfile = join(outDir, name, "index.mjs");
  await build({
    entryPoints: [join(repoRoot, functionEntries[name])],
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    minify: true,
    sourcemap: true,
    mainFields: ["module", "main"],
    external: ["@aws-sdk/*"],
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    outfile,
    logLevel: "silent",
  });
  return outfile;
}

/** Milliseconds a fresh node process takes to import `file` (measured inside it, after its own start). */
async function importTime(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...lambdaEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((done) => child.once("close", done));
  const ms = Number(out.trim().split("\n").at(-1));
  if (code !== 0 || !Number.isFinite(ms)) throw new Error(`importing ${file} failed:\n${out}`);
  return ms;
}

export async function benchBundles(scratch: string, runs = 10): Promise<Record<FunctionName, BundleResult>> {
  const outDir = join(scratch, "bundles");
  mkdirSync(outDir, { recursive: true });
  // The external AWS SDK resolves from the repository's node_modules, as it would from the runtime's.
  symlinkSync(join(repoRoot, "node_modules"), join(outDir, "node_modules"));
  const names = Object.keys(functionEntries) as FunctionName[];
  const files = {} as Record<FunctionName, string>;
  for (const name of names) files[name] = await bundle(name, outDir);
  const init = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<FunctionName, number[]>;
  // Alternating between functions, as every other measurement here.
  for (let i = 0; i < runs; i++) for (const name of names) init[name].push(await importTime(files[name]));
  return Object.fromEntries(
    names.map((n) => [n, { bytes: statSync(files[n]).size, initMs: init[n] }]),
  ) as Record<FunctionName, BundleResult>;
}

export function initMedian(result: BundleResult): number {
  return median(result.initMs);
}
