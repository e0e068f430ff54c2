// Builds the console (web/src) into web/build: one hashed JS and one hashed CSS file plus
// index.html. Local mode serves the folder at `/`; the CDK deploys it to CloudFront. Prints the
// gzipped size, which the README reports.
//   node scripts/build-web.ts [--quiet]
import { existsSync, readdirSync, statSync } from "node:fs";
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");
const out = join(root, "web/build");

/** Whether web/build exists and is newer than every source file of the console. */
export function consoleBuildIsCurrent(): boolean {
  const index = join(out, "index.html");
  if (!existsSync(index)) return false;
  const built = statSync(index).mtimeMs;
  // What the bundle includes (web/src and the core modules it imports), how it is built, and
  // the locked library versions.
  const sources = [
    join(root, "web/src"),
    join(root, "functions/core"),
    join(root, "scripts/build-web.ts"),
    join(root, "package-lock.json"),
  ];
  const newer = (path: string): boolean => {
    const info = statSync(path);
    if (!info.isDirectory()) return info.mtimeMs > built;
    return readdirSync(path).some((name) => newer(join(path, name)));
  };
  return !sources.some(newer);
}

export async function buildConsole(): Promise<void> {
  await rm(out, { recursive: true, force: true });
  const result = await build({
    entryPoints: [join(root, "web/src/main.tsx")],
    bundle: true,
    minify: true,
    format: "esm",
    target: ["es2022", "chrome110", "firefox115", "safari16"],
    jsx: "automatic",
    jsxImportSource: "preact",
    outdir: join(out, "assets"),
    entryNames: "[name]-[hash]",
    assetNames: "[name]-[hash]",
    metafile: true,
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning",
    define: { "process.env.NODE_ENV": '"production"' },
  });

  const outputs = Object.keys(result.metafile.outputs).map((file) => relative(out, join(root, file)));
  const script = outputs.find((f) => f.endsWith(".js"));
  const style = outputs.find((f) => f.endsWith(".css"));
  if (!script || !style) throw new Error(`the build made no script or stylesheet: ${outputs.join(", ")}`);

  await writeFile(
    join(out, "index.html"),
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>MongoDB backup manager</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/${style}">
<script type="module" src="/${script}"></script>
</head>
<body>
<div id="app"><p style="text-align:center;margin-top:4rem;color:#57606a">Loading the console…</p></div>
<noscript>The console needs JavaScript. The API works without it: see /api/openapi.json.</noscript>
</body>
</html>
`,
  );
}

/** Every file of the build with its raw and gzipped size. */
async function buildSizes(dir = out): Promise<{ file: string; bytes: number; gzip: number }[]> {
  const files: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else files.push(path);
    }
  };
  await walk(dir);
  return Promise.all(
    files.map(async (file) => ({
      file: relative(dir, file),
      bytes: (await stat(file)).size,
      gzip: gzipSync(await readFile(file), { level: 9 }).length,
    })),
  );
}

if (import.meta.main) {
  await buildConsole();
  if (process.argv.includes("--quiet")) process.exit(0);
  const sizes = await buildSizes();
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  for (const s of sizes)
    console.log(`${basename(s.file).padEnd(28)} ${kb(s.bytes).padStart(10)} ${kb(s.gzip).padStart(10)} gzip`);
  const total = sizes.reduce((sum, s) => sum + s.gzip, 0);
  console.log(`web/build: ${kb(total)} gzipped in ${sizes.length} files`);
}
