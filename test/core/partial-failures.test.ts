// A change that breaks off part way leaves nothing half done, and one that is done is not reported
// as failed because what follows it (starting the backups) failed. The store is the real local one,
// wrapped so that one write fails at the chosen moment (a store going away mid-request).
import { beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { ChildProcessJobRunner } from "#adapters/local/child-process-job-runner.ts";
import { triggerBackups } from "#core/use-cases/backups.ts";
import type { Actor, CoreDeps } from "#core/use-cases/deps.ts";
import { updateServer } from "#core/use-cases/servers.ts";
import { coreDepsOf } from "#test/support/core-deps.ts";
import { type EngineWorld, localWorld } from "#test/support/engine-harness.ts";
import { makeDatabase, makeServer } from "#test/support/fixtures.ts";

const operator: Actor = { id: "tester", role: "operator" };
let world: EngineWorld;
let deps: CoreDeps;

beforeEach(async () => {
  world = await localWorld();
  deps = coreDepsOf(world);
});

describe("partial failures", () => {
  it("a fan-out whose third backup cannot be written leaves none of them", async () => {
    const server = await deps.store.servers.create(makeServer());
    for (const name of ["a", "b", "c"]) {
      await deps.store.databases.create(makeDatabase({ server_id: server.id, name }));
    }
    const create = deps.store.backups.create.bind(deps.store.backups);
    let calls = 0;
    deps.store.backups.create = async (backup) => {
      if (++calls === 3) throw new Error("store unavailable");
      return await create(backup);
    };
    await expect(triggerBackups(deps, operator, { server_id: server.id })).rejects.toThrow(
      "store unavailable",
    );
    expect(calls).toBe(3);
    expect((await deps.store.backups.list({}, { limit: 10 })).items).toEqual([]);
    const [entry] = (await deps.store.audit.list({}, { limit: 10 })).items;
    expect(entry).toMatchObject({ action: "backup.trigger", outcome: "failure" });
  });

  it("backups recorded but not started (the store fails the dispatcher's read) are accepted, queued", async () => {
    // A real runner (without one there is no dispatch); the failing read below stops the dispatcher before it
    // would start anything, and the runner is shut down whatever happens.
    const runner = new ChildProcessJobRunner({ env: world.env });
    onTestFinished(() => runner.shutdown());
    deps = { ...deps, runner };
    const server = await deps.store.servers.create(makeServer());
    for (const name of ["a", "b"]) {
      await deps.store.databases.create(makeDatabase({ server_id: server.id, name }));
    }
    const list = deps.store.backups.list.bind(deps.store.backups);
    deps.store.backups.list = async () => {
      throw new Error("store unavailable");
    };
    // Not a 500 the caller would answer by sending it again: both are accepted, waiting.
    const reply = await triggerBackups(deps, operator, { server_id: server.id });
    expect(reply.items.map((b) => [b.database, b.status]).sort()).toEqual([
      ["a", "queued"],
      ["b", "queued"],
    ]);
    deps.store.backups.list = list;
    const stored = (await deps.store.backups.list({}, { limit: 10 })).items;
    expect(stored.map((b) => [b.status, b.runner_ref])).toEqual([
      ["queued", null],
      ["queued", null],
    ]);
    const [entry] = (await deps.store.audit.list({}, { limit: 10 })).items;
    expect(entry).toMatchObject({
      action: "backup.trigger",
      outcome: "success",
      details: { count: 2, start_error: "store unavailable" },
    });
  });

  it("a password change whose record cannot be written keeps the old password", async () => {
    const server = await deps.store.servers.create(makeServer());
    await deps.secrets.put(server.id, "old-password");
    deps.store.servers.update = async () => {
      throw new Error("store unavailable");
    };
    await expect(updateServer(deps, operator, server.id, { password: "new-password" })).rejects.toThrow(
      "store unavailable",
    );
    expect(await deps.secrets.get(server.id)).toBe("old-password");
    await expect(updateServer(deps, operator, server.id, { password: null })).rejects.toThrow(
      "store unavailable",
    );
    expect(await deps.secrets.get(server.id)).toBe("old-password");
  });
});
