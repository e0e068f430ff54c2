// WebhookSender over HTTP: POSTs the JSON body with fetch and retries what may pass later (5xx, 429,
// 408, network errors, timeouts) with exponential backoff (p-retry); any other answer is final.
// Webhook URLs carry their secret in the path (Slack: /services/T…/B…/secret), the query or the
// userinfo, so what a failure says names the URL's origin only, and redirects are never followed.
import { setTimeout as sleep } from "node:timers/promises";
import pRetry, { AbortError } from "p-retry";
import { WebhookDeliveryError, type WebhookSender } from "#core/ports.ts";

export interface HttpWebhookSenderOptions {
  /** Retries after the first attempt. Default: 3 (4 attempts). */
  retries?: number;
  /** The wait before the first retry; each next wait is `factor` times longer. Default: 1000 ms. */
  minTimeoutMs?: number;
  /** Default: 2. */
  factor?: number;
  /** How long one attempt waits for the response's status. Default: 5000 ms. */
  attemptTimeoutMs?: number;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
}

const USER_AGENT = "mongo-backup-manager";
/** A longer Retry-After is not waited for (the backoff applies); also the cap of one backoff wait. */
const MAX_WAIT_MS = 30_000;

/** Statuses that may succeed later. */
const retryable = (status: number) => status >= 500 || status === 429 || status === 408;

/** One failed attempt; its message never contains the URL's path, query or userinfo. */
class AttemptError extends Error {
  override name = "AttemptError";
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryAfterMs?: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

export class HttpWebhookSender implements WebhookSender {
  readonly #retries: number;
  readonly #minTimeoutMs: number;
  readonly #factor: number;
  readonly #attemptTimeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: HttpWebhookSenderOptions = {}) {
    this.#retries = options.retries ?? 3;
    this.#minTimeoutMs = options.minTimeoutMs ?? 1000;
    this.#factor = options.factor ?? 2;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? 5000;
    this.#fetch = options.fetch ?? fetch;
    if (!Number.isInteger(this.#retries) || this.#retries < 0)
      throw new Error(`webhook sender: retries must be a non-negative integer, got ${this.#retries}`);
    for (const [name, value] of Object.entries({
      minTimeoutMs: this.#minTimeoutMs,
      factor: this.#factor,
      attemptTimeoutMs: this.#attemptTimeoutMs,
    })) {
      if (!Number.isFinite(value) || value < 0)
        throw new Error(`webhook sender: ${name} must be a finite number ≥ 0, got ${value}`);
    }
  }

  async post(url: string, body: Record<string, unknown>): Promise<{ attempts: number }> {
    const target = parseTarget(url);
    const payload = JSON.stringify(body);
    const fetchFn = this.#fetch;
    const timeoutMs = this.#attemptTimeoutMs;
    let attempts = 0;

    const attempt = async () => {
      attempts++;
      let res: Response;
      try {
        res = await fetchFn(target.href, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": USER_AGENT },
          body: payload,
          redirect: "manual",
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw new AttemptError(networkFailure(error, target, timeoutMs));
      }
      // Only the status matters: the body is not read (nor echoed: it could quote the request).
      await res.body?.cancel().catch(() => undefined);
      if (res.ok) return;
      if (res.status >= 300 && res.status < 400)
        throw new AbortError(new AttemptError(`HTTP ${res.status} (redirects are not followed)`));
      if (!retryable(res.status)) throw new AbortError(new AttemptError(`HTTP ${res.status}`));
      throw new AttemptError(`HTTP ${res.status}`, retryAfterMs(res));
    };

    try {
      await pRetry(attempt, {
        retries: this.#retries,
        minTimeout: this.#minTimeoutMs,
        factor: this.#factor,
        maxTimeout: MAX_WAIT_MS,
        // p-retry then waits its own backoff: together, the longer of the two.
        onFailedAttempt: async ({ error, retriesLeft, retryDelay }) => {
          const asked = error instanceof AttemptError ? error.retryAfterMs : undefined;
          if (retriesLeft > 0 && asked !== undefined && asked > retryDelay) await sleep(asked - retryDelay);
        },
      });
    } catch (error) {
      const reason = error instanceof AttemptError ? error.message : scrub(describe(error), target);
      const times = attempts === 1 ? "1 attempt" : `${attempts} attempts`;
      throw new WebhookDeliveryError(
        `webhook POST to ${target.origin}/… failed after ${times}: ${reason}`,
        attempts,
      );
    }
    return { attempts };
  }
}

/** The URL to post to; a WebhookDeliveryError (1 attempt, nothing sent) for one that cannot be. */
function parseTarget(url: string): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    // URL's own error quotes the input.
    throw new WebhookDeliveryError("webhook URL is not a valid URL", 1);
  }
  if (target.protocol !== "http:" && target.protocol !== "https:")
    throw new WebhookDeliveryError(
      `webhook URL must be http or https, not ${target.protocol.slice(0, -1)}`,
      1,
    );
  // fetch refuses these too, but with an error that quotes the whole URL.
  if (target.username || target.password)
    throw new WebhookDeliveryError(`webhook URL ${target.origin}/… must not contain credentials`, 1);
  return target;
}

/** Retry-After in seconds on a 429 or 503, when short enough to wait for (HTTP dates are ignored). */
function retryAfterMs(res: Response): number | undefined {
  if (res.status !== 429 && res.status !== 503) return undefined;
  const value = res.headers.get("retry-after")?.trim() ?? "";
  if (!/^\d{1,6}$/.test(value)) return undefined;
  const ms = Number(value) * 1000;
  return ms <= MAX_WAIT_MS ? ms : undefined;
}

function networkFailure(error: unknown, target: URL, timeoutMs: number): string {
  if (error instanceof Error && error.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  // undici: TypeError "fetch failed" whose cause is the socket's error (ECONNREFUSED, ENOTFOUND...).
  const cause = error instanceof Error ? error.cause : undefined;
  const code =
    cause && typeof cause === "object" && "code" in cause && typeof cause.code === "string"
      ? cause.code
      : undefined;
  return scrub(code ? `network error (${code})` : `network error: ${describe(error)}`, target);
}

const describe = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** Removes the URL's secret-bearing parts from a message written by someone else. */
function scrub(message: string, target: URL): string {
  let out = message.replaceAll(target.href, `${target.origin}/…`);
  for (const part of [target.pathname, target.search, target.username, target.password]) {
    if (part.length > 1) out = out.replaceAll(part, "…");
  }
  return out;
}
