// Builds the API app over real adapters for a test: the AWS adapters on moto or the local ones in a
// temp dir (engine-harness worlds), the driver inspector against the test FerretDB, and, when asked,
// the child-process runner that really runs the task entry point. Every response passes through
// `call`, which fails the test if any password the suite knows appears in it.

import { randomBytes } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import { expect } from "vitest";
import { S3PresignedDownloads } from "#adapters/aws/s3-presigned-downloads.ts";
import type { ChildProcessJobRunner } from "#adapters/local/child-process-job-runner.ts";
import { SignedLinkDownloads } from "#adapters/local/signed-link-downloads.ts";
import type { CoreDeps } from "#core/use-cases/deps.ts";
import { listAll } from "#core/use-cases/deps.ts";
import { type App, createApp } from "#functions/api/app.ts";
import { bearerTokenAuth } from "#functions/api/auth.ts";
import { childProcessRunner } from "#functions/composition.ts";
import { createLogger } from "#functions/logger.ts";
import { coreDepsOf, quietAlerts } from "./core-deps.ts";
import { awsWorld, type EngineWorld, localWorld } from "./engine-harness.ts";
import { awsClientConfig, mongoInfo } from "./env.ts";

/** Every password a test has sent; no response may contain one. The FerretDB one is always in. */
export const knownPasswords = new Set<string>();

export interface ApiWorld {
  kind: "aws" | "local";
  app: App;
  deps: CoreDeps;
  world: EngineWorld;
  runner: ChildProcessJobRunner | null;
  tokens: { operator: string; viewer: string };
  /** Sends a request as the operator (default), the viewer, or no one; checks the reply for secrets. */
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
  /** Everything the store holds, for before/after comparisons. */
  snapshot(): Promise<unknown>;
  close(): Promise<void>;
}

export interface CallOptions {
  /** A value to send as JSON, or a raw string body (sent as is). */
  body?: unknown;
  as?: "operator" | "viewer" | "nobody";
  headers?: Record<string, string>;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read reply fields freely; shapes are asserted.
  json: any;
}

export async function apiWorld(
  kind: "aws" | "local",
  options: {
    runJobs?: boolean;
    /**
     * CIDRs the inspector admits for MongoDB servers (as local mode admits loopback). Default
     * loopback, where the test FerretDB runs; `[]` is the product's default (AWS).
     */
    mongoAllowlist?: readonly string[];
  } = {},
): Promise<ApiWorld> {
  const world = kind === "aws" ? await awsWorld() : await localWorld();
  knownPasswords.add(mongoInfo().password);
  const quiet = createLogger("api-test", { level: "silent" });
  // As in local mode: when a task ends, the dispatcher may start the next queued backup.
  // As local mode does: each job is a task process, and one that died without recording its
  // job's end fails it (whichever store the world has).
  const runner = options.runJobs ? childProcessRunner(world.env, () => deps, quiet) : null;
  // The test FerretDB runs on loopback: the world's env admits it explicitly, as local mode does
  // (never by default); `mongoAllowlist` replaces that.
  const deps: CoreDeps = coreDepsOf(
    world,
    { runner, alerts: quietAlerts({ webhook: true }) },
    {
      inspectorTimeoutMs: 3_000,
      ...(options.mongoAllowlist ? { mongoAllowlist: options.mongoAllowlist } : {}),
    },
  );
  const tokens = {
    operator: `op-${randomBytes(16).toString("hex")}`,
    viewer: `ro-${randomBytes(16).toString("hex")}`,
  };
  const downloads =
    kind === "aws"
      ? new S3PresignedDownloads({ client: new S3Client(awsClientConfig("s3")), bucket: world.bucket ?? "" })
      : new SignedLinkDownloads({ baseUrl: "http://127.0.0.1:1" });
  const app = createApp({
    ...deps,
    authenticate: bearerTokenAuth(tokens),
    downloads,
    log: quiet,
  });

  const call = async (method: string, path: string, o: CallOptions = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...o.headers };
    const as = o.as ?? "operator";
    if (as !== "nobody") headers.authorization = `Bearer ${tokens[as]}`;
    let body: string | undefined;
    if (typeof o.body === "string") body = o.body;
    else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    for (const password of knownPasswords) {
      expect(text.includes(password), `a reply to ${method} ${path} contains a password`).toBe(false);
    }
    return { status: res.status, headers: res.headers, text, json: parseJson(text) };
  };

  const snapshot = async () => {
    const s = world.store;
    const all = <T, F>(
      list: (
        f: F,
        p: { limit: number; cursor?: string | undefined },
      ) => Promise<{ items: T[]; next_cursor: string | null }>,
      f: F,
    ) => listAll(list, f);
    return {
      servers: await all((f, p) => s.servers.list(f, p), {}),
      databases: await all((f, p) => s.databases.list(f, p), {}),
      backups: await all((f, p) => s.backups.list(f, p), {}),
      schedules: await all((f, p) => s.schedules.list(f, p), {}),
      restores: await all((f, p) => s.restores.list(f, p), {}),
      audit: await all((f, p) => s.audit.list(f, p), {}),
      settings: (await s.settings.get()) ?? null,
      blobs: await world.leftovers(""),
    };
  };

  return {
    kind,
    app,
    deps,
    world,
    runner,
    tokens,
    call,
    snapshot,
    close: async () => {
      await runner?.shutdown();
    },
  };
}

/** A reply body as JSON; undefined when it is empty or not JSON. */
export function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** Registers the test FerretDB through the API (password included) and returns the server record. */
export async function addTestServer(api: ApiWorld, name = "test ferretdb") {
  const m = mongoInfo();
  const reply = await api.call("POST", "/api/servers", {
    body: {
      name,
      host: m.host,
      port: m.port,
      username: m.username,
      password: m.password,
      auth_source: "admin",
    },
  });
  expect(reply.status, reply.text).toBe(201);
  return reply.json;
}

/** Polls a job until its status leaves `pending` (by default: until it ends). */
export async function waitForJob(
  api: ApiWorld,
  path: string,
  timeoutMs = 60_000,
  pending: readonly string[] = ["queued", "running"],
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await api.call("GET", path);
    if (!pending.includes(reply.json?.status)) return reply.json;
    if (Date.now() > deadline) throw new Error(`${path} still ${reply.json?.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
