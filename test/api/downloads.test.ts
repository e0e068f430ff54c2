// GET /api/backups/:id/download end to end: on AWS a presigned S3 URL that downloads from moto; in
// local mode the real local server (over HTTP, as a browser would) and its signed /downloads/ link,
// followed without the bearer token. Either way the bytes are the archive the record describes.
import { createHash, randomBytes } from "node:crypto";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "#core/ids.ts";
import type { MetadataStore } from "#core/ports.ts";
import { type LocalServer, startLocalServer } from "#functions/api/server.ts";
import { createLogger } from "#functions/logger.ts";
import { type ApiWorld, apiWorld, knownPasswords, parseJson } from "#test/support/api-harness.ts";
import { toolPath } from "#test/support/engine-harness.ts";
import {
  adminMongoClient,
  awsClientConfig,
  awsEmulator,
  mongoInfo,
  scratchDir,
  uniqueName,
} from "#test/support/env.ts";
import { makeBackup } from "#test/support/fixtures.ts";
import { seedSampleDatabase } from "#test/support/sample-data.ts";
import { freePort } from "../../scripts/processes.ts";

let mongo: MongoClient;
const database = uniqueName("api_dl").replaceAll("-", "_");

beforeAll(async () => {
  mongo = await adminMongoClient();
  await seedSampleDatabase(mongo, database, 300);
});
afterAll(async () => {
  await mongo?.close();
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read reply fields freely; shapes are asserted.
  json: any;
}

/** One deployment under test, reached the way its users reach it. */
interface Deployment {
  call(
    method: string,
    path: string,
    options?: { body?: unknown; as?: "operator" | "viewer" | "nobody" },
  ): Promise<Answer>;
  store: MetadataStore;
  close(): Promise<void>;
}

function expectNoPassword(text: string, what: string) {
  for (const password of [...knownPasswords, mongoInfo().password]) {
    expect(text.includes(password), `${what} contains a password`).toBe(false);
  }
}

/** AWS: the API app over the AWS adapters on moto, jobs run by the child-process runner. */
async function awsDeployment(): Promise<Deployment> {
  const api: ApiWorld = await apiWorld("aws", { runJobs: true });
  return { call: (m, p, o) => api.call(m, p, o), store: api.world.store, close: () => api.close() };
}

/** Local mode: the real local server on a free port, talked to over HTTP. */
async function localDeployment(): Promise<Deployment & { server: LocalServer }> {
  const tokens = {
    operator: `op-${randomBytes(16).toString("hex")}`,
    viewer: `ro-${randomBytes(16).toString("hex")}`,
  };
  const server = await startLocalServer({
    port: await freePort(),
    dataDir: scratchDir("mbm-downloads-"),
    token: tokens.operator,
    viewerToken: tokens.viewer,
    tools: { mongodump: toolPath("mongodump"), mongorestore: toolPath("mongorestore") },
    serverSelectionTimeoutSeconds: 3,
    log: createLogger("downloads-test", { level: "silent" }),
  });
  const call: Deployment["call"] = async (method, path, options = {}) => {
    const headers: Record<string, string> = {};
    const as = options.as ?? "operator";
    if (as !== "nobody") headers.authorization = `Bearer ${tokens[as]}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await res.text();
    expectNoPassword(text, `the reply to ${method} ${path}`);
    return { status: res.status, headers: res.headers, text, json: parseJson(text) };
  };
  return { call, store: server.deps.store, close: () => server.close(), server };
}

async function fetchBytes(url: string, init: RequestInit = {}) {
  const res = await fetch(url, { ...init, redirect: "manual" });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe.each(["local", "aws"] as const)("backup downloads (%s)", (kind) => {
  let d: Deployment;
  let localServer: LocalServer | undefined;
  let backup: { id: string; sha256: string; size_bytes: number; blob_key: string };
  let serverId: string;

  beforeAll(async () => {
    if (kind === "aws") d = await awsDeployment();
    else {
      const local = await localDeployment();
      d = local;
      localServer = local.server;
    }
    const m = mongoInfo();
    knownPasswords.add(m.password);
    const added = await d.call("POST", "/api/servers", {
      body: {
        name: "test ferretdb",
        host: m.host,
        port: m.port,
        username: m.username,
        password: m.password,
        auth_source: "admin",
      },
    });
    expect(added.status, added.text).toBe(201);
    serverId = added.json.id;
    const synced = await d.call("POST", "/api/databases/sync", { body: { server_id: serverId } });
    expect(synced.status, synced.text).toBe(200);
    const triggered = await d.call("POST", "/api/backups", { body: { server_id: serverId, database } });
    expect(triggered.status, triggered.text).toBe(202);
    const id = triggered.json.items[0].id as string;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const got = await d.call("GET", `/api/backups/${id}`);
      if (!["queued", "running"].includes(got.json.status)) {
        expect(got.json.status, got.json.error).toBe("completed");
        backup = got.json;
        break;
      }
      if (Date.now() > deadline) throw new Error(`backup ${id} still ${got.json.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    await d?.close();
  });

  it("links to the archive: the link downloads without a bearer token and the bytes match the record", async () => {
    const before = Date.now();
    const reply = await d.call("GET", `/api/backups/${backup.id}/download`);
    expect(reply.status, reply.text).toBe(200);
    const fileName = `${database}-${backup.id}.archive.zst`;
    expect(reply.json).toEqual({
      url: expect.any(String),
      expires_at: expect.any(String),
      file_name: fileName,
      size_bytes: backup.size_bytes,
    });
    const ttl = Date.parse(reply.json.expires_at) - before;
    expect(ttl).toBeGreaterThan(895_000);
    expect(ttl).toBeLessThan(905_000);

    const url = new URL(reply.json.url);
    if (kind === "aws") {
      expect(reply.json.url.startsWith(awsClientConfig("s3").endpoint)).toBe(true);
      expect(url.pathname).toContain(backup.blob_key);
      expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
      expect(url.searchParams.get("X-Amz-Expires")).toBe("900");
    } else {
      expect(reply.json.url.startsWith(`${localServer!.url}/downloads/`)).toBe(true);
      expect(reply.json.url).not.toContain(backup.id); // the key is inside the signed token, not in clear
    }

    const { res, bytes } = await fetchBytes(reply.json.url);
    expect(res.status).toBe(200);
    expect(bytes.length).toBe(backup.size_bytes);
    expect(sha256(bytes)).toBe(backup.sha256);
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])); // zstd, the default codec
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${fileName}"`);
    if (kind === "local") {
      expect(res.headers.get("content-type")).toBe("application/octet-stream");
      expect(res.headers.get("content-length")).toBe(String(backup.size_bytes));
    }
    // The same link works again until it expires.
    expect(sha256((await fetchBytes(reply.json.url)).bytes)).toBe(backup.sha256);
  });

  it("lets a viewer download; refuses anyone without a token, and unknown backups", async () => {
    const viewer = await d.call("GET", `/api/backups/${backup.id}/download`, { as: "viewer" });
    expect(viewer.status, viewer.text).toBe(200);
    expect(sha256((await fetchBytes(viewer.json.url)).bytes)).toBe(backup.sha256);
    const nobody = await d.call("GET", `/api/backups/${backup.id}/download`, { as: "nobody" });
    expect(nobody.status).toBe(401);
    expect(nobody.json.error.code).toBe("unauthenticated");
    expect(nobody.json.url).toBeUndefined();
    const unknown = await d.call("GET", `/api/backups/${newId()}/download`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("not_found");
  });

  it("answers 409 for a backup that has no archive (not completed)", async () => {
    for (const status of ["queued", "running", "failed", "cancelled"] as const) {
      const b = await d.store.backups.create(makeBackup({ server_id: serverId, database, status }));
      const r = await d.call("GET", `/api/backups/${b.id}/download`);
      expect(r.status, r.text).toBe(409);
      expect(r.json.error).toMatchObject({ code: "conflict", message: expect.stringContaining(status) });
    }
  });

  // Local links only: moto does not check presigned signatures (a tampered URL still downloads), so
  // the AWS suite has no such test at all rather than one reported as skipped.
  if (kind === "local")
    it("refuses a tampered, truncated or foreign link with 403", async () => {
      const reply = await d.call("GET", `/api/backups/${backup.id}/download`);
      const url = reply.json.url as string;
      const token = url.slice(url.lastIndexOf("/") + 1);
      const [payload, signature] = token.split(".") as [string, string];
      const grant = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
      const otherPayload = Buffer.from(JSON.stringify({ ...grant, k: "backups/../../secret.key" })).toString(
        "base64url",
      );
      const flip = (c: string) => (c === "A" ? "B" : "A");
      const base = `${localServer!.url}/downloads/`;
      for (const bad of [
        `${otherPayload}.${signature}`,
        `${payload}.${flip(signature[0] ?? "")}${signature.slice(1)}`,
        `${payload.slice(0, -2)}.${signature}`,
        payload,
        "garbage",
        `${payload}.${"A".repeat(43)}`,
      ]) {
        const res = await fetch(`${base}${bad}`);
        expect(res.status, bad).toBe(403);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe("forbidden");
        expect(body.error.message).toMatch(/invalid or has expired/);
      }
      // A link from another local server (another signing key) is refused too.
      const { SignedLinkDownloads } = await import("#adapters/local/signed-link-downloads.ts");
      const foreign = await new SignedLinkDownloads({ baseUrl: localServer!.url }).link(
        backup.blob_key,
        "x.gz",
      );
      expect((await fetch(foreign.url)).status).toBe(403);
      // The bearer token does not stand in for a valid link.
      expect((await fetch(`${base}garbage`, { headers: { authorization: "Bearer anything" } })).status).toBe(
        403,
      );
    });

  it("stops serving a link once its backup is deleted", async () => {
    const reply = await d.call("GET", `/api/backups/${backup.id}/download`);
    expect(reply.status).toBe(200);
    const deleted = await d.call("DELETE", `/api/backups/${backup.id}`);
    expect(deleted.status, deleted.text).toBe(200);
    const { res, bytes } = await fetchBytes(reply.json.url);
    // A missing key: local mode answers 404. S3 answers 403 to a signer without s3:ListBucket and 404
    // to one with it; moto answers 403, LocalStack (which checks no permissions) 404.
    expect(res.status).toBe(kind === "local" || awsEmulator("s3") === "localstack" ? 404 : 403);
    expect(bytes.includes(Buffer.from([0x1f, 0x8b, 0x08]))).toBe(false);
    expect((await d.call("GET", `/api/backups/${backup.id}/download`)).status).toBe(404);
  });
});
