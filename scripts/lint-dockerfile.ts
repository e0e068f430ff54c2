// Static checks of the task image's Dockerfile (no Docker engine runs here): syntax and style via
// dockerfile-utils, plus this project's rules: base images pinned to an exact version (and, with
// `requireDigests`, to a digest), the mongo tools taken from the official image, and a final stage
// fit for Fargate with a read-only root filesystem: a numeric non-root USER, TMPDIR set and declared
// a VOLUME (the one writable path), a stated HEALTHCHECK, a STOPSIGNAL that main.ts handles, and an
// exec-form ENTRYPOINT that starts node on the staged bundle of main.ts (infra/task-image.ts) directly.
//   node scripts/lint-dockerfile.ts [--require-digests] [task-image/Dockerfile]
import { readFileSync } from "node:fs";
import { validate } from "dockerfile-utils";
import { TASK_ENTRY } from "../infra/task-image.ts";

export interface LintOptions {
  /** Every base image must carry a `@sha256:` digest (the release check). Default: false. */
  requireDigests?: boolean;
}

interface Instruction {
  keyword: string;
  args: string;
}

/** The signals main.ts turns into "record the job failed, then exit". */
const HANDLED_SIGNALS = new Set(["SIGTERM", "SIGINT", "TERM", "INT", "15", "2"]);

function parseInstructions(text: string): Instruction[] {
  return text
    .replace(/\\\r?\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const [keyword = "", ...rest] = l.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });
}

/** `ENV A=1 B="two"` and the legacy `ENV A 1`, as a map. */
function envOf(instructions: Instruction[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const { keyword, args } of instructions) {
    if (keyword !== "ENV") continue;
    const [first = ""] = args.split(/\s+/);
    if (!first.includes("=")) {
      env.set(first, args.slice(first.length).trim());
      continue;
    }
    for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|'([^']*)'|\S*)/g)) {
      env.set(m[1] as string, m[3] ?? m[4] ?? (m[2] as string));
    }
  }
  return env;
}

/** `VOLUME ["/a", "/b"]` and `VOLUME /a /b`, as a set of paths without trailing slashes. */
function volumesOf(instructions: Instruction[]): Set<string> {
  const paths = new Set<string>();
  for (const { keyword, args } of instructions) {
    if (keyword !== "VOLUME") continue;
    let list: unknown;
    try {
      list = JSON.parse(args);
    } catch {
      list = args.split(/\s+/);
    }
    for (const p of Array.isArray(list) ? list : []) paths.add(String(p).replace(/(.)\/+$/, "$1"));
  }
  return paths;
}

function checkBaseImages(from: Instruction[], options: LintOptions): string[] {
  const problems: string[] = [];
  const stages = new Set<string>(["scratch"]);
  for (const { args } of from) {
    const words = args.split(/\s+/).filter((w) => !w.startsWith("--"));
    const image = words[0] ?? "";
    const alias = words[1]?.toUpperCase() === "AS" ? words[2] : undefined;
    if (!stages.has(image.toLowerCase())) {
      const [name = "", digest] = image.split("@");
      const tag = name.lastIndexOf(":") > name.lastIndexOf("/") ? name.slice(name.lastIndexOf(":") + 1) : "";
      if (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest)) {
        problems.push(`malformed base image digest (want sha256: and 64 hex digits): ${image}`);
      } else if ((!tag && digest === undefined) || tag === "latest") {
        problems.push(`unpinned base image: ${image}`);
      } else if (digest === undefined && !/^v?\d+\.\d+\.\d+/.test(tag)) {
        problems.push(`base image tag is not an exact version (x.y.z), and no digest pins it: ${image}`);
      } else if (options.requireDigests && digest === undefined) {
        problems.push(`base image has no digest: ${image}`);
      }
    }
    if (alias) stages.add(alias.toLowerCase());
  }
  return problems;
}

function checkFinalStage(stage: Instruction[]): string[] {
  const problems: string[] = [];
  const last = (keyword: string) => stage.filter((i) => i.keyword === keyword).at(-1);

  const user = last("USER")?.args.trim();
  const ids = user ? /^(\d+)(?::(\d+))?$/.exec(user) : null;
  if (!user || user === "root" || /^root:|^0(:|$)/.test(user)) {
    problems.push("the final image must run as a non-root USER");
  } else if (!ids) {
    problems.push(`USER must be numeric (uid or uid:gid) so a runAsNonRoot check can verify it, got ${user}`);
  } else if (ids[2] !== undefined && Number(ids[2]) === 0) {
    problems.push(`USER must not take the root group (gid 0), got ${user}`);
  }

  const tmpdir = envOf(stage).get("TMPDIR");
  if (!tmpdir?.startsWith("/")) {
    problems.push(
      "ENV must set TMPDIR to an absolute path, the tmpfs that is writable under a read-only root filesystem",
    );
  } else if (!volumesOf(stage).has(tmpdir.replace(/(.)\/+$/, "$1"))) {
    problems.push(
      `TMPDIR (${tmpdir}) must be a VOLUME, so that a Fargate task volume mounted there takes its permissions`,
    );
  }

  const health = last("HEALTHCHECK")?.args.trim();
  if (!health || !/^(NONE$|(--\S+\s+)*CMD\s)/i.test(health)) {
    problems.push("the final image must state its health: HEALTHCHECK NONE (a batch job) or HEALTHCHECK CMD");
  }

  const stop = last("STOPSIGNAL")?.args.trim();
  if (!stop) {
    problems.push("the final image must set STOPSIGNAL (SIGTERM: what ECS sends and main.ts handles)");
  } else if (!HANDLED_SIGNALS.has(stop.toUpperCase())) {
    problems.push(`STOPSIGNAL must be SIGTERM or SIGINT, the signals main.ts handles, got ${stop}`);
  }

  const entry = last("ENTRYPOINT")?.args.trim() ?? "";
  let argv: unknown;
  try {
    argv = JSON.parse(entry);
  } catch {
    argv = undefined;
  }
  if (!Array.isArray(argv) || !argv.includes(TASK_ENTRY)) {
    problems.push(
      `ENTRYPOINT must be exec form and run ${TASK_ENTRY} (main.ts's bundle in the staged context)`,
    );
  } else if (!/^(\/usr\/local\/bin\/)?node$/.test(String(argv[0]))) {
    problems.push(
      `ENTRYPOINT must start node itself (not npm or a shell), so SIGTERM reaches main.ts, got ${argv[0]}`,
    );
  }
  return problems;
}

export function lintDockerfile(text: string, options: LintOptions = {}): string[] {
  const problems: string[] = validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);

  const instructions = parseInstructions(text);
  const from = instructions.filter((i) => i.keyword === "FROM");
  problems.push(...checkBaseImages(from, options));
  if (!from.some((i) => /^(docker\.io\/(library\/)?)?mongo[:@]/i.test(i.args.replace(/^(--\S+\s+)*/, "")))) {
    problems.push("mongo tools must come from the official mongo image");
  }
  for (const tool of ["mongodump", "mongorestore"]) {
    if (
      !instructions.some(
        (i) => i.keyword === "COPY" && /^--from=mongo\b/i.test(i.args) && i.args.includes(tool),
      )
    ) {
      problems.push(`${tool} is not copied from the mongo stage`);
    }
  }
  const finalFrom = instructions.lastIndexOf(from.at(-1) as Instruction);
  problems.push(...checkFinalStage(instructions.slice(finalFrom + 1)));

  return problems;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const requireDigests = args.includes("--require-digests");
  const path = args.find((a) => !a.startsWith("--")) ?? "task-image/Dockerfile";
  const text = readFileSync(path, "utf8");
  const instructionCount = parseInstructions(text).length;
  const problems = lintDockerfile(text, { requireDigests });
  if (problems.length > 0) {
    console.error(`${path}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    process.exit(1);
  }
  console.log(`${path}: ok (${instructionCount} instructions${requireDigests ? ", digests pinned" : ""})`);
}
