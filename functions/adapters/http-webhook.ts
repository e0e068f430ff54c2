// WebhookSender over HTTP: POSTs the JSON body and retries what may pass later (5xx, 429, 408,
// network errors, timeouts) with exponential backoff (p-retry); any other answer is final.
// Webhook URLs carry their secret in the path (Slack: /services/T…/B…/secret), the query or the
// userinfo, so what a failure says names the URL's origin only, and redirects are never followed.
// Each attempt resolves the host once and checks every address against the outbound policy (only
// public addresses, or the allowlist's); the request connects to those checked addresses
// (node:http with a pinned `lookup`, TLS still verified against the URL's host name), so a DNS
// answer that changes between the check and the connection cannot redirect them. A refused target
// is refused before anything is sent: its status and timing are never measured, so never reported.
import type { LookupAddress } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import pRetry, { AbortError } from "p-retry";
import { Allowlist, OutboundRefusedError } from "#core/outbound-policy.ts";
import { WebhookDeliveryError, type WebhookPostOptions, type WebhookSender } from "#core/ports.ts";
import { pinnedLookup, resolveChecked } from "./outbound-guard.ts";

export interface HttpWebhookSenderOptions {
  /** Retries after the first attempt. Default: 3 (4 attempts). */
  retries?: number;
  /** The wait before the first retry; each next wait is `factor` times longer. Default: 1000 ms. */
  minTimeoutMs?: number;
  /** Default: 2. */
  factor?: number;
  /** How long one attempt waits for the response's status. Default: 5000 ms. */
  attemptTimeoutMs?: number;
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

  constructor(options: HttpWebhookSenderOptions = {}) {
    this.#retries = options.retries ?? 3;
    this.#minTimeoutMs = options.minTimeoutMs ?? 1000;
    this.#factor = options.factor ?? 2;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? 5000;
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

  async check(url: string, options: WebhookPostOptions = {}): Promise<void> {
    const target = parseTarget(url);
    const allowlist = allowlistOf(options);
    try {
      await resolveChecked(target.hostname, "webhook", allowlist);
    } catch (error) {
      if (error instanceof OutboundRefusedError) throw refusal(target, error, 1);
      throw new WebhookDeliveryError(
        `webhook URL ${target.origin}/… could not be checked: ${networkFailure(error, target, 0)}`,
        1,
      );
    }
  }

  async post(
    url: string,
    body: Record<string, unknown>,
    options: WebhookPostOptions = {},
  ): Promise<{ attempts: number }> {
    const target = parseTarget(url);
    const allowlist = allowlistOf(options);
    const payload = JSON.stringify(body);
    const timeoutMs = this.#attemptTimeoutMs;
    let attempts = 0;

    const attempt = async () => {
      attempts++;
      // Each attempt resolves once and connects only to the addresses it checked; a refusal is final
      // and nothing is sent, a failed lookup is retried like any network error.
      let addresses: LookupAddress[];
      try {
        addresses = await resolveChecked(target.hostname, "webhook", allowlist);
      } catch (error) {
        if (error instanceof OutboundRefusedError) throw new AbortError(error);
        throw new AttemptError(networkFailure(error, target, timeoutMs));
      }
      let res: { status: number; retryAfter: string | undefined };
      try {
        res = await postOnce(target, addresses, payload, timeoutMs);
      } catch (error) {
        throw new AttemptError(networkFailure(error, target, timeoutMs));
      }
      if (res.status >= 200 && res.status < 300) return;
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
      // Refused: say only that, never how the target answers (nothing was sent to it).
      if (error instanceof OutboundRefusedError) throw refusal(target, error, attempts);
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

function allowlistOf(options: WebhookPostOptions): Allowlist {
  try {
    return new Allowlist(options.allowlist ?? []);
  } catch (error) {
    throw new WebhookDeliveryError(`outbound_allowlist is invalid: ${describe(error)}`, 1);
  }
}

/** The refusal as callers see it; `cause` lets the settings tell a refusal from other failures. */
const refusal = (target: URL, error: OutboundRefusedError, attempts: number) =>
  new WebhookDeliveryError(`webhook URL ${target.origin}/… is refused: ${error.message}`, attempts, {
    cause: error,
  });

/** One POST to the checked addresses; resolves with the status once it arrives (the body is not read). */
function postOnce(
  target: URL,
  addresses: readonly LookupAddress[],
  payload: string,
  timeoutMs: number,
): Promise<{ status: number; retryAfter: string | undefined }> {
  const request = target.protocol === "https:" ? httpsRequest : httpRequest;
  const signal = AbortSignal.timeout(timeoutMs);
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
          "user-agent": USER_AGENT,
        },
        lookup: pinnedLookup(addresses),
        signal,
      },
      (res) => {
        // Only the status matters: the body is not read (nor echoed: it could quote the request).
        res.destroy();
        const retryAfter = res.headers["retry-after"];
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: typeof retryAfter === "string" ? retryAfter : undefined,
        });
      },
    );
    req.on("error", (error) => reject(signal.aborted ? signal.reason : error));
    req.end(payload);
  });
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
  // Credentials in the URL would be sent as Basic auth to whoever answers; refused outright.
  if (target.username || target.password)
    throw new WebhookDeliveryError(`webhook URL ${target.origin}/… must not contain credentials`, 1);
  return target;
}

/** Retry-After in seconds on a 429 or 503, when short enough to wait for (HTTP dates are ignored). */
function retryAfterMs(res: { status: number; retryAfter: string | undefined }): number | undefined {
  if (res.status !== 429 && res.status !== 503) return undefined;
  const value = res.retryAfter?.trim() ?? "";
  if (!/^\d{1,6}$/.test(value)) return undefined;
  const ms = Number(value) * 1000;
  return ms <= MAX_WAIT_MS ? ms : undefined;
}

function networkFailure(error: unknown, target: URL, timeoutMs: number): string {
  if (error instanceof Error && error.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  // The socket's or the resolver's error (ECONNREFUSED, ENOTFOUND...).
  const code =
    error && typeof error === "object" && "code" in error && typeof error.code === "string"
      ? error.code
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
