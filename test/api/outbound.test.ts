// Outbound requests never reach addresses they must not (issue 13, item 2), through the app on the
// local adapters: webhook URLs that are or resolve to internal addresses are refused at PUT and at
// delivery (without ever measuring the target), the allowlist admits a loopback receiver, MongoDB
// servers at metadata/loopback addresses are refused unless allowlisted, and probes are rate limited.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError, expectInvalid } from "#test/support/api-expect.ts";
import { type ApiWorld, addTestServer, apiWorld } from "#test/support/api-harness.ts";
import { mongoInfo } from "#test/support/env.ts";
import { makeSettings } from "#test/support/fixtures.ts";
import { startWebhookServer, type WebhookServer } from "#test/support/webhook-server.ts";

let api: ApiWorld;
let hook: WebhookServer;

beforeAll(async () => {
  [api, hook] = await Promise.all([apiWorld("local"), startWebhookServer()]);
});
afterAll(async () => {
  await Promise.all([api?.close(), hook?.close()]);
});

const put = (body: unknown) => api.call("PUT", "/api/settings", { body });
const hookPort = () => new URL(hook.url).port;

describe("webhook_url", () => {
  it("refuses internal targets with a 422 naming the reason, and changes nothing", async () => {
    const before = await api.snapshot();
    const cases: Array<[string, RegExp]> = [
      ["http://169.254.169.254/latest/meta-data/", /169\.254\.169\.254 is a cloud metadata endpoint/],
      [`http://127.0.0.1:${hookPort()}/api/servers`, /127\.0\.0\.1 is a loopback address/],
      [`http://localhost:${hookPort()}/hook`, /refused: localhost resolves to \S+, a loopback address/],
      [`http://[::ffff:127.0.0.1]:${hookPort()}/hook`, /::ffff:7f00:1 is a loopback address/],
      ["http://10.20.30.40/hook", /is a private address/],
      ["https://[fd00::1]/hook", /is a unique-local IPv6 address/],
      ["http://0.0.0.0:8080/", /is an unspecified address/],
    ];
    for (const [url, reason] of cases) {
      const reply = await put({ webhook_url: url });
      expectInvalid(reply, "webhook_url", reason);
      expect(reply.json.error.message, url).toMatch(/outbound_allowlist|never allowed/);
    }
    expect(hook.deliveries).toHaveLength(0);
    expect(await api.snapshot()).toEqual(before);
  });

  it("refuses a bad outbound_allowlist entry with a 422 naming it", async () => {
    for (const entry of ["10.0.0.0/33", "localhost", "10.0.0.1", "fd00::/200", 7]) {
      expectInvalid(await put({ outbound_allowlist: [entry] }), "outbound_allowlist.0", /CIDR/);
    }
  });

  it("delivers to an allowlisted loopback receiver; not the metadata endpoint, whatever the allowlist", async () => {
    const saved = await put({ webhook_url: hook.url, outbound_allowlist: ["127.0.0.1/32"] });
    expect(saved.status, saved.text).toBe(200);
    expect(saved.json.outbound_allowlist).toEqual(["127.0.0.1/32"]);
    const test = await api.call("POST", "/api/settings/webhook/test");
    expect(test.json).toEqual({ delivered: true, attempts: 1, error: null });
    expect(hook.deliveries.at(-1)?.body.event).toBe("Test");

    // Taking the receiver off the allowlist while the URL points at it: refused, naming the field.
    expectInvalid(await put({ outbound_allowlist: [] }), "outbound_allowlist", /loopback/);
    expectInvalid(
      await put({ webhook_url: "http://169.254.169.254/latest/", outbound_allowlist: ["169.254.0.0/16"] }),
      "webhook_url",
      /metadata endpoint \(never allowed\)/,
    );
    expect((await put({ webhook_url: null, outbound_allowlist: [] })).status).toBe(200);
  });

  it("a test delivery to a refused target says only that it is refused: never its status", async () => {
    // Saved before the policy existed (or with an allowlist since removed): straight into the store.
    hook.respondWith(418);
    await api.deps.store.settings.put(makeSettings({ webhook_url: `${hook.url}?scan=1` }));
    const count = hook.deliveries.length;
    const test = await api.call("POST", "/api/settings/webhook/test");
    expect(test.status, test.text).toBe(200);
    expect(test.json).toEqual({
      delivered: false,
      attempts: 1,
      error: `webhook URL http://127.0.0.1:${hookPort()}/… is refused: 127.0.0.1 is a loopback address (add it to outbound_allowlist to allow it)`,
    });
    expect(test.text).not.toMatch(/418|HTTP|ms\b|scan/);
    expect(hook.deliveries).toHaveLength(count);
    hook.respondWith(200);
  });
});

describe("MongoDB servers", () => {
  it("the connection test refuses a server at the metadata address without connecting", async () => {
    const created = await api.call("POST", "/api/servers", {
      body: { name: "metadata", host: "169.254.169.254", port: 80, username: "x", password: "Pw-metadata-1" },
    });
    expect(created.status, created.text).toBe(201);
    const test = await api.call("POST", `/api/servers/${created.json.id}/test`);
    expect(test.status, test.text).toBe(200);
    expect(test.json).toMatchObject({
      ok: false,
      kind: "refused",
      message: "169.254.169.254 is a cloud metadata endpoint (never allowed)",
    });
    expect(test.json.server.last_test.error).toBe(`refused: ${test.json.message}`);
  });

  describe("with the product's default (no loopback admitted)", () => {
    let strict: ApiWorld;
    beforeAll(async () => {
      strict = await apiWorld("local", { mongoAllowlist: [] });
    });
    afterAll(async () => {
      await strict?.close();
    });

    it("refuses loopback until the settings allowlist it", async () => {
      const server = await addTestServer(strict);
      const refused = await strict.call("POST", `/api/servers/${server.id}/test`);
      expect(refused.json).toMatchObject({ ok: false, kind: "refused" });
      expect(refused.json.message).toMatch(/is a loopback address \(add it to outbound_allowlist/);
      const sync = await strict.call("POST", "/api/databases/sync", { body: { server_id: server.id } });
      expect(sync.json.results, sync.text).toMatchObject([
        {
          server_id: server.id,
          ok: false,
          error: expect.stringMatching(/^refused: 127\.0\.0\.1 is a loopback address/),
        },
      ]);

      const allow = await strict.call("PUT", "/api/settings", {
        body: { outbound_allowlist: ["127.0.0.0/8", "::1/128"] },
      });
      expect(allow.status, allow.text).toBe(200);
      const ok = await strict.call("POST", `/api/servers/${server.id}/test`);
      expect(ok.json, ok.text).toMatchObject({ ok: true, kind: null });
    });

    it("rate limits probe-databases per caller: 10 a minute, then 429 with Retry-After", async () => {
      const m = mongoInfo();
      const probe = (as: "operator" | "viewer" = "operator") =>
        strict.call("POST", "/api/servers/probe-databases", {
          body: {
            name: "probe",
            host: "169.254.169.254",
            port: 27017,
            username: m.username,
            password: "Pw-probe-1",
          },
          as,
        });
      for (let i = 0; i < 10; i++) {
        const reply = await probe();
        expectError(reply, 502, "connection_failed");
        expect(reply.json.error.details).toEqual({ kind: "refused" });
      }
      const limited = await probe();
      expectError(limited, 429, "rate_limited");
      expect(limited.json.error.message).toMatch(/at most 10 per 60 s/);
      const retryAfter = Number(limited.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // Another caller has its own count.
      expect((await probe("viewer")).status).not.toBe(429);
    });
  });
});
