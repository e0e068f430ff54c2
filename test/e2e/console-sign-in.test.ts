// The console's sign-in on AWS, end to end in real Chromium. No Cognito runs here, so a real,
// certified OpenID provider (oidc-provider) takes its place, set up like the CDK's user pool client
// (test/support/identity-provider.ts); the real API app runs behind a stand-in for API Gateway's
// CORS and JWT authorizer (test/support/jwt-gateway.ts) and reads the claims with the production
// lambdaJwtClaimsAuth; the console's build is served with CloudFront's policy and a config.json in
// the CDK's shape, plus `issuer` naming the provider. Three origins, as on AWS.
//
// The walk: sign-in page -> the provider's login and consent -> back at the console, signed in as
// an operator (cognito:groups) with the code exchanged and the address bar tidied -> the access
// token refreshed with the refresh token, by oidc-client-ts's timer and by the console itself when
// the stored token has expired -> sign out through Cognito's /logout, back at the sign-in page with
// no user stored, no further API call, and the provider's session ended.
import { rmSync } from "node:fs";
import { getRequestListener } from "@hono/node-server";
import { decodeJwt } from "jose";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignedLinkDownloads } from "#adapters/local/signed-link-downloads.ts";
import { createApp } from "#functions/api/app.ts";
import { lambdaJwtClaimsAuth } from "#functions/api/auth.ts";
import { createLogger } from "#functions/logger.ts";
import { launchChromium, type WatchedPage, watchedPage } from "../support/browser.ts";
import { consoleSite } from "../support/console-site.ts";
import { coreDepsOf } from "../support/core-deps.ts";
import { localWorld } from "../support/engine-harness.ts";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.ts";
import { type JwtGateway, jwtGateway } from "../support/jwt-gateway.ts";
import { type LoopbackServer, listenOnLoopback } from "../support/loopback-server.ts";

// oidc-client-ts renews a token 60 s before it expires: a 65 s lifetime means a renewal 5 s after
// each one is issued (a lifetime under 61 s would renew every second).
const ACCESS_TOKEN_TTL_S = 65;

let servers: LoopbackServer[] = [];
let site: string;
let apiOrigin: string;
let idp: TestIdentityProvider;
let gateway: JwtGateway;
let dataDir: string | undefined;
let browser: Browser | undefined;
let watched: WatchedPage;

const heading = (page: Page) => page.getByRole("heading", { level: 1 }).textContent();

/** Navigates with the console's own menu, as a user would. */
async function open(page: Page, label: string) {
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: label, exact: true })
    .click();
  await expect.poll(() => heading(page)).toBe(label);
}

/** The API calls from request `from` on, once `path` is among them (the page loads them after its heading). */
async function callsSince(from: number, path: string) {
  await expect.poll(() => gateway.requests.slice(from).map((r) => r.path)).toContain(path);
  return gateway.requests.slice(from);
}

/** The access tokens the provider issued by a grant type, from the grant `from` on. */
const tokensOf = (grantType: string, from = 0) =>
  new Set(idp.grants.slice(from).flatMap((g) => (g.grantType === grantType ? [g.accessToken] : [])));

/**
 * The keys oidc-client-ts keeps in the page's storage: the signed-in user in session storage, a
 * sign-in's state and PKCE verifier in local storage until the provider's reply uses them up.
 */
const oidcKeys = (page: Page, storage: "sessionStorage" | "localStorage" = "sessionStorage") =>
  page.evaluate((name) => Object.keys(globalThis[name]).filter((key) => key.startsWith("oidc.")), storage);

function expectNothingWrong() {
  expect(watched.problems, watched.problems.join("\n")).toEqual([]);
  expect(idp.errors, idp.errors.join("\n")).toEqual([]);
}

describe("signing in to the console through an OpenID provider (Cognito's place)", () => {
  beforeAll(async () => {
    servers = await Promise.all([listenOnLoopback(), listenOnLoopback(), listenOnLoopback()]);
    const [idpServer, apiServer, siteServer] = servers as [LoopbackServer, LoopbackServer, LoopbackServer];
    site = siteServer.origin;
    apiOrigin = apiServer.origin;
    idp = await startIdentityProvider(idpServer, {
      consoleOrigin: site,
      accessTokenTtlSeconds: ACCESS_TOKEN_TTL_S,
      groups: { alice: ["operators"] },
    });

    const world = await localWorld();
    dataDir = world.env.MBM_DATA_DIR;
    const app = createApp({
      ...coreDepsOf(world),
      authenticate: lambdaJwtClaimsAuth(),
      downloads: new SignedLinkDownloads({ baseUrl: apiOrigin }),
      log: createLogger("console-sign-in", { level: "silent" }),
    });
    gateway = jwtGateway({ app, issuer: idp.issuer, audience: idp.clientId, allowOrigin: site });
    apiServer.handle(getRequestListener(gateway.fetch));

    const config = {
      apiUrl: apiOrigin,
      region: "eu-west-1",
      userPoolId: "eu-west-1_TestPool",
      clientId: idp.clientId,
      cognitoDomain: idp.issuer,
      issuer: idp.issuer,
    };
    siteServer.handle(getRequestListener(consoleSite({ config, connectTo: [apiOrigin, idp.issuer] }).fetch));

    browser = await launchChromium();
    watched = await watchedPage(browser, site, undefined, [idp.issuer, apiOrigin]);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => s.close()));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("signs in: the provider's login and consent, then the console as an operator", async () => {
    const { page } = watched;
    await page.goto(`${site}/`);
    await expect.poll(() => heading(page)).toBe("Sign in");
    await page.getByRole("button", { name: "Continue to sign-in" }).click();

    await page.waitForURL((url) => url.origin === idp.issuer && url.pathname.startsWith("/interaction/"));
    await page.getByLabel("Username").fill("alice");
    await page.getByLabel("Password").fill("any password will do");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => heading(page)).toBe("Allow access");
    await page.getByRole("button", { name: "Allow" }).click();

    await page.waitForURL((url) => url.origin === site);
    await expect.poll(() => heading(page)).toBe("Dashboard");
    // The code and state were spent and are gone from the address bar (and so from the history).
    expect(page.url()).toBe(`${site}/`);
    await expect.poll(() => page.getByTitle("role: operator").textContent()).toBe("alice (operator)");
    expect(await oidcKeys(page)).toEqual([`oidc.user:${idp.issuer}:${idp.clientId}`]);
    expect(await oidcKeys(page, "localStorage")).toEqual([]);

    // The code was exchanged once, by PKCE (the provider requires it of this public client), and
    // the API got that access token: a JWT from the issuer, for the client, with Cognito's claims.
    expect(idp.grants.map((g) => g.grantType)).toEqual(["authorization_code"]);
    const [issued] = tokensOf("authorization_code");
    const me = gateway.requests.filter((r) => r.path === "/api/me");
    expect(me).toEqual([expect.objectContaining({ method: "GET", token: issued, verified: true })]);
    expect(decodeJwt(issued ?? "")).toMatchObject({
      iss: idp.issuer,
      aud: idp.clientId,
      client_id: idp.clientId,
      sub: "alice",
      username: "alice",
      "cognito:groups": ["operators"],
      token_use: "access",
      scope: "openid email profile",
    });
    expect(gateway.requests.filter((r) => !r.verified)).toEqual([]);
    expectNothingWrong();
  });

  it("renews the access token with the refresh token before it expires, and the API gets the new one", async () => {
    const { page } = watched;
    await expect
      .poll(() => tokensOf("refresh_token").size, { timeout: (ACCESS_TOKEN_TTL_S - 50) * 1000 })
      .toBeGreaterThan(0);
    const from = gateway.requests.length;
    await open(page, "Backups");
    const calls = await callsSince(from, "/api/backups");
    const refreshed = tokensOf("refresh_token");
    for (const call of calls) {
      expect(call.verified, `${call.path}: ${call.refusal}`).toBe(true);
      expect(refreshed.has(call.token ?? ""), `${call.path} sent a renewed token`).toBe(true);
    }
    expectNothingWrong();
  });

  it("refreshes an expired token before calling the API (a tab that slept past its expiry)", async () => {
    const { page } = watched;
    const grantsBefore = idp.grants.length;
    const expiredToken = await page.evaluate(() => {
      const key = Object.keys(sessionStorage).find((k) => k.startsWith("oidc.user:"));
      const user = JSON.parse((key && sessionStorage.getItem(key)) || "{}") as {
        access_token?: string;
        expires_at?: number;
      };
      user.expires_at = Math.floor(Date.now() / 1000) - 10;
      if (key) sessionStorage.setItem(key, JSON.stringify(user));
      return user.access_token;
    });
    const from = gateway.requests.length;
    await open(page, "Schedules");
    const calls = await callsSince(from, "/api/schedules");
    // One refresh, shared by the page's simultaneous calls.
    expect(idp.grants.slice(grantsBefore).map((g) => g.grantType)).toEqual(["refresh_token"]);
    const refreshed = tokensOf("refresh_token", grantsBefore);
    for (const call of calls) {
      expect(call.verified, `${call.path}: ${call.refusal}`).toBe(true);
      expect(call.token, `${call.path} sent the expired token`).not.toBe(expiredToken);
      expect(refreshed.has(call.token ?? ""), `${call.path} sent a refreshed token`).toBe(true);
    }
    expect(await page.getByTitle("role: operator").textContent()).toBe("alice (operator)");
    expectNothingWrong();
  });

  it("signs out through Cognito's /logout: back at the sign-in page, nothing kept, no API call", async () => {
    const { page } = watched;
    const apiCalls = gateway.requests.length;
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => idp.logouts.length).toBe(1);
    // Exactly Cognito's documented logout request: client_id and logout_uri, once each.
    expect([...(idp.logouts[0]?.entries() ?? [])]).toEqual([
      ["client_id", idp.clientId],
      ["logout_uri", `${site}/`],
    ]);
    await expect.poll(() => page.url()).toBe(`${site}/`);
    await expect.poll(() => heading(page)).toBe("Sign in");
    expect(await oidcKeys(page)).toEqual([]);
    expect(await oidcKeys(page, "localStorage")).toEqual([]);
    // Signed out, the console does not call the API (it would only be refused).
    await page.waitForLoadState("networkidle");
    expect(gateway.requests.length).toBe(apiCalls);

    // The provider's session ended too: signing in again asks for the user name again.
    await page.getByRole("button", { name: "Continue to sign-in" }).click();
    await expect.poll(() => heading(page)).toBe("Test identity provider");
    await expect(page.getByLabel("Username").isVisible()).resolves.toBe(true);
    expectNothingWrong();
    expect(watched.requests.every((url) => [site, apiOrigin, idp.issuer].includes(new URL(url).origin))).toBe(
      true,
    );
  });
});
