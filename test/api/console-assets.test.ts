// Local mode's console routes: page paths get index.html (or, unbuilt, a static page the CSP
// allows), config.json says local, assets are immutable, and /api paths are left to the API.
import { join } from "node:path";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { consoleBuildDir, serveConsole } from "#functions/api/console-assets.ts";
import { scratchDir } from "#test/support/env.ts";

function appWith(buildDir: string) {
  const app = new Hono();
  serveConsole(app, buildDir);
  app.notFound((c) => c.json({ error: "api 404" }, 404));
  return app;
}

describe("console assets", () => {
  it("serves the built console for page paths, with the CSP, and hashed assets for good", async () => {
    const app = appWith(consoleBuildDir); // built by the global setup
    const page = await app.request("/schedules");
    expect(page.status).toBe(200);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    // Local mode's API is on the console's origin: nothing else to connect or submit to.
    expect(csp).toContain("connect-src 'self';");
    expect(csp).toMatch(/form-action 'self'$/);
    const html = await page.text();
    const script = /src="(\/assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await app.request(script!);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect((await app.request("/assets/nope.js")).status).toBe(404);
    expect(await (await app.request("/config.json")).json()).toEqual({ mode: "local", apiUrl: "" });
    expect(await (await app.request("/api/whatever")).json()).toEqual({ error: "api 404" });
  });

  it("unbuilt: a static page that says how to build it (no inline script for the CSP to block)", async () => {
    const page = await appWith(join(scratchDir("no-console-"), "build")).request("/");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("npm run build:web");
    expect(html).not.toContain("<script");
  });
});
