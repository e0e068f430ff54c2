import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Backup, JobStatus } from "#core/entities.ts";
import { expiresAt, planRetention, type RetentionInput, type RetentionPlan } from "#core/retention.ts";
import { draftBackup } from "#core/use-cases/backups.ts";
import { makeBackup, makeDatabase, makeVerification } from "#test/support/fixtures.ts";

// Property runs are deterministic: a fixed seed, so a failure reproduces on every machine. fast-check
// prints the seed and the counterexample's path when a property fails; to replay it, run
// `FC_SEED=<seed> npx vitest run test/unit/retention.test.ts` (add `path: "<path>"` to `fcParams` to go
// straight to the shrunk case). Another FC_SEED explores other histories.
const SEED = Number(process.env.FC_SEED ?? 20_260_101);
const fcParams = { numRuns: 1000, seed: SEED };

const BASE = Date.parse("2026-01-01T00:00:00.000Z");
const HOUR = 3_600_000;
/** An ISO time `hours` after 2026-01-01T00:00Z. */
const at = (hours: number) => new Date(BASE + hours * HOUR).toISOString();

let counter = 0;
/** A completed backup of shop on s1 that expired long ago, unless told otherwise. */
function backup(overrides: Partial<Backup> = {}): Backup {
  counter += 1;
  return makeBackup({
    id: `b${String(counter).padStart(4, "0")}`,
    server_id: "s1",
    database: "shop",
    status: "completed",
    created_at: at(counter),
    finished_at: at(counter + 0.5),
    expires_at: at(counter + 24),
    ...overrides,
  });
}

const NOW = new Date(BASE + 1000 * HOUR);

function plan(
  backups: Backup[],
  options: {
    keepLast?: number | RetentionInput["keepLast"];
    active?: string[];
    drilled?: string[];
    now?: Date;
  } = {},
): RetentionPlan {
  const keepLast = options.keepLast ?? 3;
  return planRetention({
    backups,
    activeRestoreBackupIds: new Set(options.active ?? []),
    activeDrillBackupIds: new Set(options.drilled ?? []),
    keepLast: typeof keepLast === "number" ? () => keepLast : keepLast,
    now: options.now ?? NOW,
  });
}

const ids = (decisions: RetentionPlan["delete"]) => decisions.map((d) => d.backup.id);
const reasonOf = (p: RetentionPlan, id: string) =>
  [...p.delete, ...p.keep].find((d) => d.backup.id === id)?.reason;

describe("planRetention: examples", () => {
  it("plans nothing for no backups", () => {
    expect(plan([])).toEqual({ delete: [], keep: [] });
  });

  it("keeps the newest keep_last completed of a pair even when all have expired", () => {
    const history = [1, 2, 3, 4, 5].map(() => backup());
    const p = plan(history, { keepLast: 3 });
    expect(ids(p.delete)).toEqual([history[0]!.id, history[1]!.id]);
    expect(ids(p.keep)).toEqual([history[2]!.id, history[3]!.id, history[4]!.id]);
    expect(p.keep[0]!.reason).toBe("kept: one of the newest 3 completed of shop on server s1");
    expect(p.delete[0]!.reason).toBe(
      `expired ${history[0]!.expires_at}, beyond the newest 3 completed of shop on server s1`,
    );
  });

  it("counts keep_last per server/database pair, each with its own value", () => {
    const pairs = [
      { server_id: "s1", database: "shop" },
      { server_id: "s1", database: "analytics" },
      { server_id: "s2", database: "shop" },
    ];
    const history = pairs.flatMap((pair) => [1, 2, 3].map(() => backup(pair)));
    const keepLast = (server: string, database: string) =>
      server === "s2" ? 3 : database === "analytics" ? 2 : 1;
    const p = plan(history, { keepLast });
    const deletedPerPair = pairs.map(
      (pair) =>
        p.delete.filter((d) => d.backup.server_id === pair.server_id && d.backup.database === pair.database)
          .length,
    );
    expect(deletedPerPair).toEqual([2, 1, 0]);
  });

  it("deletes expired failed and cancelled backups even when they are the newest of their pair", () => {
    const completed = backup();
    const failed = backup({ status: "failed" });
    const cancelled = backup({ status: "cancelled", finished_at: null });
    const p = plan([completed, failed, cancelled], { keepLast: 1 });
    // They never take a keep_last slot: the one completed backup is still the protected one.
    expect(ids(p.keep)).toEqual([completed.id]);
    expect(ids(p.delete)).toEqual([failed.id, cancelled.id]);
    expect(reasonOf(p, failed.id)).toBe(
      `expired ${failed.expires_at}, failed (failed and cancelled backups do not count toward keep_last)`,
    );
  });

  it("never deletes a backup that a restore in progress reads", () => {
    const old = backup();
    const newer = backup();
    const p = plan([old, newer], { keepLast: 1, active: [old.id] });
    expect(p.delete).toEqual([]);
    expect(reasonOf(p, old.id)).toBe("kept: a restore in progress reads it");
  });

  it("never deletes a backup that a restore drill in progress reads", () => {
    const old = backup();
    const newer = backup();
    const p = plan([old, newer], { keepLast: 1, drilled: [old.id] });
    expect(p.delete).toEqual([]);
    expect(reasonOf(p, old.id)).toBe("kept: a restore drill in progress reads it");
  });

  it("keeps the newest verified backup of a pair where keep_last alone would let it go", () => {
    const passed = makeVerification({ at: at(50) });
    const olderVerified = backup({ verification: makeVerification({ at: at(40) }) });
    const verified = backup({ verification: passed });
    const failedDrill = backup({ verification: makeVerification({ status: "failed", at: at(60) }) });
    const unproven = [backup(), backup()];
    const other = backup({ database: "analytics" });
    const p = plan([olderVerified, verified, failedDrill, ...unproven, other], { keepLast: 2 });
    // keep_last 2 keeps the two unproven ones; of the verified, only the newest stays.
    expect(ids(p.keep)).toEqual([verified.id, ...unproven.map((b) => b.id), other.id]);
    expect(ids(p.delete)).toEqual([olderVerified.id, failedDrill.id]);
    expect(reasonOf(p, verified.id)).toBe(
      `kept: newest verified of shop on server s1 (restore drill passed ${passed.at})`,
    );
    // Once a newer backup passes a drill, the older proof may go like any other.
    const newerProof = { ...unproven[1]!, verification: makeVerification() };
    const after = plan([olderVerified, verified, failedDrill, unproven[0]!, newerProof], { keepLast: 2 });
    expect(ids(after.delete)).toEqual([olderVerified.id, verified.id, failedDrill.id]);
    expect(reasonOf(after, newerProof.id)).toBe("kept: one of the newest 2 completed of shop on server s1");
  });

  it("protects only completed backups whose latest drill passed", () => {
    // A failed backup cannot carry a proof in practice; if a record says so, it is still not one.
    const failed = backup({ status: "failed", verification: makeVerification() });
    const lastFailed = backup({ verification: makeVerification({ status: "failed" }) });
    const newest = backup();
    const p = plan([failed, lastFailed, newest], { keepLast: 1 });
    expect(ids(p.delete)).toEqual([failed.id, lastFailed.id]);
  });

  it("never deletes a queued or running backup, however expired", () => {
    const queued = backup({ status: "queued", finished_at: null });
    const running = backup({ status: "running", finished_at: null });
    const p = plan([queued, running, backup()], { keepLast: 1 });
    expect(p.delete).toEqual([]);
    expect(reasonOf(p, queued.id)).toBe("kept: still queued");
    expect(reasonOf(p, running.id)).toBe("kept: still running");
  });

  it("never deletes a backup without expires_at", () => {
    const forever = [backup({ expires_at: null }), backup({ status: "failed", expires_at: null })];
    const p = plan([...forever, backup()], { keepLast: 1 });
    expect(p.delete).toEqual([]);
    expect(reasonOf(p, forever[1]!.id)).toBe("kept: no expiry set");
  });

  it("deletes at expires_at itself, and not a millisecond before", () => {
    const b = backup({ status: "failed", expires_at: at(10) });
    expect(ids(plan([b], { now: new Date(BASE + 10 * HOUR) }).delete)).toEqual([b.id]);
    const before = plan([b], { now: new Date(BASE + 10 * HOUR - 1) });
    expect(before.delete).toEqual([]);
    expect(before.keep[0]!.reason).toBe(`kept: not expired until ${b.expires_at}`);
  });

  it("compares times, not strings, when offsets differ", () => {
    // 2026-01-01T05:00+05:00 is midnight UTC: expired at 01:00Z, although the string sorts later.
    const b = backup({ status: "failed", expires_at: "2026-01-01T05:00:00+05:00" });
    expect(ids(plan([b], { now: new Date(BASE + HOUR) }).delete)).toEqual([b.id]);
  });

  it("orders ties in finished_at by created_at, then id, whatever the input order", () => {
    const finished = at(500);
    const olderStart = backup({ id: "c-1", finished_at: finished, created_at: at(100) });
    const sameStartLowId = backup({ id: "c-2", finished_at: finished, created_at: at(200) });
    const sameStartHighId = backup({ id: "c-3", finished_at: finished, created_at: at(200) });
    const history = [olderStart, sameStartLowId, sameStartHighId];
    for (const order of [history, [...history].reverse(), [history[1]!, history[2]!, history[0]!]]) {
      const p = plan(order, { keepLast: 1 });
      expect(ids(p.keep)).toEqual(["c-3"]);
      const two = plan(order, { keepLast: 2 });
      expect(ids(two.keep).sort()).toEqual(["c-2", "c-3"]);
    }
  });

  it("falls back to created_at for a completed backup without finished_at", () => {
    const undated = backup({ finished_at: null, created_at: at(900) });
    const dated = backup({ finished_at: at(800) });
    expect(ids(plan([undated, dated], { keepLast: 1 }).keep)).toEqual([undated.id]);
  });

  it("treats keep_last below 1 as 1, and one that is not a number as all", () => {
    const history = [1, 2, 3].map(() => backup());
    expect(ids(plan(history, { keepLast: 0 }).keep)).toEqual([history[2]!.id]);
    expect(ids(plan(history, { keepLast: -5 }).keep)).toEqual([history[2]!.id]);
    const all = plan(history, { keepLast: Number.NaN });
    expect(all.delete).toEqual([]);
    expect(all.keep[0]!.reason).toBe("kept: one of the newest all completed of shop on server s1");
  });

  it("refuses an invalid now rather than guessing", () => {
    expect(() => plan([backup()], { now: new Date("nope") })).toThrow(RangeError);
  });
});

describe("expiresAt", () => {
  it("adds whole days of 24 hours to the creation time", () => {
    expect(expiresAt(new Date("2026-01-01T00:00:00Z"), 30)).toBe("2026-01-31T00:00:00.000Z");
    // Across a daylight-saving change elsewhere: still exactly 24 h a day, in UTC.
    expect(expiresAt(new Date("2026-03-07T12:34:56.789Z"), 2)).toBe("2026-03-09T12:34:56.789Z");
  });

  it("agrees with the expires_at of a newly drafted backup", () => {
    const now = new Date("2026-02-03T04:05:06.007Z");
    const draft = draftBackup(
      { database: makeDatabase(), trigger: "manual", schedule_id: null, created_by: "a", retention_days: 7 },
      now,
    );
    expect(draft.expires_at).toBe(expiresAt(now, 7));
  });

  it("rejects a retention that is not a whole number of days of at least 1", () => {
    for (const days of [0, -1, 1.5, Number.NaN]) {
      expect(() => expiresAt(new Date(BASE), days)).toThrow(RangeError);
    }
    expect(() => expiresAt(new Date("nope"), 1)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over random histories
// ---------------------------------------------------------------------------------------------

const SERVERS = ["srv-a", "srv-b", "srv-c"];
const DATABASES = ["shop", "analytics"];
// Times in whole days over three weeks: coarse enough that ties in finished_at are common.
const STEP = 24;
const tick = fc.integer({ min: 0, max: 20 });

const PAIRS = SERVERS.flatMap((server) => DATABASES.map((database) => ({ server, database })));
const pairIndex = (server: string, database: string) =>
  SERVERS.indexOf(server) * DATABASES.length + DATABASES.indexOf(database);

// Completed is drawn as often as the four other statuses together: keep_last is about completed ones.
const statusArb = fc.oneof(
  { arbitrary: fc.constant("completed" as const), weight: 4 },
  { arbitrary: fc.constantFrom(...JobStatus.options.filter((s) => s !== "completed")), weight: 4 },
);

/** A backup of one of the first `pairs` server/database pairs. */
const backupArb = (pairs: number) =>
  fc
    .record({
      id: fc.uuid(),
      pair: fc.integer({ min: 0, max: pairs - 1 }),
      status: statusArb,
      created: tick,
      duration: fc.integer({ min: 0, max: 1 }),
      // Now and then a completed backup without finished_at, to exercise the created_at fallback
      // (shrinking goes towards having one).
      missingFinish: fc.integer({ min: 0, max: 9 }).map((n) => n === 9),
      expires: fc.option(tick, { nil: null, freq: 6 }),
      // The latest drill of a completed backup: none half the time, else passed or failed.
      drill: fc.constantFrom(null, null, "passed" as const, "failed" as const),
      drilledAt: tick,
    })
    .map((r) => {
      const unfinished = r.status === "queued" || r.status === "running" || r.missingFinish;
      return makeBackup({
        id: r.id,
        server_id: PAIRS[r.pair]!.server,
        database: PAIRS[r.pair]!.database,
        status: r.status,
        created_at: at(r.created * STEP),
        finished_at: unfinished ? null : at((r.created + r.duration) * STEP),
        expires_at: r.expires === null ? null : at(r.expires * STEP),
        verification:
          r.status === "completed" && r.drill !== null
            ? makeVerification({ status: r.drill, drill_id: `d-${r.id}`, at: at(r.drilledAt * STEP) })
            : null,
      });
    });

interface History {
  backups: Backup[];
  active: ReadonlySet<string>;
  /** Read by a queued or running drill. */
  drilled: ReadonlySet<string>;
  /** keep_last of each pair, indexed by pairIndex. */
  keepLastTable: number[];
  now: Date;
}

// Histories over 1 to 6 pairs (few pairs crowd more backups, and more ties, into each), up to 40
// backups, up to 4 of them read by a restore and up to 3 by a drill, keep_last 1..5 per pair, now
// anywhere in the three weeks.
const historyArb: fc.Arbitrary<History> = fc
  .integer({ min: 1, max: PAIRS.length })
  .chain((pairs) =>
    fc.uniqueArray(backupArb(pairs), { selector: (b) => b.id, maxLength: 40, size: "medium" }),
  )
  .chain((backups) =>
    fc.record({
      backups: fc.constant(backups),
      active: fc.subarray(
        backups.map((b) => b.id),
        { maxLength: Math.min(4, backups.length) },
      ),
      drilled: fc.subarray(
        backups.map((b) => b.id),
        { maxLength: Math.min(3, backups.length) },
      ),
      keepLastTable: fc.array(fc.integer({ min: 1, max: 5 }), {
        minLength: PAIRS.length,
        maxLength: PAIRS.length,
      }),
      now: tick.map((t) => new Date(BASE + t * STEP * HOUR)),
    }),
  )
  .map((h) => ({
    ...h,
    active: new Set(h.active),
    drilled: new Set(h.drilled),
    [fc.toStringMethod]: () => describeHistory(h),
  }));

/** One line per backup in a counterexample, instead of every field of every backup. */
function describeHistory(h: {
  backups: Backup[];
  active: string[];
  drilled: string[];
  keepLastTable: number[];
  now: Date;
}): string {
  const day = (iso: string | null) => (iso === null ? "-" : `d${(Date.parse(iso) - BASE) / (24 * HOUR)}`);
  const lines = h.backups.map(
    (b) =>
      `  ${b.id} ${b.server_id}/${b.database} ${b.status} created ${day(b.created_at)} finished ${day(b.finished_at)} expires ${day(b.expires_at)}${b.verification ? ` drill ${b.verification.status}` : ""}${h.active.includes(b.id) ? " (restore reads it)" : ""}${h.drilled.includes(b.id) ? " (drill reads it)" : ""}`,
  );
  const keepLast = PAIRS.map((p, i) => `${p.server}/${p.database}=${h.keepLastTable[i]}`).join(" ");
  return `history now ${day(h.now.toISOString())}, keep_last ${keepLast}\n${lines.join("\n")}`;
}

function inputOf(h: History, backups: Backup[] = h.backups): RetentionInput {
  return {
    backups,
    activeRestoreBackupIds: h.active,
    activeDrillBackupIds: h.drilled,
    keepLast: (server, database) => h.keepLastTable[pairIndex(server, database)]!,
    now: h.now,
  };
}

/**
 * The test's own reading of "the newest keep_last completed of each pair": sorted by the ISO strings
 * (all UTC with milliseconds here, so they sort as times), finished_at falling back to created_at.
 */
function newestCompleted(h: History): Map<number, Backup[]> {
  const result = new Map<number, Backup[]>();
  for (const server of SERVERS) {
    for (const database of DATABASES) {
      const i = pairIndex(server, database);
      const key = (b: Backup) => `${b.finished_at ?? b.created_at}|${b.created_at}|${b.id}`;
      const completed = h.backups
        .filter((b) => b.server_id === server && b.database === database && b.status === "completed")
        .sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0));
      result.set(i, completed.slice(0, h.keepLastTable[i]!));
    }
  }
  return result;
}

/** The test's own reading of "the newest verified": the newest by the same order among passed drills. */
function newestVerified(h: History): Set<string> {
  const result = new Set<string>();
  const everyCompleted = newestCompleted({ ...h, keepLastTable: PAIRS.map(() => Number.MAX_SAFE_INTEGER) });
  for (const all of everyCompleted.values()) {
    const verified = all.find((b) => b.verification?.status === "passed");
    if (verified) result.add(verified.id);
  }
  return result;
}

const keptIds = (p: RetentionPlan) => new Set(p.keep.map((d) => d.backup.id));

describe("planRetention: properties", () => {
  it("(1) puts every backup in exactly one list, with a reason", () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const p = planRetention(inputOf(h));
        const all = [...p.delete, ...p.keep];
        expect(all).toHaveLength(h.backups.length);
        const seen = new Map<Backup, number>();
        for (const d of all) seen.set(d.backup, (seen.get(d.backup) ?? 0) + 1);
        for (const b of h.backups) expect(seen.get(b), b.id).toBe(1);
        for (const d of all) expect(d.reason.length).toBeGreaterThan(0);
        for (const d of p.keep) expect(d.reason).toMatch(/^kept: /);
        for (const d of p.delete) expect(d.reason).toMatch(/^expired /);
      }),
      fcParams,
    );
  });

  it("(2) keeps at least min(keep_last, completed) completed backups of every pair", () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const kept = keptIds(planRetention(inputOf(h)));
        for (const server of SERVERS) {
          for (const database of DATABASES) {
            const completed = h.backups.filter(
              (b) => b.server_id === server && b.database === database && b.status === "completed",
            );
            const keptCompleted = completed.filter((b) => kept.has(b.id)).length;
            const keepLast = h.keepLastTable[pairIndex(server, database)]!;
            expect(keptCompleted).toBeGreaterThanOrEqual(Math.min(keepLast, completed.length));
            if (completed.length > 0) expect(keptCompleted).toBeGreaterThan(0);
          }
        }
      }),
      fcParams,
    );
  });

  it("(3) keeps the newest keep_last completed backups of every pair", () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const kept = keptIds(planRetention(inputOf(h)));
        for (const newest of newestCompleted(h).values()) {
          for (const b of newest) expect(kept.has(b.id), b.id).toBe(true);
        }
      }),
      fcParams,
    );
  });

  it("(4) deletes nothing a restore or drill reads, nothing queued or running, nothing unexpired", () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        for (const { backup: b } of planRetention(inputOf(h)).delete) {
          expect(h.active.has(b.id)).toBe(false);
          expect(h.drilled.has(b.id)).toBe(false);
          expect(["completed", "failed", "cancelled"]).toContain(b.status);
          expect(b.expires_at).not.toBeNull();
          expect(Date.parse(b.expires_at!)).toBeLessThanOrEqual(h.now.getTime());
        }
      }),
      fcParams,
    );
  });

  it("(5) is idempotent: planning again over what it kept deletes nothing", () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const first = planRetention(inputOf(h));
        const second = planRetention(
          inputOf(
            h,
            first.keep.map((d) => d.backup),
          ),
        );
        expect(second.delete).toEqual([]);
        expect(second.keep).toEqual(first.keep);
      }),
      fcParams,
    );
  });

  it("(6) keeps nothing without a reason that holds: whatever may go, goes", () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const protectedIds = new Set([...newestCompleted(h).values()].flat().map((b) => b.id));
        const proofs = newestVerified(h);
        for (const { backup: b } of planRetention(inputOf(h)).keep) {
          const why =
            b.status === "queued" ||
            b.status === "running" ||
            h.active.has(b.id) ||
            h.drilled.has(b.id) ||
            protectedIds.has(b.id) ||
            proofs.has(b.id) ||
            b.expires_at === null ||
            Date.parse(b.expires_at) > h.now.getTime();
          expect(why, `${b.id} kept: ${b.status}`).toBe(true);
        }
      }),
      fcParams,
    );
  });

  it("(7) does not depend on the order of the input", () => {
    fc.assert(
      fc.property(
        historyArb.chain((h) =>
          fc.tuple(
            fc.constant(h),
            fc.shuffledSubarray(
              h.backups.map((b) => b.id),
              { minLength: h.backups.length },
            ),
          ),
        ),
        ([h, order]) => {
          const byId = new Map(h.backups.map((b) => [b.id, b]));
          const shuffled = order.map((id) => byId.get(id)!);
          const deleted = (p: RetentionPlan) => ids(p.delete).sort();
          expect(deleted(planRetention(inputOf(h, shuffled)))).toEqual(deleted(planRetention(inputOf(h))));
        },
      ),
      fcParams,
    );
  });

  it("(8) keeps, for every pair that has a completed backup whose drill passed, its newest such one", () => {
    let protectedBeyondKeepLast = 0;
    fc.assert(
      fc.property(historyArb, (h) => {
        const kept = keptIds(planRetention(inputOf(h)));
        const byKeepLast = new Set([...newestCompleted(h).values()].flat().map((b) => b.id));
        for (const id of newestVerified(h)) {
          expect(kept.has(id), id).toBe(true);
          if (!byKeepLast.has(id)) protectedBeyondKeepLast++;
        }
        // And the pass is what protects it, not something else in the history: without its proof
        // (and with nothing else holding it), an expired one goes.
        for (const id of newestVerified(h)) {
          const b = h.backups.find((x) => x.id === id)!;
          const expired = b.expires_at !== null && Date.parse(b.expires_at) <= h.now.getTime();
          if (byKeepLast.has(id) || !expired || h.active.has(id) || h.drilled.has(id)) continue;
          const unproven = h.backups.map((x) => (x.id === id ? { ...x, verification: null } : x));
          const again = planRetention(inputOf(h, unproven));
          const stillProven = newestVerified({ ...h, backups: unproven });
          if (!stillProven.has(id)) expect(keptIds(again).has(id), id).toBe(false);
        }
      }),
      fcParams,
    );
    // The generated histories did exercise the rule: proofs that keep_last alone would have let go.
    expect(protectedBeyondKeepLast).toBeGreaterThan(50);
  });
});
