import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { lintDockerfile } from "../../scripts/lint-dockerfile.ts";

const real = readFileSync(new URL("../../task-image/Dockerfile", import.meta.url), "utf8");

describe("task image Dockerfile", () => {
  it("passes the lint", () => {
    expect(lintDockerfile(real)).toEqual([]);
  });

  it.each([
    ["runs as root", real.replace("USER node", "USER root"), /non-root/],
    [
      "unpinned base",
      real.replace("FROM mongo:8.0.17 AS mongo", "FROM mongo AS mongo"),
      /unpinned base image: mongo/,
    ],
    ["latest tag", real.replace("mongo:8.0.17", "mongo:latest"), /unpinned/],
    ["tools not from mongo", real.replace(/COPY --from=mongo .*\n/, ""), /mongodump is not copied/],
    [
      "shell-form entry point",
      real.replace(/ENTRYPOINT .*/, "ENTRYPOINT node task-image/src/main.ts"),
      /exec form/,
    ],
    ["bad syntax", `${real}\nFROOM x\n`, /line \d+/],
  ])("catches a Dockerfile that %s", (_name, text, problem) => {
    expect(lintDockerfile(text).join("\n")).toMatch(problem);
  });
});
