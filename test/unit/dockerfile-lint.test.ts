import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { lintDockerfile } from "../../scripts/lint-dockerfile.ts";

const real = readFileSync(new URL("../../task-image/Dockerfile", import.meta.url), "utf8");

/** `text` (the real Dockerfile by default) with one pattern replaced, failing loudly if the pattern
 * is gone: a case that silently tested the unchanged file would pass for the wrong reason. */
function edit(pattern: string | RegExp, replacement: string, text = real): string {
  const out = text.replace(pattern, replacement);
  if (out === text) throw new Error(`pattern not found in the Dockerfile: ${pattern}`);
  return out;
}

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const allPinned = edit(
  /^FROM node:24\.12\.0-bookworm-slim$/m,
  `FROM node:24.12.0-bookworm-slim@${digest("b")}`,
  edit("FROM mongo:8.0.17 AS", `FROM mongo:8.0.17@${digest("a")} AS`),
);

describe("task image Dockerfile", () => {
  it("passes the lint", () => {
    expect(lintDockerfile(real)).toEqual([]);
  });

  it("asks for digests in the release check, and accepts well-formed ones", () => {
    expect(lintDockerfile(real, { requireDigests: true }).join("\n")).toMatch(
      /base image has no digest: mongo:8\.0\.17/,
    );
    expect(lintDockerfile(allPinned, { requireDigests: true })).toEqual([]);
    expect(lintDockerfile(allPinned)).toEqual([]);
  });

  it("takes a reference to an earlier stage, and --platform, for what they are", () => {
    const text = edit(/^FROM node:24\.12\.0-bookworm-slim$/m, "FROM --platform=linux/amd64 mongo");
    expect(lintDockerfile(text).filter((p) => /base image/.test(p))).toEqual([]);
  });

  it.each([
    // Base images.
    [
      "has an untagged base",
      edit("FROM mongo:8.0.17 AS mongo", "FROM mongo AS mongo"),
      /unpinned base image: mongo$/m,
    ],
    ["has a latest base", edit("FROM mongo:8.0.17", "FROM mongo:latest"), /unpinned/],
    [
      "has a floating tag",
      edit("FROM mongo:8.0.17", "FROM mongo:8.0"),
      /not an exact version.*: mongo:8\.0$/m,
    ],
    [
      "has a malformed digest",
      edit("FROM mongo:8.0.17", "FROM mongo:8.0.17@sha256:abc"),
      /malformed base image digest.*mongo:8\.0\.17@sha256:abc/,
    ],
    ["takes the tools from elsewhere", edit(/COPY --from=mongo .*\n/, ""), /mongodump is not copied/],
    // User.
    ["runs as root", edit("USER 1000:1000", "USER root"), /non-root/],
    ["runs as uid 0", edit("USER 1000:1000", "USER 0:0"), /non-root/],
    ["sets no USER", edit("USER 1000:1000\n", ""), /non-root/],
    ["names its user", edit("USER 1000:1000", "USER node"), /USER must be numeric.*got node/],
    ["takes the root group", edit("USER 1000:1000", "USER 1000:0"), /root group/],
    // The writable path.
    ["does not set TMPDIR", edit(/^ {2}TMPDIR=\/tmp \\\n/m, ""), /TMPDIR/],
    ["sets a relative TMPDIR", edit("TMPDIR=/tmp", "TMPDIR=tmp"), /TMPDIR to an absolute path/],
    ["does not declare TMPDIR a volume", edit('VOLUME ["/tmp"]\n', ""), /TMPDIR \(\/tmp\) must be a VOLUME/],
    ["declares another volume", edit('VOLUME ["/tmp"]', "VOLUME /var/tmp"), /must be a VOLUME/],
    // Health and stop.
    ["states no health", edit("HEALTHCHECK NONE\n", ""), /HEALTHCHECK NONE/],
    ["has an empty HEALTHCHECK", edit("HEALTHCHECK NONE", "HEALTHCHECK --interval=30s"), /state its health/],
    ["sets no STOPSIGNAL", edit("STOPSIGNAL SIGTERM\n", ""), /must set STOPSIGNAL/],
    ["stops with a signal main.ts ignores", edit("STOPSIGNAL SIGTERM", "STOPSIGNAL SIGUSR1"), /got SIGUSR1/],
    // Entry point.
    ["has a shell-form entry point", edit(/ENTRYPOINT .*/, "ENTRYPOINT node task/main.mjs"), /exec form/],
    [
      "runs the TypeScript source, which is not in the staged context",
      edit(/ENTRYPOINT .*/, 'ENTRYPOINT ["node", "task-image/src/main.ts"]'),
      /run task\/main\.mjs/,
    ],
    [
      "starts through npm",
      edit(/ENTRYPOINT .*/, 'ENTRYPOINT ["npm", "exec", "node", "task/main.mjs"]'),
      /start node itself.*got npm/,
    ],
    ["has bad syntax", `${real}\nFROOM x\n`, /line \d+/],
  ])("catches a Dockerfile that %s", (_name, text, problem) => {
    expect(lintDockerfile(text).join("\n")).toMatch(problem);
  });

  it("checks the final stage, not a build stage", () => {
    // A USER, HEALTHCHECK and STOPSIGNAL in the mongo stage do not make the final image comply.
    let moved = edit("USER 1000:1000\n", "");
    moved = edit("HEALTHCHECK NONE\n", "", moved);
    moved = edit("STOPSIGNAL SIGTERM\n", "", moved);
    moved = edit("AS mongo\n", "AS mongo\nUSER 1000:1000\nHEALTHCHECK NONE\nSTOPSIGNAL SIGTERM\n", moved);
    const problems = lintDockerfile(moved).join("\n");
    expect(problems).toMatch(/non-root/);
    expect(problems).toMatch(/state its health/);
    expect(problems).toMatch(/must set STOPSIGNAL/);
  });
});
