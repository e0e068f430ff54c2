// GET /api/retention/preview through the real app over both stores, and the run it previews: backups
// seeded in the store (real small archives for the completed ones), the preview read by an operator
// and a viewer, then `runRetention` deleting exactly what was listed (records, archives, one audit
// entry each) and nothing else; a restore starting between the plan and a deletion saves its backup;
// the newest verified backup and one a drill reads stay (and DELETE refuses the latter).
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backup } from "#core/entities.ts";
import { newId } from "#core/ids.ts";
import { SYSTEM_ACTOR } from "#core/use-cases/alerts.ts";
import { previewRetention, runRetention } from "#core/use-cases/retention.ts";
import { expectError } from "#test/support/api-expect.ts";
import { type ApiWorld, apiWorld } from "#test/support/api-harness.ts";
import {
  makeBackup,
  makeDrill,
  makeRestore,
  makeSchedule,
  makeVerification,
} from "#test/support/fixtures.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe.each(["local", "aws"] as const)("retention API (%s)", (kind) => {
  let api: ApiWorld;

  beforeAll(async () => {
    api = await apiWorld(kind);
  });
  afterAll(async () => {
    await api?.close();
  });

  const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

  /** A backup of `database` on `server` created `daysAgo` days ago and kept `keptDays` days. */
  async function seed(
    server: string,
    database: string,
    daysAgo: number,
    keptDays: number | null,
    overrides: Partial<Backup> = {},
  ): Promise<Backup> {
    const status = overrides.status ?? "completed";
    const id = newId();
    const body = Buffer.from(`archive of ${database} ${id}\n`);
    const backup = makeBackup({
      id,
      server_id: server,
      database,
      status,
      created_at: ago(daysAgo * DAY),
      started_at: ago(daysAgo * DAY),
      finished_at: status === "queued" || status === "running" ? null : ago(daysAgo * DAY - 10 * 60_000),
      expires_at: keptDays === null ? null : ago((daysAgo - keptDays) * DAY),
      blob_key: status === "completed" ? `servers/${server}/${database}/${id}.archive.gz` : null,
      size_bytes: status === "completed" ? body.length : null,
      error: status === "failed" ? "mongodump exited with code 1" : null,
      ...overrides,
    });
    if (backup.blob_key) await api.deps.blobs.upload(backup.blob_key, Readable.from([body]));
    return await api.deps.store.backups.create(backup);
  }

  const present = async (b: Backup) => ({
    record: (await api.deps.store.backups.get(b.id)) !== undefined,
    blob: b.blob_key ? (await api.deps.blobs.head(b.blob_key)) !== undefined : null,
  });

  it("lists what a run deletes, with reasons, to viewers too; the run deletes exactly that", async () => {
    const store = api.deps.store;
    const server = newId();
    const other = newId();
    // shop: keep_last max(settings 3, schedule 2) = 3. legacy: max(3, 2, disabled schedule 4) = 4.
    await store.schedules.create(makeSchedule({ server_id: server, keep_last: 2 }));
    await store.schedules.create(
      makeSchedule({ server_id: server, database: "legacy", keep_last: 4, enabled: false }),
    );
    await store.schedules.create(makeSchedule({ server_id: null, keep_last: 1 }));

    const oldExpired = [
      await seed(server, "shop", 40, 30),
      await seed(server, "shop", 39, 30),
      await seed(server, "shop", 38, 30),
    ];
    const readByRestore = await seed(server, "shop", 37, 30);
    const restore = await store.restores.create(
      makeRestore({
        backup_id: readByRestore.id,
        source_server_id: server,
        target_server_id: server,
        status: "running",
        started_at: ago(HOUR),
      }),
    );
    const newer = [await seed(server, "shop", 3, 30), await seed(server, "shop", 2, 30)];
    const failedExpired = await seed(server, "shop", 1.5, 1, { status: "failed" });
    const cancelledExpired = await seed(server, "shop", 1.2, 1, { status: "cancelled" });
    const runningExpired = await seed(server, "shop", 1.1, 1, { status: "running" });
    const newest = await seed(server, "shop", 1, 30);
    const forever = await seed(server, "shop", 50, null);
    // A pair whose backups have all expired: its newest 4 stay whatever their age.
    const legacy = [100, 99, 98, 97, 96, 95].map((d) => seed(server, "legacy", d, 7));
    const legacyBackups = await Promise.all(legacy);
    // Another server's pair: keep_last max(3, 1) = 3, nothing expired yet.
    const otherBackups = [await seed(other, "shop", 5, 30), await seed(other, "shop", 4, 30)];

    const shop = (why: string) => `${why} shop on server ${server}`;
    const expected = new Map<string, string>([
      ...oldExpired.map(
        (b) => [b.id, `expired ${b.expires_at}, ${shop("beyond the newest 3 completed of")}`] as const,
      ),
      [
        failedExpired.id,
        `expired ${failedExpired.expires_at}, failed (failed and cancelled backups do not count toward keep_last)`,
      ],
      [
        cancelledExpired.id,
        `expired ${cancelledExpired.expires_at}, cancelled (failed and cancelled backups do not count toward keep_last)`,
      ],
      ...legacyBackups
        .slice(0, 2)
        .map(
          (b) =>
            [
              b.id,
              `expired ${b.expires_at}, beyond the newest 4 completed of legacy on server ${server}`,
            ] as const,
        ),
    ]);
    const kept = [readByRestore, ...newer, runningExpired, newest, forever, ...legacyBackups.slice(2)];
    const all = [
      ...oldExpired,
      failedExpired,
      cancelledExpired,
      ...legacyBackups.slice(0, 2),
      ...kept,
      ...otherBackups,
    ];
    const byId = new Map(all.map((b) => [b.id, b]));
    // Plan order is list order: newest id first.
    const order = [...expected.keys()].sort().reverse();

    const before = await api.snapshot();
    const reply = await api.call("GET", "/api/retention/preview");
    expect(reply.status, reply.text).toBe(200);
    expect(Date.parse(reply.json.now)).toBeGreaterThan(Date.now() - 60_000);
    expect(reply.json.delete.map((i: { backup_id: string }) => i.backup_id)).toEqual(order);
    for (const item of reply.json.delete) {
      const b = byId.get(item.backup_id)!;
      expect(item).toEqual({
        backup_id: b.id,
        server_id: b.server_id,
        database: b.database,
        status: b.status,
        created_at: b.created_at,
        expires_at: b.expires_at,
        size_bytes: b.size_bytes,
        reason: expected.get(b.id),
      });
    }
    const bytes = order.reduce((sum, id) => sum + (byId.get(id)!.size_bytes ?? 0), 0);
    expect(reply.json).toMatchObject({
      delete_count: order.length,
      delete_bytes: bytes,
      keep_count: all.length - order.length,
      truncated: false,
    });
    expect(bytes).toBeGreaterThan(0);

    const viewer = await api.call("GET", "/api/retention/preview", { as: "viewer" });
    expect(viewer.status, viewer.text).toBe(200);
    expect({ ...viewer.json, now: null }).toEqual({ ...reply.json, now: null });
    expectError(await api.call("GET", "/api/retention/preview", { as: "nobody" }), 401, "unauthenticated");
    expectError(await api.call("POST", "/api/retention/preview", { body: {} }), 405, "method_not_allowed");
    // Previewing changes nothing, not even the audit log.
    expect(await api.snapshot()).toEqual(before);

    const run = await runRetention(api.deps);
    expect(run).toMatchObject({
      deleted: order,
      skipped: [],
      audit_failures: [],
      errors: [],
      deleted_bytes: bytes,
      keep_count: all.length - order.length,
    });
    for (const id of order) {
      expect(await present(byId.get(id)!), id).toEqual({
        record: false,
        blob: byId.get(id)!.blob_key ? false : null,
      });
    }
    for (const b of [...kept, ...otherBackups]) {
      expect(await present(b), b.id).toEqual({ record: true, blob: b.blob_key ? true : null });
    }

    const audit = await api.call("GET", `/api/audit?actor=${SYSTEM_ACTOR}&target_type=backup&limit=100`);
    expect(audit.status, audit.text).toBe(200);
    const expiries = audit.json.items.filter((e: { action: string }) => e.action === "backup.expire");
    expect(expiries.map((e: { target_id: string }) => e.target_id).sort()).toEqual([...order].sort());
    for (const entry of expiries) {
      const b = byId.get(entry.target_id)!;
      expect(entry).toMatchObject({
        actor: "system",
        action: "backup.expire",
        target_type: "backup",
        outcome: "success",
        details: { reason: expected.get(b.id), server_id: b.server_id, database: b.database },
      });
    }

    // Planning again deletes nothing; once the restore ends, the backup it read may go.
    const again = await api.call("GET", "/api/retention/preview", { as: "viewer" });
    expect(again.json).toMatchObject({ delete: [], delete_count: 0, delete_bytes: 0, truncated: false });
    await store.restores.transition(restore.id, "completed", { finished_at: new Date().toISOString() });
    const freed = await api.call("GET", "/api/retention/preview", { as: "viewer" });
    expect(freed.json.delete).toEqual([
      expect.objectContaining({
        backup_id: readByRestore.id,
        reason: `expired ${readByRestore.expires_at}, ${shop("beyond the newest 3 completed of")}`,
      }),
    ]);
    expect((await runRetention(api.deps)).deleted).toEqual([readByRestore.id]);
    expect(await present(readByRestore)).toEqual({ record: false, blob: false });
  });

  it("caps the listed items, not the counts; truncated says so", async () => {
    const server = newId();
    const failed = [];
    for (let i = 0; i < 5; i++) failed.push(await seed(server, "shop", 10 - i, 1, { status: "failed" }));
    const capped = await previewRetention(api.deps, new Date(), 2);
    expect(capped.delete.map((i) => i.backup_id)).toEqual(
      failed
        .map((b) => b.id)
        .reverse()
        .slice(0, 2),
    );
    expect(capped).toMatchObject({ delete_count: 5, truncated: true });
    const reply = await api.call("GET", "/api/retention/preview");
    expect(reply.json).toMatchObject({ delete_count: 5, truncated: false });
    expect(reply.json.delete).toHaveLength(5);
    expect((await runRetention(api.deps)).deleted).toHaveLength(5);
  });

  it("re-checks each backup right before deleting it: a restore started since the plan saves it", async () => {
    const server = newId();
    const old = await seed(server, "shop", 20, 5);
    const gone = await seed(server, "shop", 19, 5);
    // keep_last here is 3: these protect the newest three, so the two above are due to go.
    for (const daysAgo of [3, 2, 1]) await seed(server, "shop", daysAgo, 30);
    const backups = api.deps.store.backups;
    // Another writer acts between the plan and each deletion: it starts a restore of `old`, and an
    // operator deletes `gone` (archive, then record) at the same moment.
    const racing = new Proxy(backups, {
      get(target, prop) {
        if (prop === "get") {
          return async (id: string) => {
            if (id === old.id) {
              await api.deps.store.restores.create(
                makeRestore({ backup_id: old.id, source_server_id: server, status: "queued" }),
              );
            }
            if (id === gone.id) {
              await api.deps.blobs.delete(gone.blob_key!);
              await target.delete(gone.id);
            }
            return await target.get(id);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const deps = { ...api.deps, store: { ...api.deps.store, backups: racing } };
    expect((await previewRetention(deps)).delete.map((i) => i.backup_id)).toEqual([gone.id, old.id]);
    const run = await runRetention(deps);
    expect(run.deleted).toEqual([]);
    expect(run.skipped).toEqual([
      { backup_id: gone.id, reason: "the record is already gone" },
      { backup_id: old.id, reason: expect.stringMatching(/^restore \S+ \(queued\) reads it now$/) },
    ]);
    expect(await present(old)).toEqual({ record: true, blob: true });
    const audit = await api.call("GET", `/api/audit?target_id=${old.id}`);
    expect(audit.json.items).toEqual([]);
  });

  it("keeps the newest verified backup and one a drill reads; says why; DELETE refuses while a drill reads it", async () => {
    const store = api.deps.store;
    const server = newId();
    // keep_last 3 (the settings' default): the three newest, unproven, are kept by it.
    const proof = makeVerification({ at: ago(9 * DAY) });
    const olderProof = await seed(server, "shop", 12, 5, { verification: makeVerification() });
    const verified = await seed(server, "shop", 10, 5, { verification: proof });
    const failedDrill = await seed(server, "shop", 9, 5, {
      verification: makeVerification({ status: "failed", error: "counts differ" }),
    });
    const drilled = await seed(server, "shop", 8, 5);
    for (const daysAgo of [3, 2, 1]) await seed(server, "shop", daysAgo, 30);
    const drill = await store.drills.create(
      makeDrill({ backup_id: drilled.id, server_id: server, status: "running", started_at: ago(HOUR) }),
    );

    const reply = await api.call("GET", "/api/retention/preview", { as: "viewer" });
    expect(reply.status, reply.text).toBe(200);
    const mine = (items: Array<{ backup_id: string; server_id: string; reason: string }>) =>
      items.filter((i) => i.server_id === server).map((i) => [i.backup_id, i.reason]);
    expect(mine(reply.json.delete)).toEqual([
      [
        failedDrill.id,
        `expired ${failedDrill.expires_at}, beyond the newest 3 completed of shop on server ${server}`,
      ],
      [
        olderProof.id,
        `expired ${olderProof.expires_at}, beyond the newest 3 completed of shop on server ${server}`,
      ],
    ]);
    expect(mine(reply.json.kept_expired)).toEqual([
      [drilled.id, "kept: a restore drill in progress reads it"],
      [verified.id, `kept: newest verified of shop on server ${server} (restore drill passed ${proof.at})`],
    ]);
    expect(reply.json.kept_expired_count).toBe(reply.json.kept_expired.length);

    const deleteReply = await api.call("DELETE", `/api/backups/${drilled.id}`);
    expectError(deleteReply, 409, "conflict");
    expect(deleteReply.json.error.message).toContain(`restore drill ${drill.id} (running)`);
    expect(await present(drilled)).toEqual({ record: true, blob: true });

    const run = await runRetention(api.deps);
    expect(run.deleted.filter((id) => [olderProof.id, failedDrill.id].includes(id)).sort()).toEqual(
      [olderProof.id, failedDrill.id].sort(),
    );
    for (const b of [verified, drilled]) expect(await present(b), b.id).toEqual({ record: true, blob: true });

    // The drill ends; the next run may delete what it read.
    await store.drills.transition(drill.id, "cancelled", { finished_at: new Date().toISOString() });
    expect((await runRetention(api.deps)).deleted).toEqual([drilled.id]);
    expect((await api.call("DELETE", `/api/backups/${verified.id}`)).status).toBe(200);
  });

  it("re-checks a drill before deleting: one queued since the plan, or a proof recorded since, saves the backup", async () => {
    const server = newId();
    const queuedOn = await seed(server, "shop", 20, 5);
    const provenOn = await seed(server, "shop", 19, 5);
    for (const daysAgo of [3, 2, 1]) await seed(server, "shop", daysAgo, 30);
    const backups = api.deps.store.backups;
    // Between the plan and each deletion: a drill of one is queued, a drill of the other passes.
    const racing = new Proxy(backups, {
      get(target, prop) {
        if (prop === "get") {
          return async (id: string) => {
            if (id === queuedOn.id) {
              await api.deps.store.drills.create(makeDrill({ backup_id: queuedOn.id, server_id: server }));
            }
            if (id === provenOn.id) await target.update(id, { verification: makeVerification() });
            return await target.get(id);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const deps = { ...api.deps, store: { ...api.deps.store, backups: racing } };
    const run = await runRetention(deps);
    expect(run.deleted).toEqual([]);
    expect(run.skipped).toEqual([
      {
        backup_id: provenOn.id,
        reason: expect.stringMatching(/^a restore drill \(\S+\) ended on it since the plan$/),
      },
      {
        backup_id: queuedOn.id,
        reason: expect.stringMatching(/^restore drill \S+ \(queued\) reads it now$/),
      },
    ]);
    for (const b of [queuedOn, provenOn])
      expect(await present(b), b.id).toEqual({ record: true, blob: true });
  });
});
