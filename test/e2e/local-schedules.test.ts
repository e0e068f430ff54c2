// Schedules firing on their own in local mode (the server as `npm start` builds it, in-process, with
// its cron ticker and child-process tasks): a `* * * * *` schedule produces a scheduled backup within
// 70 s; toggled off, no more appear; toggled on, they resume. Slow by nature (minute boundaries):
// it runs alongside the other files.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServer, startLocalServer } from "#functions/api/server.ts";
import { createLogger } from "#functions/logger.ts";
import { toolPath } from "#test/support/engine-harness.ts";
import { adminMongoClient, mongoInfo, scratchDir, uniqueName } from "#test/support/env.ts";
import { seedSampleDatabase } from "#test/support/sample-data.ts";
import { freePort } from "../../scripts/processes.ts";

const token = `sched-${Date.now()}-token`;
const database = uniqueName("e2e_sched").replaceAll("-", "_");
let dataDir: string;
let server: LocalServer;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
}

async function scheduledBackups(scheduleId: string): Promise<Array<Record<string, unknown>>> {
  const reply = await api("GET", `/api/backups?schedule_id=${scheduleId}&limit=100`);
  expect(reply.status, reply.text).toBe(200);
  return reply.json.items;
}

async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Milliseconds until `seconds` past the next minute boundary. */
const untilNextMinute = (seconds: number) => 60_000 - (Date.now() % 60_000) + seconds * 1000;

beforeAll(async () => {
  const mongo = await adminMongoClient();
  await seedSampleDatabase(mongo, database, 40);
  await mongo.close();
  dataDir = scratchDir("mbm-e2e-sched-");
  server = await startLocalServer({
    port: await freePort(),
    dataDir,
    token,
    tools: { mongodump: toolPath("mongodump"), mongorestore: toolPath("mongorestore") },
    serverSelectionTimeoutSeconds: 5,
    log: createLogger("e2e", { level: "silent" }),
  });
});

afterAll(async () => {
  await server?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("local mode scheduling", () => {
  it("a * * * * * schedule backs up within 70 s; toggled off nothing more appears; toggled on it resumes", async () => {
    const m = mongoInfo();
    const created = await api("POST", "/api/servers", {
      name: "ferret",
      host: m.host,
      port: m.port,
      username: m.username,
      password: m.password,
      auth_source: "admin",
    });
    expect(created.status, created.text).toBe(201);
    const serverId = created.json.id as string;
    expect((await api("POST", "/api/databases/sync", { server_id: serverId })).status).toBe(200);

    const start = Date.now();
    const made = await api("POST", "/api/schedules", {
      name: "every minute",
      cron_expression: "* * * * *",
      server_id: serverId,
      database,
    });
    expect(made.status, made.text).toBe(201);
    const scheduleId = made.json.id as string;

    const first = await waitUntil(
      "the first scheduled backup",
      async () => (await scheduledBackups(scheduleId))[0],
      70_000,
    );
    expect(Date.now() - start).toBeLessThan(70_000);
    expect(first).toMatchObject({
      trigger: "schedule",
      schedule_id: scheduleId,
      database,
      server_id: serverId,
    });
    const done = await waitUntil(
      "the scheduled backup to finish",
      async () => {
        const b = (await api("GET", `/api/backups/${first.id}`)).json;
        return ["queued", "running"].includes(b.status) ? undefined : b;
      },
      30_000,
    );
    expect(done.status, done.error).toBe("completed");

    // Off: once the toggle has landed, a whole minute boundary passes without a new backup.
    const off = await api("POST", `/api/schedules/${scheduleId}/toggle`);
    expect(off.status, off.text).toBe(200);
    expect(off.json.enabled).toBe(false);
    await new Promise((r) => setTimeout(r, 1000)); // a firing already under way may still land
    const whileOff = (await scheduledBackups(scheduleId)).length;
    await new Promise((r) => setTimeout(r, untilNextMinute(5)));
    expect((await scheduledBackups(scheduleId)).length).toBe(whileOff);

    // On again: the next minute brings a new one.
    const on = await api("POST", `/api/schedules/${scheduleId}/toggle`);
    expect(on.json.enabled).toBe(true);
    await waitUntil(
      "a scheduled backup after re-enabling",
      async () => ((await scheduledBackups(scheduleId)).length > whileOff ? true : undefined),
      70_000,
    );
    const all = await scheduledBackups(scheduleId);
    // One per minute at most: the ids are per (schedule, database, minute).
    const minutes = all.map((b) => String(b.created_at).slice(0, 16));
    expect(new Set(minutes).size).toBe(minutes.length);
  }, 240_000);
});
