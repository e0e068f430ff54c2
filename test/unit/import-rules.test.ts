// The import rules of `npm run lint:deps` (.dependency-cruiser.cjs), shown to catch what they forbid
// on a throwaway tree, and to hold on the real one.
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { cruise, type IReporterOutput } from "dependency-cruiser";
import { describe, expect, it } from "vitest";
import { scratchDir } from "#test/support/env.ts";

const repo = join(import.meta.dirname, "../..");
const rules = createRequire(import.meta.url)(join(repo, ".dependency-cruiser.cjs"));

async function violations(paths: string[], baseDir: string): Promise<string[]> {
  const result: IReporterOutput = await cruise(paths, {
    ...rules.options,
    ruleSet: rules,
    validate: true,
    baseDir,
  });
  if (typeof result.output === "string") throw new Error(result.output);
  return result.output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
}

describe("import rules", () => {
  it("the real tree has no cycle and a plain core", async () => {
    expect(await violations(["functions", "task-image/src", "infra", "web/src"], repo)).toEqual([]);
  });

  it("a cycle, and a core that imports an adapter, are refused", async () => {
    const root = scratchDir("import-rules");
    mkdirSync(join(root, "functions/core/use-cases"), { recursive: true });
    mkdirSync(join(root, "functions/adapters"), { recursive: true });
    writeFileSync(
      join(root, "functions/core/use-cases/a.ts"),
      'import { b } from "./b.ts";\nexport const a = b;\n',
    );
    writeFileSync(
      join(root, "functions/core/use-cases/b.ts"),
      'import type { a } from "./a.ts";\nexport const b = 1 as unknown as typeof a;\n',
    );
    writeFileSync(join(root, "functions/core/c.ts"), 'import "../adapters/d.ts";\n');
    writeFileSync(join(root, "functions/adapters/d.ts"), "export {};\n");
    const found = await violations(["functions"], root);
    expect(found).toContain("no-circular: functions/core/use-cases/a.ts -> functions/core/use-cases/b.ts");
    expect(found).toContain("core-is-plain: functions/core/c.ts -> functions/adapters/d.ts");
  });
});
