// Alerts end to end in local mode's shape: a backup that fails in its real task is announced to a
// real webhook server; a webhook that refuses is retried, then recorded in the audit log and shown
// by /api/health until a delivery succeeds again (here, the webhook test endpoint).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ApiWorld,
  addTestServer,
  apiWorld,
  knownPasswords,
  waitForJob,
} from "#test/support/api-harness.ts";
import { adminMongoClient, uniqueName } from "#test/support/env.ts";
import { seedSampleDatabase } from "#test/support/sample-data.ts";
import { startWebhookServer, type WebhookServer } from "#test/support/webhook-server.ts";

const database = uniqueName("api_alerts").replaceAll("-", "_");
const wrongPassword = "not-the-password-4f9c2";

let api: ApiWorld;
let hook: WebhookServer;
let server: { id: string };

beforeAll(async () => {
  const mongo = await adminMongoClient();
  await seedSampleDatabase(mongo, database, 50);
  await mongo.close();
  [api, hook] = await Promise.all([apiWorld("local", { runJobs: true }), startWebhookServer()]);
  server = await addTestServer(api);
  const sync = await api.call("POST", "/api/databases/sync", { body: { server_id: server.id } });
  expect(sync.status, sync.text).toBe(200);
  // From now on the stored password is wrong: every backup fails, in its task, on authentication.
  knownPasswords.add(wrongPassword);
  const patched = await api.call("PUT", `/api/servers/${server.id}`, { body: { password: wrongPassword } });
  expect(patched.status, patched.text).toBe(200);
});

afterAll(async () => {
  await Promise.all([api?.close(), hook?.close()]);
});

async function failedBackup(): Promise<{ id: string; error: string }> {
  const reply = await api.call("POST", "/api/backups", { body: { server_id: server.id, database } });
  expect(reply.status, reply.text).toBe(202);
  const done = await waitForJob(api, `/api/backups/${reply.json.items[0].id}`);
  expect(done.status).toBe("failed");
  return done;
}

describe("alerts (local mode)", () => {
  it("refuses a webhook test while no webhook_url is set (409), and to a viewer (403)", async () => {
    const none = await api.call("POST", "/api/settings/webhook/test");
    expect(none.status).toBe(409);
    expect(none.json.error.message).toContain("no webhook_url is set");
    expect((await api.call("POST", "/api/settings/webhook/test", { as: "viewer" })).status).toBe(403);
  });

  it("posts a failed backup to the webhook as JSON with a Slack-compatible text, without secrets", async () => {
    // The receiver is on loopback: refused unless allowlisted (test/api/outbound.test.ts).
    const put = await api.call("PUT", "/api/settings", {
      body: { webhook_url: hook.url, outbound_allowlist: ["127.0.0.1/32"] },
    });
    expect(put.status, put.text).toBe(200);
    const backup = await failedBackup();
    const [delivery] = await hook.waitFor(1);
    expect(delivery?.path).toBe("/hook");
    expect(delivery?.body).toMatchObject({
      event: "BackupFailed",
      detail: { backup_id: backup.id, server_id: server.id, database, status: "failed", error: backup.error },
    });
    expect(delivery?.body.text).toMatch(/^\*\[mongo-backup-manager\] backup of \S+ failed\*\n/);
    expect(JSON.stringify(delivery?.body)).not.toContain(wrongPassword);
    const health = await api.call("GET", "/api/health");
    expect(health.json.checks.alerts_webhook).toEqual({ ok: true, detail: "no failed delivery recorded" });
  });

  it("retries a refusing webhook, then records the failure; health shows it until a delivery succeeds", async () => {
    hook.deliveries.length = 0;
    hook.respondWith(500);
    await failedBackup();
    // The task retries 3 times with 1 s, 2 s and 4 s between attempts, then records the failure.
    await hook.waitFor(4, 30_000);
    const deadline = Date.now() + 15_000;
    let health = await api.call("GET", "/api/health");
    while (health.status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      health = await api.call("GET", "/api/health");
    }
    expect(health.status).toBe(503);
    expect(health.json.checks.alerts_webhook.ok).toBe(false);
    expect(health.json.checks.alerts_webhook.detail).toMatch(/BackupFailed, 4 attempts\): .*500/);
    expect(hook.deliveries).toHaveLength(4);
    // 1 + 2 + 4 s of backoff between the first and the last attempt. Arrival times are read by this
    // busy test process, where one stall can bunch two arrivals together (CI once saw a 28 ms gap),
    // so only the whole span is checked; each gap is checked in test/adapters/http-webhook.test.ts.
    expect(hook.deliveries.at(-1)!.at - hook.deliveries[0]!.at).toBeGreaterThan(5_000);

    const audit = await api.call("GET", "/api/audit?target_type=alert_channel&target_id=webhook");
    expect(audit.json.items[0]).toMatchObject({
      actor: "system",
      action: "alert.deliver",
      outcome: "failure",
      details: { event: "BackupFailed", attempts: 4 },
    });
    expect(audit.json.items[0].details.error).not.toContain("/hook");

    hook.respondWith(200);
    const test = await api.call("POST", "/api/settings/webhook/test");
    expect(test.status, test.text).toBe(200);
    expect(test.json).toEqual({ delivered: true, attempts: 1, error: null });
    expect(hook.deliveries.at(-1)?.body.event).toBe("Test");
    const healed = await api.call("GET", "/api/health");
    expect(healed.status, healed.text).toBe(200);
    expect(healed.json.checks.alerts_webhook.detail).toMatch(/^delivering again since /);
  });
});
