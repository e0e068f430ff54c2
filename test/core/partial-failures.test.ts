// A change that breaks off part way leaves nothing half done. The store is the real local one,
// wrapped so that one write fails at the chosen moment (a store going away mid-request).
import { beforeEach, describe, expect, it } from "vitest";
import { triggerBackups } from "#core/use-cases/backups.ts";
import type { Actor, CoreDeps } from "#core/use-cases/deps.ts";
import { updateServer } from "#core/use-cases/servers.ts";
import { coreDepsOf } from "#test/support/core-deps.ts";
import { localWorld } from "#test/support/engine-harness.ts";
import { makeDatabase, makeServer } from "#test/support/fixtures.ts";

const operator: Actor = { id: "tester", role: "operator" };
let deps: CoreDeps;

beforeEach(async () => {
  const world = await localWorld();
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
