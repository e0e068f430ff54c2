// Static checks of the task image's Dockerfile (no Docker engine runs here): syntax and style via
// dockerfile-utils, plus this project's rules: pinned base images, a non-root user, the mongo tools
// taken from the official image, an exec-form entry point.
import { readFileSync } from "node:fs";
import { validate } from "dockerfile-utils";

export function lintDockerfile(text: string): string[] {
  const problems: string[] = validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);

  const instructions = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const from = instructions.filter((l) => /^FROM\s/i.test(l));
  for (const line of from) {
    const image = line.split(/\s+/)[1] ?? "";
    if (!/[:@]/.test(image) || /:latest\b/.test(image)) problems.push(`unpinned base image: ${image}`);
  }
  if (!from.some((l) => /^FROM\s+mongo:/i.test(l)))
    problems.push("mongo tools must come from the official mongo image");
  for (const tool of ["mongodump", "mongorestore"]) {
    if (!instructions.some((l) => /^COPY\s+--from=mongo\b/i.test(l) && l.includes(tool))) {
      problems.push(`${tool} is not copied from the mongo stage`);
    }
  }
  const users = instructions.filter((l) => /^USER\s/i.test(l));
  const lastUser = users.at(-1)?.split(/\s+/)[1];
  if (!lastUser || lastUser === "root" || lastUser === "0")
    problems.push("the final image must run as a non-root USER");
  const entry = instructions.filter((l) => /^ENTRYPOINT\s/i.test(l)).at(-1);
  if (!entry?.includes("[") || !entry.includes("task-image/src/main.ts")) {
    problems.push("ENTRYPOINT must be exec form and run task-image/src/main.ts");
  }

  return problems;
}

if (import.meta.main) {
  const path = process.argv[2] ?? "task-image/Dockerfile";
  const text = readFileSync(path, "utf8");
  const instructionCount = text.split("\n").filter((l) => /^[A-Z]+\s/.test(l.trim())).length;
  const problems = lintDockerfile(text);
  if (problems.length > 0) {
    console.error(`${path}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    process.exit(1);
  }
  console.log(`${path}: ok (${instructionCount} instructions)`);
}
