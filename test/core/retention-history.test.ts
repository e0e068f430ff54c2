// The retention run over simulated history, on both stores (DynamoDB + S3 on moto: a month; the local
// files: four months, see DAYS): daily backups of 2 servers x 3 databases (some failed, some cancelled, a few manual),
// schedules of different retention_days and keep_last, restores and restore drills reading old backups
// for a few days, some backups drilled (passed or failed), settings changed along the way, and one run
// a day at the simulated time. After every run the
// invariants are checked against what the store and the blob store really hold. Then the order that
// keeps a record from outliving its archive: an archive that cannot be deleted keeps its record.
//
// The history is drawn from a seeded PRNG, so a failure reproduces; run
// `RETENTION_SEED=<n> npx vitest run test/core/retention-history.test.ts` to explore other histories.
import { execFile } from "node:child_process";
import { chmod } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { S3BlobStore } from "#adapters/aws/s3-blob-store.ts";
import type { Backup, Drill, Restore, Schedule } from "#core/entities.ts";
import { newId } from "#core/ids.ts";
import type { BlobStore } from "#core/ports.ts";
import { expiresAt } from "#core/retention.ts";
import { SYSTEM_ACTOR } from "#core/use-cases/alerts.ts";
import { type CoreDeps, listAll } from "#core/use-cases/deps.ts";
import { previewRetention, runRetention } from "#core/use-cases/retention.ts";
import { retentionHandler } from "#functions/events/retention.ts";
import { createLogger } from "#functions/logger.ts";
import { awsWorld, type EngineWorld, localWorld } from "#test/support/engine-harness.ts";
import { awsClientConfig } from "#test/support/env.ts";
import {
  makeBackup,
  makeDrill,
  makeRestore,
  makeSchedule,
  makeSettings,
  makeVerification,
} from "#test/support/fixtures.ts";
import { prng } from "../../scripts/prng.ts";

const SEED = Number(process.env.RETENTION_SEED ?? 20_260_301);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const START = Date.parse("2026-01-01T00:00:00.000Z");
const DATABASES = ["shop", "analytics", "users"] as const;

type Deps = Pick<CoreDeps, "store" | "blobs">;

async function worldOf(kind: "aws" | "local"): Promise<{ world: EngineWorld; deps: Deps }> {
  const world = kind === "aws" ? await awsWorld() : await localWorld();
  return { world, deps: { store: world.store, blobs: world.blobs } };
}

async function allBackups(deps: Deps): Promise<Map<string, Backup>> {
  const items = await listAll((f, p) => deps.store.backups.list(f, p), {});
  return new Map(items.map((b) => [b.id, b]));
}

async function inChunks<T>(items: readonly T[], size: number, work: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

/** Newest first, as retention counts keep_last: finished_at (else created_at), created_at, id. */
function newestFirst(a: Backup, b: Backup): number {
  const time = (x: Backup) => Date.parse(x.finished_at ?? x.created_at);
  return (
    time(b) - time(a) ||
    Date.parse(b.created_at) - Date.parse(a.created_at) ||
    (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
  );
}

const pairOf = (b: { server_id: string; database: string }) => `${b.server_id}/${b.database}`;

/**
 * Days simulated: 120 on the local store. moto answers a DynamoDB index query by scanning the whole
 * table, whose audit entries grow by one per deletion, so the AWS run gets slower every day: 120 days
 * there take over a minute, and it simulates fewer by default (the same history, shorter). Set
 * RETENTION_HISTORY_DAYS to run another length on both.
 */
const DAYS = {
  local: Number(process.env.RETENTION_HISTORY_DAYS ?? 120),
  aws: Number(process.env.RETENTION_HISTORY_DAYS ?? 30),
};

describe.each(["local", "aws"] as const)("retention over simulated history (%s)", (kind) => {
  const days = DAYS[kind];
  // Settings keep_last rises above every schedule's a third of the way and falls below them at two
  // thirds; s2/analytics vanishes (no more backups) at 40%.
  const raiseDay = Math.floor(days / 3);
  const lowerDay = Math.floor((2 * days) / 3);
  const vanishDay = Math.floor(days * 0.4);

  it(`keeps its promises through ${days} days, one run a day (seed ${SEED})`, async () => {
    const { deps } = await worldOf(kind);
    const store = deps.store;
    const random = prng(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const [s1, s2] = [newId(), newId()];
    const pairs = [s1, s2].flatMap((server_id) => DATABASES.map((database) => ({ server_id, database })));

    // Scopes of every kind. keep_last of a pair is the largest of the settings' and of the schedules
    // covering it, disabled ones included: worked out here from the scopes, apart from the code.
    const everyS1 = makeSchedule({ name: "s1 nightly", server_id: s1, retention_days: 2, keep_last: 3 });
    const s2Shop = makeSchedule({
      name: "s2 shop",
      server_id: s2,
      database: "shop",
      retention_days: 4,
      keep_last: 2,
    });
    const everywhere = makeSchedule({ name: "all", server_id: null, retention_days: 3, keep_last: 1 });
    const s2UsersPaused = makeSchedule({
      name: "s2 users, paused",
      server_id: s2,
      database: "users",
      retention_days: 30,
      keep_last: 4,
      enabled: false,
    });
    const schedules: Schedule[] = [everyS1, s2Shop, everywhere, s2UsersPaused];
    await Promise.all(schedules.map((s) => store.schedules.create(s)));
    /** The schedule whose firings back a pair up. */
    const producer = (pair: { server_id: string; database: string }) =>
      pair.server_id === s1 ? everyS1 : pair.database === "shop" ? s2Shop : everywhere;
    const keepLastTable = (settingsKeepLast: number) =>
      new Map(
        pairs.map((p) => {
          const covering = [
            settingsKeepLast,
            ...(p.server_id === s1 ? [everyS1.keep_last] : []),
            ...(p.server_id === s2 && p.database === "shop" ? [s2Shop.keep_last] : []),
            ...(p.server_id === s2 && p.database === "users" ? [s2UsersPaused.keep_last] : []),
            everywhere.keep_last,
          ];
          return [pairOf(p), Math.max(...covering)];
        }),
      );
    const settingsAt = (day: number) =>
      day < raiseDay
        ? { keep_last: 2, retention_days: 1 }
        : day < lowerDay
          ? { keep_last: 5, retention_days: 2 }
          : { keep_last: 1, retention_days: 1 };

    const created = new Map<string, Backup>();
    let present = new Map<string, Backup>();
    const deletedIds = new Set<string>();
    const activeRestores = new Map<string, { restore: Restore; endsOnDay: number }>();
    const newestCompletedEver = new Map<string, Backup>();
    /** Each pair's newest completed backup whose drill passed (each backup is drilled at most once). */
    const newestVerifiedEver = new Map<string, Backup>();
    const activeDrills = new Map<string, { drill: Drill; endsOnDay: number }>();
    let restoreSavedExpired = 0;
    let drillSavedExpired = 0;
    let proofSavedExpired = 0;
    let keepLastSavedExpired = 0;
    let totalDeleted = 0;

    for (let day = 0; day < days; day++) {
      const dayStart = START + day * DAY;
      if (day === 0 || day === raiseDay || day === lowerDay) {
        await store.settings.put(
          makeSettings({ ...settingsAt(day), updated_at: new Date(dayStart).toISOString() }),
        );
      }
      const settings = settingsAt(day);

      // Today's backups: one per pair from its schedule (but s2/analytics once vanished), a few manual.
      const drafts: Backup[] = [];
      const draft = (
        pair: { server_id: string; database: string },
        minute: number,
        schedule: Schedule | null,
      ) => {
        const createdAt = new Date(dayStart + 3 * HOUR + minute * MINUTE);
        const roll = random();
        const status = roll < 0.7 ? "completed" : roll < 0.85 ? "failed" : "cancelled";
        const id = newId();
        const finished = new Date(createdAt.getTime() + (5 + Math.floor(random() * 300)) * MINUTE);
        drafts.push(
          makeBackup({
            id,
            ...pair,
            status,
            trigger: schedule ? "schedule" : "manual",
            schedule_id: schedule?.id ?? null,
            created_at: createdAt.toISOString(),
            started_at: createdAt.toISOString(),
            finished_at: finished.toISOString(),
            expires_at: expiresAt(createdAt, schedule?.retention_days ?? settings.retention_days),
            blob_key:
              status === "completed" ? `servers/${pair.server_id}/${pair.database}/${id}.archive.gz` : null,
            size_bytes: status === "completed" ? 1000 + Math.floor(random() * 1000) : null,
            error: status === "failed" ? "mongodump exited with code 1" : null,
          }),
        );
      };
      pairs.forEach((pair, i) => {
        if (pair.server_id === s2 && pair.database === "analytics" && day >= vanishDay) return;
        draft(pair, i, producer(pair));
      });
      if (random() < 0.15) draft(pick(pairs), 30 + Math.floor(random() * 600), null);
      // One backup stuck running from day 5: long expired, never terminal, never deleted.
      if (day === 5) {
        drafts.push(
          makeBackup({
            ...pairs[0],
            status: "running",
            created_at: new Date(dayStart).toISOString(),
            started_at: new Date(dayStart).toISOString(),
            expires_at: expiresAt(new Date(dayStart), 1),
          }),
        );
      }
      await Promise.all(
        drafts.map(async (b) => {
          if (b.blob_key) await deps.blobs.upload(b.blob_key, Readable.from([Buffer.from(`${b.id}\n`)]));
          await store.backups.create(b);
        }),
      );
      for (const b of drafts) {
        created.set(b.id, b);
        present.set(b.id, b);
        if (b.status !== "completed") continue;
        const newest = newestCompletedEver.get(pairOf(b));
        if (!newest || newestFirst(b, newest) < 0) newestCompletedEver.set(pairOf(b), b);
      }

      // Drills, as the drill task records them: a few of today's completed backups get a proof, most
      // of them passing; scheduled ones are sparse so a proof soon falls beyond keep_last.
      for (const b of drafts) {
        if (b.status !== "completed" || random() >= 0.2) continue;
        const proof = makeVerification({
          status: random() < 0.75 ? "passed" : "failed",
          at: new Date(Date.parse(b.finished_at!) + 20 * MINUTE).toISOString(),
          error: null,
        });
        const drilled = await store.backups.update(b.id, { verification: proof });
        present.set(b.id, drilled);
        created.set(b.id, drilled);
        if (proof.status !== "passed") continue;
        const newest = newestVerifiedEver.get(pairOf(b));
        if (!newest || newestFirst(drilled, newest) < 0) newestVerifiedEver.set(pairOf(b), drilled);
      }

      // Restores end on their day; new ones start on backups that expire while they read them.
      for (const [id, { restore, endsOnDay }] of activeRestores) {
        if (endsOnDay > day) continue;
        const finishedAt = new Date(dayStart + HOUR).toISOString();
        if (restore.status === "running")
          await store.restores.transition(id, "completed", { finished_at: finishedAt });
        else await store.restores.transition(id, "cancelled", { finished_at: finishedAt });
        activeRestores.delete(id);
      }
      if (activeRestores.size < 3 && random() < 0.25) {
        const soonExpiring = [...present.values()].filter(
          (b) =>
            b.status === "completed" &&
            b.expires_at !== null &&
            Date.parse(b.expires_at) < dayStart + 3 * DAY &&
            Date.parse(b.expires_at) > dayStart,
        );
        if (soonExpiring.length > 0) {
          const backup = pick(soonExpiring);
          const status = random() < 0.7 ? "running" : "queued";
          const restore = makeRestore({
            backup_id: backup.id,
            source_server_id: backup.server_id,
            source_database: backup.database,
            target_server_id: backup.server_id,
            target_database: `${backup.database}_restored`,
            status,
            created_at: new Date(dayStart + 2 * HOUR).toISOString(),
            started_at: status === "running" ? new Date(dayStart + 2 * HOUR).toISOString() : null,
          });
          await store.restores.create(restore);
          activeRestores.set(restore.id, { restore, endsOnDay: day + 1 + Math.floor(random() * 6) });
        }
      }

      // Drills in progress read backups that expire meanwhile: queued or running for a few days.
      for (const [id, { drill, endsOnDay }] of activeDrills) {
        if (endsOnDay > day) continue;
        const finishedAt = new Date(dayStart + HOUR).toISOString();
        await store.drills.transition(id, drill.status === "running" ? "failed" : "cancelled", {
          finished_at: finishedAt,
          error: "ended by the simulation",
        });
        activeDrills.delete(id);
      }
      if (activeDrills.size < 2 && random() < 0.25) {
        const soonExpiring = [...present.values()].filter(
          (b) =>
            b.status === "completed" &&
            b.expires_at !== null &&
            Date.parse(b.expires_at) < dayStart + 3 * DAY &&
            Date.parse(b.expires_at) > dayStart,
        );
        if (soonExpiring.length > 0) {
          const backup = pick(soonExpiring);
          const status = random() < 0.6 ? "running" : "queued";
          const drill = makeDrill({
            backup_id: backup.id,
            server_id: backup.server_id,
            database: backup.database,
            status,
            created_at: new Date(dayStart + 2 * HOUR).toISOString(),
            started_at: status === "running" ? new Date(dayStart + 2 * HOUR).toISOString() : null,
          });
          await store.drills.create(drill);
          activeDrills.set(drill.id, { drill, endsOnDay: day + 1 + Math.floor(random() * 4) });
        }
      }

      // The daily run, at noon simulated time, and its preview just before.
      const now = new Date(dayStart + 12 * HOUR);
      const preview = await previewRetention(deps, now);
      const run = await runRetention(deps, now);
      const where = `day ${day} (seed ${SEED})`;
      expect(run.skipped, where).toEqual([]);
      expect(run.audit_failures, where).toEqual([]);
      expect(preview.truncated, where).toBe(false);
      expect(
        preview.delete.map((i) => i.backup_id),
        `${where}: preview equals the run`,
      ).toEqual(run.deleted);
      expect(preview.delete_count).toBe(run.deleted.length);
      expect(preview.delete_bytes).toBe(run.deleted_bytes);

      // The preview names each proof that only the newest-verified rule keeps.
      const keepLast = keepLastTable(settings.keep_last);
      for (const pair of pairs) {
        const key = pairOf(pair);
        const proof = newestVerifiedEver.get(key);
        if (!proof || Date.parse(proof.expires_at!) > now.getTime()) continue;
        const newer = [...present.values()].filter(
          (b) => pairOf(b) === key && b.status === "completed" && newestFirst(b, proof) < 0,
        );
        const reading = [...activeRestores.values()].some((r) => r.restore.backup_id === proof.id);
        const drilling = [...activeDrills.values()].some((d) => d.drill.backup_id === proof.id);
        if (newer.length < keepLast.get(key)! || reading || drilling) continue;
        expect(
          preview.kept_expired.find((i) => i.backup_id === proof.id)?.reason,
          `${where}: ${key} preview of its proof`,
        ).toBe(
          `kept: newest verified of ${pair.database} on server ${pair.server_id} (restore drill passed ${proof.verification!.at})`,
        );
        proofSavedExpired++;
      }

      const after = await allBackups(deps);
      for (const id of after.keys()) expect(present.has(id), `${where}: ${id} appeared`).toBe(true);
      const deleted = [...present.values()].filter((b) => !after.has(b.id));
      expect(deleted.map((b) => b.id).sort(), `${where}: what vanished is what the run deleted`).toEqual(
        [...run.deleted].sort(),
      );

      // (a) Each pair keeps the newest keep_last of the completed backups it had before the run, and
      // never loses the newest completed it ever had, nor the newest whose drill passed.
      for (const pair of pairs) {
        const key = pairOf(pair);
        const completed = [...present.values()]
          .filter((b) => pairOf(b) === key && b.status === "completed")
          .sort(newestFirst);
        const mustStay = completed.slice(0, Math.min(keepLast.get(key)!, completed.length));
        for (const b of mustStay) expect(after.has(b.id), `${where}: ${key} lost ${b.id}`).toBe(true);
        for (const b of mustStay) if (Date.parse(b.expires_at!) <= now.getTime()) keepLastSavedExpired++;
        const newest = newestCompletedEver.get(key);
        if (newest) expect(after.has(newest.id), `${where}: ${key} lost its newest completed`).toBe(true);
        const proofBefore = completed.find((b) => b.verification?.status === "passed");
        if (proofBefore)
          expect(after.has(proofBefore.id), `${where}: ${key} lost its newest verified`).toBe(true);
        const proof = newestVerifiedEver.get(key);
        if (proof) expect(after.has(proof.id), `${where}: ${key} lost its newest verified ever`).toBe(true);
      }
      // (b) No backup read by an active restore was deleted.
      for (const { restore } of activeRestores.values()) {
        expect(after.has(restore.backup_id), `${where}: deleted ${restore.backup_id} under a restore`).toBe(
          true,
        );
        const read = after.get(restore.backup_id)!;
        if (Date.parse(read.expires_at!) <= now.getTime()) restoreSavedExpired++;
      }
      // (b') Nor one read by an active drill.
      for (const { drill } of activeDrills.values()) {
        expect(after.has(drill.backup_id), `${where}: deleted ${drill.backup_id} under a drill`).toBe(true);
        if (Date.parse(after.get(drill.backup_id)!.expires_at!) <= now.getTime()) drillSavedExpired++;
      }
      // (c) Nothing unexpired, queued or running was deleted.
      for (const b of deleted) {
        expect(b.expires_at, `${where}: ${b.id}`).not.toBeNull();
        expect(Date.parse(b.expires_at!), `${where}: ${b.id} deleted before it expired`).toBeLessThanOrEqual(
          now.getTime(),
        );
        expect(["completed", "failed", "cancelled"], `${where}: ${b.id}`).toContain(b.status);
        deletedIds.add(b.id);
      }
      // (d) Every deleted backup's archive is gone...
      await inChunks(
        deleted.filter((b) => b.blob_key),
        25,
        async (b) => {
          expect(await deps.blobs.head(b.blob_key!), `${where}: archive of ${b.id} left`).toBeUndefined();
        },
      );
      // ...and, checked over every archive ever written now and then, no archive outlives its record
      // and none is lost while its record stays.
      if (day % 30 === 29 || day === days - 1) {
        await inChunks(
          [...created.values()].filter((b) => b.blob_key),
          25,
          async (b) => {
            const blob = await deps.blobs.head(b.blob_key!);
            expect(blob !== undefined, `${where}: archive of ${b.id} vs its record`).toBe(after.has(b.id));
          },
        );
      }
      totalDeleted += deleted.length;
      present = after;
    }

    // The history did exercise what it claims to: many deletions, keep_last and restores holding
    // expired backups back, the stuck running backup still there.
    expect(created.size).toBeGreaterThan(days * 5);
    expect(totalDeleted).toBeGreaterThan(created.size / 2);
    expect(keepLastSavedExpired).toBeGreaterThan(0);
    expect(restoreSavedExpired).toBeGreaterThan(0);
    expect(drillSavedExpired).toBeGreaterThan(0);
    // Proofs kept where keep_last alone would have let them go, on many days.
    expect(proofSavedExpired).toBeGreaterThan(days / 4);
    expect([...present.values()].filter((b) => b.status === "running")).toHaveLength(1);
    // s2/analytics has had no backup for a while: all expired long ago, and with keep_last back to 1
    // its newest completed one is left, and its newest verified one if that is another.
    const analytics = [...present.values()].filter(
      (b) => pairOf(b) === `${s2}/analytics` && b.status === "completed",
    );
    const analyticsKept = new Set([
      newestCompletedEver.get(`${s2}/analytics`)!.id,
      ...[newestVerifiedEver.get(`${s2}/analytics`)?.id ?? []].flat(),
    ]);
    expect(analytics.map((b) => b.id).sort()).toEqual([...analyticsKept].sort());
    // One backup.expire audit entry per deleted backup, by the system.
    const audit = await listAll((f, p) => store.audit.list(f, p), { actor: SYSTEM_ACTOR });
    const expiries = audit.filter((e) => e.action === "backup.expire");
    expect(expiries.map((e) => e.target_id).sort()).toEqual([...deletedIds].sort());
    // A budget, not a wait: the AWS run took 33 to 84 s alone on 2 cores (moto answers each backup
    // write's transaction and each index query by walking the table), more beside other suites.
  }, 300_000);
});

/** Makes `file` impossible to delete until the returned undo runs: a read-only directory, or, for
 * root (whom permissions do not stop), the immutable attribute. */
async function pinFile(file: string): Promise<() => Promise<void>> {
  if (process.getuid?.() === 0) {
    const chattr = promisify(execFile);
    await chattr("chattr", ["+i", file]);
    return async () => {
      await chattr("chattr", ["-i", file]);
    };
  }
  const dir = dirname(file);
  await chmod(dir, 0o500);
  return () => chmod(dir, 0o700);
}

describe.each(["local", "aws"] as const)("retention when an archive cannot be deleted (%s)", (kind) => {
  it("keeps the record, lists the backup in skipped, and deletes both on the next run", async () => {
    const { world, deps } = await worldOf(kind);
    await deps.store.settings.put(makeSettings({ keep_last: 1 }));
    const server = newId();
    const backup = (daysAgo: number, retentionDays: number) => {
      const id = newId();
      const createdAt = new Date(Date.now() - daysAgo * DAY);
      return makeBackup({
        id,
        server_id: server,
        status: "completed",
        created_at: createdAt.toISOString(),
        finished_at: new Date(createdAt.getTime() + MINUTE).toISOString(),
        expires_at: expiresAt(createdAt, retentionDays),
        blob_key: `servers/${server}/shop/${id}.archive.gz`,
        size_bytes: 4,
      });
    };
    const doomed = backup(10, 2);
    const newest = backup(1, 2);
    for (const b of [doomed, newest]) {
      await deps.blobs.upload(b.blob_key!, Readable.from([Buffer.from("dump")]));
      await deps.store.backups.create(b);
    }

    // A real failure of the real adapter: a file that cannot be unlinked, or S3 out of reach.
    let failing: BlobStore = deps.blobs;
    let undo = async () => {};
    if (kind === "local") {
      undo = await pinFile(join(world.env.MBM_DATA_DIR!, "blobs", ...doomed.blob_key!.split("/")));
    } else {
      failing = new S3BlobStore({
        client: new S3Client({ ...awsClientConfig("s3"), endpoint: "http://127.0.0.1:1", maxAttempts: 1 }),
        bucket: world.bucket!,
      });
    }
    try {
      const run = await runRetention({ ...deps, blobs: failing });
      expect(run.deleted).toEqual([]);
      expect(run.skipped).toEqual([
        {
          backup_id: doomed.id,
          reason: expect.stringMatching(/^the archive could not be deleted, so the record stays: ./),
        },
      ]);
      expect(run.errors).toEqual([expect.stringMatching(/^backup .*: the archive could not be deleted/)]);
      // The Lambda fails the invocation, so the function's error alarm fires.
      const lambda = retentionHandler(
        () => ({ ...deps, blobs: failing }),
        createLogger("test", { level: "silent" }),
      );
      await expect(lambda()).rejects.toThrow(/^retention: 1 failures; first: backup /);
    } finally {
      await undo();
    }
    expect(await deps.store.backups.get(doomed.id)).toEqual(doomed);
    expect(await deps.blobs.head(doomed.blob_key!)).toBeDefined();
    expect((await deps.store.audit.list({ target_id: doomed.id }, { limit: 10 })).items).toEqual([]);

    // Fixed: the next run deletes it, archive and record.
    const next = await runRetention(deps);
    expect(next).toMatchObject({ deleted: [doomed.id], skipped: [], errors: [] });
    expect(await deps.store.backups.get(doomed.id)).toBeUndefined();
    expect(await deps.blobs.head(doomed.blob_key!)).toBeUndefined();
    expect(await deps.store.backups.get(newest.id)).toEqual(newest);
    expect(await deps.blobs.head(newest.blob_key!)).toBeDefined();
  });
});
