// The HTTP webhook sender against a local HTTP server that records each request and answers what the
// test sets: retries, backoff, Retry-After, timeouts, refused connections, redirects, and what its
// errors say (the URL's origin only: Slack-style URLs carry their secret in the path).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HttpWebhookSender } from "#adapters/http-webhook.ts";
import { WebhookDeliveryError } from "#core/ports.ts";
import { freePort } from "../../scripts/processes.ts";

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  at: number;
}

let server: Server;
let origin: string;
let received: Received[];
/** Answers the n-th request (0-based); one that never calls res.end leaves the client waiting. */
let respond: (res: ServerResponse, n: number) => void;

const status = (...codes: number[]) => {
  return (res: ServerResponse, n: number) => {
    res.writeHead(codes[Math.min(n, codes.length - 1)]!, { "content-type": "text/plain" });
    res.end("answer");
  };
};
const fast = { minTimeoutMs: 20 };
/** The receiver listens on loopback, which the outbound policy refuses unless allowlisted. */
const loopback = { allowlist: ["127.0.0.1/32"] };
const body = {
  text: "*[mongo-backup-manager] backup of shop failed*\nwhy",
  event: "BackupFailed",
  detail: { a: 1 },
};

async function failure(promise: Promise<unknown>): Promise<WebhookDeliveryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WebhookDeliveryError);
  return error as WebhookDeliveryError;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const n = received.length;
      received.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: performance.now(),
      });
      respond(res, n);
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
});
beforeEach(() => {
  received = [];
  respond = status(200);
});

describe("HttpWebhookSender", () => {
  it("POSTs the body as JSON once when the endpoint answers 2xx", async () => {
    respond = status(200);
    await expect(new HttpWebhookSender().post(`${origin}/hook?x=1`, body, loopback)).resolves.toEqual({
      attempts: 1,
    });
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.method).toBe("POST");
    expect(request!.url).toBe("/hook?x=1");
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["user-agent"]).toBe("mongo-backup-manager");
    expect(JSON.parse(request!.body)).toEqual(body);

    respond = status(204);
    await expect(new HttpWebhookSender().post(`${origin}/hook`, body, loopback)).resolves.toEqual({
      attempts: 1,
    });
  });

  it("retries 5xx until a 2xx, and says how many attempts it took", async () => {
    respond = status(500, 500, 200);
    await expect(new HttpWebhookSender(fast).post(`${origin}/hook`, body, loopback)).resolves.toEqual({
      attempts: 3,
    });
    expect(received).toHaveLength(3);
    expect(received.map((r) => JSON.parse(r.body))).toEqual([body, body, body]);
    // Exponential backoff: 20 ms, then 40 ms.
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(15);
    expect(received[2]!.at - received[1]!.at).toBeGreaterThanOrEqual(35);
  });

  it("retries 408 and 429 too", async () => {
    respond = status(408, 429, 200);
    await expect(new HttpWebhookSender(fast).post(`${origin}/hook`, body, loopback)).resolves.toEqual({
      attempts: 3,
    });
  });

  it("gives up after 4 attempts with an error naming the status and only the URL's origin", async () => {
    respond = status(503);
    const url = `${origin}/services/T000/SECRETPART?token=abc`;
    const error = await failure(new HttpWebhookSender(fast).post(url, body, loopback));
    expect(error.attempts).toBe(4);
    expect(received).toHaveLength(4);
    expect(received[0]!.url).toBe("/services/T000/SECRETPART?token=abc");
    expect(error.message).toBe(`webhook POST to ${origin}/… failed after 4 attempts: HTTP 503`);
    for (const secret of ["SECRETPART", "T000", "services", "token", "abc"])
      expect(error.message).not.toContain(secret);
  });

  it("does not retry other 4xx", async () => {
    for (const code of [400, 401, 403, 404, 410]) {
      received = [];
      respond = status(code);
      const error = await failure(new HttpWebhookSender(fast).post(`${origin}/hook`, body, loopback));
      expect(error.attempts).toBe(1);
      expect(received).toHaveLength(1);
      expect(error.message).toBe(`webhook POST to ${origin}/… failed after 1 attempt: HTTP ${code}`);
    }
  });

  it("retries a refused connection, then names the network error", async () => {
    const port = await freePort(); // nothing listens there

    const sender = new HttpWebhookSender({ ...fast, retries: 2 });
    const error = await failure(sender.post(`http://127.0.0.1:${port}/services/SECRETPART`, body, loopback));
    expect(error.attempts).toBe(3);
    expect(error.message).toBe(
      `webhook POST to http://127.0.0.1:${port}/… failed after 3 attempts: network error (ECONNREFUSED)`,
    );
  });

  it("gives each attempt a time limit, and retries one that timed out", async () => {
    respond = (res, n) => {
      if (n > 0) status(200)(res, n); // the first request never gets an answer
    };
    const sender = new HttpWebhookSender({ ...fast, attemptTimeoutMs: 200 });
    await expect(sender.post(`${origin}/hook`, body, loopback)).resolves.toEqual({ attempts: 2 });
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(200);

    received = [];
    respond = () => undefined;
    const error = await failure(
      new HttpWebhookSender({ ...fast, retries: 1, attemptTimeoutMs: 200 }).post(
        `${origin}/hook`,
        body,
        loopback,
      ),
    );
    expect(error.attempts).toBe(2);
    expect(received).toHaveLength(2);
    expect(error.message).toBe(
      `webhook POST to ${origin}/… failed after 2 attempts: no answer within 200 ms`,
    );
  });

  it("waits as long as a 429's or a 503's Retry-After asks, up to 30 s", async () => {
    respond = (res, n) => {
      if (n === 0) res.writeHead(429, { "retry-after": "1" }).end();
      else status(200)(res, n);
    };
    await expect(new HttpWebhookSender(fast).post(`${origin}/hook`, body, loopback)).resolves.toEqual({
      attempts: 2,
    });
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(900);

    // Longer than 30 s: the backoff applies instead.
    received = [];
    respond = (res, n) => {
      if (n === 0) res.writeHead(503, { "retry-after": "3600" }).end();
      else status(200)(res, n);
    };
    await expect(new HttpWebhookSender(fast).post(`${origin}/hook`, body, loopback)).resolves.toEqual({
      attempts: 2,
    });
    expect(received[1]!.at - received[0]!.at).toBeLessThan(500);

    // No wait after the last attempt.
    received = [];
    respond = (res) => res.writeHead(503, { "retry-after": "1" }).end();
    const started = performance.now();
    const error = await failure(
      new HttpWebhookSender({ ...fast, retries: 1 }).post(`${origin}/hook`, body, loopback),
    );
    expect(error.attempts).toBe(2);
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(900);
    expect(performance.now() - started).toBeLessThan(1800);
  });

  it("does not follow a redirect, nor retry it", async () => {
    respond = (res, n) => {
      if (n === 0) res.writeHead(302, { location: `${origin}/landing?token=abc` }).end();
      else status(200)(res, n);
    };
    const error = await failure(new HttpWebhookSender(fast).post(`${origin}/hook`, body, loopback));
    expect(error.attempts).toBe(1);
    expect(received.map((r) => r.url)).toEqual(["/hook"]);
    expect(error.message).toBe(
      `webhook POST to ${origin}/… failed after 1 attempt: HTTP 302 (redirects are not followed)`,
    );
  });

  it("refuses a URL it must not or cannot post to, without sending anything", async () => {
    const sender = new HttpWebhookSender(fast);

    let error = await failure(sender.post("ftp://127.0.0.1/hook", body, loopback));
    expect(error.attempts).toBe(1);
    expect(error.message).toBe("webhook URL must be http or https, not ftp");

    error = await failure(sender.post("hooks.example.com/services/SECRETPART", body, loopback));
    expect(error.message).toBe("webhook URL is not a valid URL");

    error = await failure(sender.post(`http://user:SECRETPART@127.0.0.1:1/hook`, body, loopback));
    expect(error.message).toBe("webhook URL http://127.0.0.1:1/… must not contain credentials");

    expect(received).toHaveLength(0);
    // The same sender does reach the receiver when the URL is fine.
    await expect(sender.post(`${origin}/hook`, body, loopback)).resolves.toEqual({ attempts: 1 });
    expect(received).toHaveLength(1);
  });

  it("refuses a target that is or resolves to a refused address, sending nothing", async () => {
    const port = (server.address() as AddressInfo).port;
    const sender = new HttpWebhookSender(fast);
    const cases: Array<[string, RegExp]> = [
      [`http://127.0.0.1:${port}/hook`, /127\.0\.0\.1 is a loopback address/],
      [`http://localhost:${port}/hook`, /localhost resolves to \S+, a loopback address/],
      [`http://[::ffff:127.0.0.1]:${port}/hook`, /::ffff:7f00:1 is a loopback address/],
      [`http://[::1]:${port}/hook`, /::1 is a loopback address/],
      ["http://169.254.169.254/latest/meta-data/", /169\.254\.169\.254 is a cloud metadata endpoint/],
      ["http://10.0.0.1/hook", /10\.0\.0\.1 is a private address/],
    ];
    for (const [url, reason] of cases) {
      const error = await failure(sender.post(url, body));
      expect(error.attempts, url).toBe(1);
      expect(error.message, url).toMatch(/^webhook URL http:\/\/\S+\/… is refused: /);
      expect(error.message, url).toMatch(reason);
      expect(error.message, url).not.toMatch(/\/hook|meta-data|HTTP \d/);
    }
    expect(received).toHaveLength(0);
  });

  it("retries a host name that does not resolve, like any network error", async () => {
    const sender = new HttpWebhookSender({ ...fast, retries: 1 });
    const error = await failure(sender.post("http://no-such-host.invalid/services/SECRETPART", body));
    expect(error.attempts).toBe(2);
    expect(error.message).toMatch(
      /^webhook POST to http:\/\/no-such-host\.invalid\/… failed after 2 attempts: network error \((ENOTFOUND|EAI_AGAIN)\)$/,
    );
  });

  it("posts to an allowlisted loopback receiver, never to a metadata endpoint", async () => {
    const sender = new HttpWebhookSender(fast);
    await expect(sender.post(`${origin}/hook`, body, { allowlist: ["127.0.0.0/8"] })).resolves.toEqual({
      attempts: 1,
    });
    expect(received).toHaveLength(1);
    const error = await failure(
      sender.post("http://169.254.169.254/latest/meta-data/", body, { allowlist: ["169.254.0.0/16"] }),
    );
    expect(error.message).toMatch(/cloud metadata endpoint \(never allowed\)/);
    // check() says the same without sending anything.
    await expect(sender.check(`${origin}/hook`)).rejects.toThrow(/is refused: 127\.0\.0\.1 is a loopback/);
    await expect(sender.check(`${origin}/hook`, loopback)).resolves.toBeUndefined();
    expect(received).toHaveLength(1);
  });

  it("connects to the address it checked: the request goes to the pinned address, named by the URL's host", async () => {
    // "localhost" resolves through the system resolver; every answer was checked and allowlisted.
    const port = (server.address() as AddressInfo).port;
    const sender = new HttpWebhookSender(fast);
    await expect(
      sender.post(`http://localhost:${port}/hook`, body, { allowlist: ["127.0.0.0/8", "::1/128"] }),
    ).resolves.toEqual({ attempts: 1 });
    expect(received[0]?.headers.host).toBe(`localhost:${port}`);
  });
});
