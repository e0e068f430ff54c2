// Bundles one Lambda function with esbuild, split into chunks: what a route imports on demand (the
// MongoDB driver and the AWS adapters, through loadOnFirstCall in
// functions/composition.ts) becomes a chunk of its own, read only when first used, so a cold start loads
// and evaluates only the entry. CDK's NodejsFunction cannot do this (it bundles to one --outfile),
// so the stack deploys these folders as plain assets, and the benchmark (test/bench/bundles.ts)
// measures the very same output.
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildSync, type Metafile } from "esbuild";

/** Every Lambda function's handler module, by a short name (the stack's functions, one each). */
export const functionEntries = {
  api: "functions/api/handler.ts",
  "fan-out": "functions/events/fan-out.ts",
  "task-state": "functions/events/task-state.ts",
  housekeeping: "functions/events/housekeeping.ts",
  retention: "functions/events/retention.ts",
} as const;

export interface FunctionBundle {
  dir: string;
  /** The entry's file, `<name>.mjs` (default `index.mjs`) in `dir`. */
  entry: string;
  metafile: Metafile;
}

export interface BundleOptions {
  /** The entry's output name, without `.mjs`. Default: `index` (Lambda's `index.handler`). */
  name?: string;
  /** Packages left out of the bundle. Default: the AWS SDK, which the Lambda runtime provides. */
  external?: string[];
}

/** Bundles `entry` (a .ts file exporting `handler`, or a program) into `dir`, replacing what was there. */
export function bundleFunction(entry: string, dir: string, options: BundleOptions = {}): FunctionBundle {
  const name = options.name ?? "index";
  rmSync(dir, { recursive: true, force: true });
  const result = buildSync({
    entryPoints: { [name]: entry },
    bundle: true,
    splitting: true,
    platform: "node",
    target: "node24",
    format: "esm",
    minify: true,
    sourcemap: true,
    mainFields: ["module", "main"],
    // The Node.js 24 runtime provides AWS SDK v3, as CDK's default for NodejsFunction assumes.
    external: options.external ?? ["@aws-sdk/*"],
    // Node's own UTS #46 in place of tr46's 231 KiB of tables (see tr46-from-node.ts).
    alias: { tr46: join(import.meta.dirname, "tr46-from-node.ts") },
    // CommonJS dependencies (pino) call require(): give every ESM chunk one.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    outdir: dir,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    metafile: true,
    logLevel: "warning",
  });
  return { dir, entry: resolve(dir, `${name}.mjs`), metafile: result.metafile };
}

/**
 * What a cold start reads: the entry and every chunk it imports statically (paths as the metafile
 * names them, relative to the working directory), and the packages it imports from outside the
 * bundle (the runtime's AWS SDK) on the way.
 */
export function coldStart({ metafile, entry }: FunctionBundle): { outputs: string[]; external: string[] } {
  const start = Object.keys(metafile.outputs).find((file) => resolve(file) === entry);
  if (!start) throw new Error(`${entry} is not among the bundle's outputs`);
  const outputs = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string) => {
    if (outputs.has(file)) return;
    outputs.add(file);
    for (const i of metafile.outputs[file]?.imports ?? []) {
      if (i.kind !== "import-statement") continue;
      if (i.external) external.add(i.path);
      else visit(i.path);
    }
  };
  visit(start);
  return { outputs: [...outputs], external: [...external] };
}
