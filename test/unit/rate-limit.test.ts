// The per-caller limit on a bare Hono app with a controlled clock: a sliding minute, per caller,
// and a Retry-After that says when the oldest counted request leaves the window.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { ApiEnv } from "#functions/api/auth.ts";
import { perCallerRateLimit } from "#functions/api/rate-limit.ts";

function appWith(now: () => number) {
  const app = new Hono<ApiEnv>();
  app.use(async (c, next) => {
    c.set("actor", { id: c.req.header("x-caller") ?? "a", role: "operator" });
    await next();
  });
  app.use("/probe", perCallerRateLimit({ limit: 3, windowMs: 60_000, now }));
  app.post("/probe", (c) => c.text("ok"));
  return (caller = "a") => app.request("/probe", { method: "POST", headers: { "x-caller": caller } });
}

describe("perCallerRateLimit", () => {
  it("admits `limit` requests per caller in any window, then 429 with Retry-After", async () => {
    let clock = 1_000_000;
    const call = appWith(() => clock);
    for (let i = 0; i < 3; i++) {
      expect((await call()).status).toBe(200);
      clock += 10_000;
    }
    const limited = await call();
    expect(limited.status).toBe(429);
    // The first request (at 1_000_000) leaves the window at 1_060_000; now is 1_030_000.
    expect(limited.headers.get("retry-after")).toBe("30");
    expect(await limited.json()).toEqual({
      error: {
        code: "rate_limited",
        message: "too many requests: at most 3 per 60 s for each caller; retry in 30 s",
        details: { limit: 3, window_seconds: 60, retry_after_seconds: 30 },
      },
    });
    expect((await call("b")).status).toBe(200);
    // Refused requests are not counted: once the first one ages out, one more is admitted.
    clock = 1_060_001;
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(429);
  });
});
