// The console's static site as CloudFront serves it on AWS (infra/constructs/console.ts): the built
// web/build, index.html for every page path (the SPA fallback), the deployment's /config.json, and
// CloudFront's Content-Security-Policy with the test's API and identity provider as the exact
// origins (the deployed policy names the deployment's API, hosted UI and issuer).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono } from "hono";
import { consoleBuildDir } from "#functions/api/console-assets.ts";
import { consoleContentSecurityPolicy } from "#functions/api/console-policy.ts";

export interface ConsoleSiteOptions {
  /** config.json's content, as the CDK writes it. */
  config: Record<string, unknown>;
  /** The other origins the console talks to (its API, the identity provider). */
  connectTo: string[];
}

export function consoleSite(options: ConsoleSiteOptions): Hono {
  const csp = consoleContentSecurityPolicy(options.connectTo);
  const site = new Hono();
  site.get("/config.json", (c) => {
    c.header("cache-control", "no-store");
    return c.json(options.config);
  });
  site.get("/assets/*", serveStatic({ root: consoleBuildDir }));
  site.get("/assets/*", (c) => c.text("no such asset", 404));
  site.get("*", async (c) => {
    c.header("content-security-policy", csp);
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
    return c.html(await readFile(join(consoleBuildDir, "index.html"), "utf8"));
  });
  return site;
}
