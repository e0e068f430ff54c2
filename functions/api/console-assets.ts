// Local mode serves the built console (web/build) on the API's port: hashed assets cached for
// good, index.html for every other page path (the console routes by path, like CloudFront's SPA
// fallback), `/config.json` saying "local mode", and the same security headers as CloudFront
// (here the API is on the same origin, so connect-src is 'self' only).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Hono } from "hono";
import { consoleContentSecurityPolicy } from "./console-policy.ts";
import { homePage } from "./home-page.ts";

export const consoleBuildDir = resolve(import.meta.dirname, "../../web/build");

export const consoleSecurityHeaders: Record<string, string> = {
  "content-security-policy": consoleContentSecurityPolicy(),
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

// biome-ignore lint/suspicious/noExplicitAny: any Hono app; these routes read no variables.
export function serveConsole(app: Hono<any>, buildDir = consoleBuildDir): void {
  const indexFile = join(buildDir, "index.html");
  app.get("/config.json", (c) => {
    c.header("cache-control", "no-store");
    return c.json({ mode: "local", apiUrl: "" });
  });
  app.use("/assets/*", async (c, next) => {
    await next();
    if (c.res.ok) c.header("cache-control", "public, max-age=31536000, immutable");
    c.header("x-content-type-options", "nosniff");
  });
  app.get("/assets/*", serveStatic({ root: buildDir }));
  app.get("/assets/*", (c) => c.text("no such asset", 404));
  // Page paths: anything else that is not the API or a download.
  app.get("*", async (c, next) => {
    if (c.req.path.startsWith("/api/") || c.req.path === "/api") return next();
    for (const [name, value] of Object.entries(consoleSecurityHeaders)) c.header(name, value);
    c.header("cache-control", "no-cache");
    // Until the console is built (`npm run build:web`; `npm start` does it), a plain page says
    // where the API is.
    if (!existsSync(indexFile)) return c.html(homePage());
    return c.html(await readFile(indexFile, "utf8"));
  });
}
