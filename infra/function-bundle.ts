// Bundles one Lambda function with esbuild, split into chunks: what a route imports on demand (the
// MongoDB driver, through functions/adapters/lazy-mongo-inspector.ts) becomes a chunk of its own,
// read only when first used, so a cold start loads and evaluates only the entry. CDK's NodejsFunction
// cannot do this (it bundles to one --outfile), so the stack deploys these folders as plain assets,
// and the benchmark (test/bench/bundles.ts) measures the very same output.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { buildSync, type Metafile } from "esbuild";

export interface FunctionBundle {
  dir: string;
  /** The handler's file, `index.mjs` in `dir`. */
  entry: string;
  metafile: Metafile;
}

/** Bundles `entry` (a .ts file exporting `handler`) into `dir`, replacing what was there. */
export function bundleFunction(entry: string, dir: string): FunctionBundle {
  rmSync(dir, { recursive: true, force: true });
  const result = buildSync({
    entryPoints: { index: entry },
    bundle: true,
    splitting: true,
    platform: "node",
    target: "node24",
    format: "esm",
    minify: true,
    sourcemap: true,
    mainFields: ["module", "main"],
    // The Node.js 24 runtime provides AWS SDK v3, as CDK's default for NodejsFunction assumes.
    external: ["@aws-sdk/*"],
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
  return { dir, entry: `${dir}/index.mjs`, metafile: result.metafile };
}
