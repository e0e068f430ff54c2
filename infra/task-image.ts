// The task image's build context, staged from the sources: the Dockerfile and the task's entry point
// (task-image/src/main.ts) bundled with the functions' esbuild set-up (function-bundle.ts), AWS SDK
// included (there is no runtime to provide it). The image then holds exactly what main.ts imports,
// whatever it comes to import, and needs no node_modules and no repository beside it. The CDK stages
// it inside the cloud assembly (cdk.out); by hand:
//   node infra/task-image.ts [dir]    (default cdk.out/task-image), then docker build <dir>
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { bundleFunction, type FunctionBundle } from "./function-bundle.ts";

const repoRoot = resolve(import.meta.dirname, "..");

/** Where the bundle sits in the context, and what the Dockerfile's ENTRYPOINT runs. */
export const TASK_BUNDLE_DIR = "task";
export const TASK_ENTRY = `${TASK_BUNDLE_DIR}/main.mjs`;

export interface TaskImageContext {
  /** The build context: `Dockerfile` and `task/` (main.mjs, its chunks and source maps). */
  dir: string;
  bundle: FunctionBundle;
}

/** Stages the context into `dir`, replacing what was there. */
export function stageTaskImage(dir: string): TaskImageContext {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const bundle = bundleFunction(join(repoRoot, "task-image/src/main.ts"), join(dir, TASK_BUNDLE_DIR), {
    name: "main",
    external: [],
  });
  copyFileSync(join(repoRoot, "task-image/Dockerfile"), join(dir, "Dockerfile"));
  return { dir, bundle };
}

if (import.meta.main) {
  const dir = resolve(process.argv[2] ?? join(repoRoot, "cdk.out/task-image"));
  stageTaskImage(dir);
  console.log(`staged the task image's build context in ${dir}: docker build -t mbm-task ${dir}`);
}
