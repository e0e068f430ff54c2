// Every environment variable has one owner, the zod configuration, and the README lists each one.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EngineEnv, logLevel, parseEnv } from "#functions/config.ts";

const repo = join(import.meta.dirname, "../..");

function variables(): string[] {
  const names = new Set<string>();
  for (const option of EngineEnv.options) for (const key of Object.keys(option.shape)) names.add(key);
  return [...names].sort();
}

function sources(dir: string): string[] {
  return (readdirSync(join(repo, dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f));
}

describe("configuration", () => {
  it("the README's configuration table names every variable the schema knows", () => {
    const readme = readFileSync(join(repo, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Deploy to AWS"));
    const missing = variables().filter((name) => !section.includes(`| \`${name}\``));
    expect(missing).toEqual([]);
  });

  it("no product module reads the environment except config.ts (PATH for child processes aside)", () => {
    const readers = [...sources("functions"), ...sources("task-image/src")]
      .filter((f) => f !== join("functions", "config.ts"))
      .flatMap((f) =>
        readFileSync(join(repo, f), "utf8")
          .split("\n")
          .filter((line) => /process\.env\b/.test(line) && !/process\.env\.PATH\b/.test(line))
          .map((line) => `${f}: ${line.trim()}`),
      );
    expect(readers).toEqual([]);
  });

  it("names a bad variable without echoing its value", () => {
    expect(() =>
      parseEnv({ MBM_ADAPTERS: "local", MBM_DATA_DIR: "/d", MBM_LOG_LEVEL: "loud-secret" }),
    ).toThrow(/MBM_LOG_LEVEL/);
    expect(() => logLevel({ MBM_LOG_LEVEL: "loud-secret" })).toThrow(/^(?!.*loud-secret).*MBM_LOG_LEVEL/);
    expect(logLevel({})).toBe("info");
  });
});
