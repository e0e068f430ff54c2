// Lambda bundles: each function bundled by infra/function-bundle.ts, exactly as `cdk synth` bundles it
// (ESM, node24, minified, split into chunks, `@aws-sdk/*` external: the Lambda runtime provides it).
// Size is what a cold start reads (the entry and the chunks it imports statically), with the total
// of all chunks beside it; cold init is a fresh `node` importing the entry with the environment its
// handler reads (median of 10, 5 in --quick), which is what Lambda's Init phase runs.
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Metafile } from "esbuild";
import { bundleFunction, coldStart, functionEntries } from "../../infra/function-bundle.ts";
import { repoRoot, timedRun } from "./world.ts";

export type FunctionName = keyof typeof functionEntries;

export interface BundleResult {
  /** The entry and every chunk it imports statically: what a cold start reads. */
  bytes: number;
  /** Every chunk, including those imported on demand (the MongoDB driver). */
  totalBytes: number;
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

function scriptBytes(metafile: Metafile): number {
  return Object.entries(metafile.outputs)
    .filter(([f]) => f.endsWith(".mjs"))
    .reduce((sum, [, o]) => sum + o.bytes, 0);
}

/** Milliseconds a fresh node process takes to import `file` (measured inside it, after its own start). */
async function importTime(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t);`;
  const run = await timedRun(process.execPath, ["--input-type=module", "-e", script], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...lambdaEnv },
  });
  const ms = Number(run.output.trim().split("\n").at(-1));
  if (!Number.isFinite(ms)) throw new Error(`importing ${file} printed no time:\n${run.output}`);
  return ms;
}

export async function benchBundles(scratch: string, runs = 10): Promise<Record<FunctionName, BundleResult>> {
  const outDir = join(scratch, "bundles");
  mkdirSync(outDir, { recursive: true });
  // The external AWS SDK resolves from the repository's node_modules, as it would from the runtime's.
  symlinkSync(join(repoRoot, "node_modules"), join(outDir, "node_modules"));
  const names = Object.keys(functionEntries) as FunctionName[];
  const built = Object.fromEntries(
    names.map((n) => [n, bundleFunction(join(repoRoot, functionEntries[n]), join(outDir, n))]),
  ) as Record<FunctionName, ReturnType<typeof bundleFunction>>;
  const init = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<FunctionName, number[]>;
  // Alternating between functions, as every other measurement here.
  for (let i = 0; i < runs; i++)
    for (const name of names) init[name].push(await importTime(built[name].entry));
  return Object.fromEntries(
    names.map((n) => {
      const { metafile } = built[n];
      const bytes = coldStart(built[n]).outputs.reduce(
        (sum, f) => sum + (metafile.outputs[f]?.bytes ?? 0),
        0,
      );
      return [n, { bytes, totalBytes: scriptBytes(metafile), initMs: init[n] }];
    }),
  ) as Record<FunctionName, BundleResult>;
}
