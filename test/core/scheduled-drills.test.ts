// Which scheduled backups get a restore drill (a schedule's verify_every), on the real local store:
// 1 every one, N every Nth per database (counted on the database record), 0 none, never a second
// while one of the same backup waits, and the schedule's own target over the settings' default.
import { beforeEach, describe, expect, it } from "vitest";
import type { ManagedDatabase, Server } from "#core/entities.ts";
import type { CoreDeps } from "#core/use-cases/deps.ts";
import { drillAfterScheduledBackup } from "#core/use-cases/drills.ts";
import { coreDepsOf } from "#test/support/core-deps.ts";
import { localWorld } from "#test/support/engine-harness.ts";
import { makeBackup, makeDatabase, makeServer, makeSettings } from "#test/support/fixtures.ts";

let deps: CoreDeps;
let server: Server;
let shop: ManagedDatabase;
let crm: ManagedDatabase;
const settings = makeSettings();

beforeEach(async () => {
  deps = coreDepsOf(await localWorld(), {});
  server = await deps.store.servers.create(makeServer());
  shop = await deps.store.databases.create(makeDatabase({ server_id: server.id, name: "shop" }));
  crm = await deps.store.databases.create(makeDatabase({ server_id: server.id, name: "crm" }));
});

const completed = (database: ManagedDatabase) =>
  deps.store.backups.create(
    makeBackup({
      server_id: database.server_id,
      database: database.name,
      status: "completed",
      trigger: "schedule",
    }),
  );

describe("drillAfterScheduledBackup", () => {
  it("drills every backup with verify_every 1, on the settings' target unless the schedule names one", async () => {
    const first = await drillAfterScheduledBackup(
      deps,
      await completed(shop),
      { verify_every: 1, drill_target: null },
      settings,
    );
    expect(first).toMatchObject({
      status: "queued",
      trigger: "schedule",
      target: { kind: "ephemeral" },
      created_by: "scheduler",
    });
    const sandbox = { kind: "sandbox" as const, server_id: server.id };
    const second = await drillAfterScheduledBackup(
      deps,
      await completed(shop),
      { verify_every: 1, drill_target: sandbox },
      settings,
    );
    expect(second?.target).toEqual(sandbox);
    expect(second?.scratch_database).toMatch(/^mbm_drill_/);
  });

  it("drills every Nth backup of each database, and none with verify_every 0", async () => {
    const schedule = { verify_every: 3, drill_target: null };
    const outcomes: boolean[] = [];
    for (let i = 0; i < 7; i++) {
      outcomes.push(
        Boolean(await drillAfterScheduledBackup(deps, await completed(shop), schedule, settings)),
      );
      // Another database's backups keep their own count.
      if (i < 2) await drillAfterScheduledBackup(deps, await completed(crm), schedule, settings);
    }
    expect(outcomes).toEqual([false, false, true, false, false, true, false]);
    expect((await deps.store.databases.get(shop.id))?.scheduled_since_drill).toBe(1);
    expect((await deps.store.databases.get(crm.id))?.scheduled_since_drill).toBe(2);
    const never = await drillAfterScheduledBackup(
      deps,
      await completed(crm),
      { verify_every: 0, drill_target: null },
      settings,
    );
    expect(never).toBeUndefined();
    expect((await deps.store.drills.list({}, { limit: 100 })).items).toHaveLength(2);
  });

  it("queues nothing for a backup that did not complete, or that already has a drill waiting", async () => {
    const failed = await deps.store.backups.create(makeBackup({ server_id: server.id, status: "failed" }));
    expect(
      await drillAfterScheduledBackup(deps, failed, { verify_every: 1, drill_target: null }, settings),
    ).toBeUndefined();
    const backup = await completed(shop);
    expect(
      await drillAfterScheduledBackup(deps, backup, { verify_every: 1, drill_target: null }, settings),
    ).toBeDefined();
    expect(
      await drillAfterScheduledBackup(deps, backup, { verify_every: 1, drill_target: null }, settings),
    ).toBeUndefined();
  });
});
