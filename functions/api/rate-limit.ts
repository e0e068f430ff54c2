// A per-caller request limit for routes that make the API open connections on the caller's behalf
// (POST /api/servers/probe-databases): without one, an operator's token could drive a fast scan of
// whatever the outbound policy admits. In memory, per process: each Lambda instance (and local
// mode's one process) counts alone, so on AWS the effective limit is this many times the number of
// warm instances; API Gateway's own throttling bounds the whole.
import type { MiddlewareHandler } from "hono";
import type { ApiEnv } from "./auth.ts";
import { errorResponse } from "./errors.ts";

export interface RateLimitOptions {
  /** Requests each caller may make per window. */
  limit: number;
  windowMs: number;
  /** Default: Date.now. */
  now?: () => number;
}

/** At most `limit` requests per caller (the signed-in actor) in any `windowMs`; then 429 with Retry-After. */
export function perCallerRateLimit(options: RateLimitOptions): MiddlewareHandler<ApiEnv> {
  const { limit, windowMs } = options;
  const now = options.now ?? Date.now;
  // A sliding log: each caller's request times within the window, oldest first.
  const seen = new Map<string, number[]>();
  return async (c, next) => {
    const at = now();
    const caller = c.get("actor").id;
    const times = (seen.get(caller) ?? []).filter((t) => t > at - windowMs);
    if (times.length >= limit) {
      seen.set(caller, times);
      const retryAfterSeconds = Math.max(1, Math.ceil(((times[0] ?? at) + windowMs - at) / 1000));
      c.header("Retry-After", String(retryAfterSeconds));
      return errorResponse(
        c,
        429,
        `too many requests: at most ${limit} per ${windowMs / 1000} s for each caller; retry in ${retryAfterSeconds} s`,
        { limit, window_seconds: windowMs / 1000, retry_after_seconds: retryAfterSeconds },
      );
    }
    times.push(at);
    seen.set(caller, times);
    // Forget callers whose every request has aged out, so the map stays the size of the active callers.
    if (seen.size > 1000) for (const [key, t] of seen) if ((t.at(-1) ?? 0) <= at - windowMs) seen.delete(key);
    await next();
  };
}
