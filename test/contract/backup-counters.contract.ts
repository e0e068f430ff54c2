// The backup counters contract (core/backup-counters.ts): whatever history of creates, transitions
// (some racing, so the store retries), field updates and deletions a store goes through, the
// counters it keeps equal a full recount of the backups it holds, and a rebuild repairs counters
// that drifted. Each run gets a fresh, empty store (counters are store-wide).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CounterFields, type CounterKey, countersOf, dayKey, hourKey } from "#core/backup-counters.ts";
import type { Backup, JobStatus } from "#core/entities.ts";
import type { MetadataStore } from "#core/ports.ts";
import { makeBackup } from "#test/support/fixtures.ts";

type Op =
  | { op: "create"; status: JobStatus; size: number; daysAgo: number | null }
  | { op: "move"; pick: number; to: JobStatus }
  | { op: "race"; pick: number }
  | { op: "resize"; pick: number; size: number }
  | { op: "delete"; pick: number };

const statuses: JobStatus[] = ["queued", "running", "completed", "failed", "cancelled"];
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant("create" as const),
    status: fc.constantFrom(...statuses),
    size: fc.integer({ min: 0, max: 10_000 }),
    daysAgo: fc.option(fc.integer({ min: 0, max: 40 }), { nil: null }),
  }),
  fc.record({ op: fc.constant("move" as const), pick: fc.nat(), to: fc.constantFrom(...statuses) }),
  fc.record({ op: fc.constant("race" as const), pick: fc.nat() }),
  fc.record({
    op: fc.constant("resize" as const),
    pick: fc.nat(),
    size: fc.integer({ min: 0, max: 10_000 }),
  }),
  fc.record({ op: fc.constant("delete" as const), pick: fc.nat() }),
);

const now = Date.now();
const finishedAt = (daysAgo: number | null) =>
  daysAgo === null
    ? null
    : new Date(now - daysAgo * 86_400_000 - ((daysAgo * 7919) % 3_600_000)).toISOString();

/** Every counter document a backup could have touched in the run: the recount's, and any day or hour seen. */
function keysOf(touched: Set<CounterKey>, recount: Map<CounterKey, CounterFields>): CounterKey[] {
  return [...new Set<CounterKey>(["total", ...touched, ...recount.keys()])];
}

/** Without zero fields and empty documents, so "absent" and "all zero" compare equal. */
function normalized(counters: Map<CounterKey, CounterFields>): Record<string, CounterFields> {
  const out: Record<string, CounterFields> = {};
  for (const [key, fields] of counters) {
    const kept = Object.fromEntries(Object.entries(fields).filter(([, n]) => n !== 0));
    if (Object.keys(kept).length > 0) out[key] = kept;
  }
  return out;
}

async function everyBackup(store: MetadataStore): Promise<Backup[]> {
  const all: Backup[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.backups.list({}, { limit: 100, cursor });
    all.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return all;
}

async function run(store: MetadataStore, ops: Op[], touched: Set<CounterKey>): Promise<void> {
  const ids: string[] = [];
  const pick = (n: number) => ids[n % Math.max(1, ids.length)];
  const note = (b: Backup | undefined) => {
    if (b?.finished_at) for (const k of [dayKey(b.finished_at), hourKey(b.finished_at)]) touched.add(k);
  };
  const ignoreRefusal = (e: unknown) => {
    if (!(e instanceof Error) || !/cannot become|not found|does not exist|no backup/i.test(e.message))
      throw e;
    return undefined;
  };
  for (const op of ops) {
    if (op.op === "create") {
      const b = await store.backups.create(
        makeBackup({ status: op.status, size_bytes: op.size, finished_at: finishedAt(op.daysAgo) }),
      );
      ids.push(b.id);
      note(b);
      continue;
    }
    const id = pick(op.pick);
    if (!id) continue;
    if (op.op === "move") {
      const finished =
        op.to === "queued" || op.to === "running" ? {} : { finished_at: new Date().toISOString() };
      note(await store.backups.transition(id, op.to, finished).catch(ignoreRefusal));
    } else if (op.op === "race") {
      // Two writers at once: one moves it on, one changes its size; both land (the store retries).
      await Promise.all([
        store.backups
          .transition(id, "failed", { finished_at: new Date().toISOString() })
          .then(note, ignoreRefusal),
        store.backups.update(id, { size_bytes: 4242 }).then(note, ignoreRefusal),
      ]);
    } else if (op.op === "resize") {
      note(await store.backups.update(id, { size_bytes: op.size }).catch(ignoreRefusal));
    } else {
      const before = await store.backups.get(id);
      note(before);
      await store.backups.delete(id);
      ids.splice(ids.indexOf(id), 1);
    }
  }
}

export function backupCountersContract(
  name: string,
  freshStore: () => Promise<MetadataStore>,
  options: { runs: number; maxOps: number; timeoutMs: number } = { runs: 8, maxOps: 40, timeoutMs: 240_000 },
) {
  describe(`backup counters: ${name}`, () => {
    it(
      "equal a full recount after any history of creates, transitions, races, updates and deletions",
      async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: options.maxOps }), async (ops) => {
            const store = await freshStore();
            const touched = new Set<CounterKey>();
            await run(store, ops, touched);
            const recount = countersOf(await everyBackup(store));
            const kept = await store.counters.read(keysOf(touched, recount));
            expect(normalized(kept)).toEqual(normalized(recount));
          }),
          { numRuns: options.runs },
        );
      },
      options.timeoutMs,
    );

    it("rebuild replaces the counters with a recount", async () => {
      const store = await freshStore();
      const touched = new Set<CounterKey>();
      await run(
        store,
        [
          { op: "create", status: "completed", size: 10, daysAgo: 2 },
          { op: "create", status: "failed", size: 0, daysAgo: 0 },
          { op: "create", status: "queued", size: 0, daysAgo: null },
        ],
        touched,
      );
      const result = await store.counters.rebuild();
      expect(result.backups).toBe(3);
      const recount = countersOf(await everyBackup(store));
      expect(normalized(await store.counters.read(keysOf(touched, recount)))).toEqual(normalized(recount));
      expect(recount.get("total")).toMatchObject({ completed: 1, failed: 1, queued: 1, bytes_stored: 10 });
    });
  });
}
