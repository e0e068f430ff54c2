// The lists the console names things from and offers in its selects (web/src/lib/list-all.ts) read
// every page of the API: with 101 servers or databases, none goes missing from a filter or a form.
// The console's own Api class, over real HTTP on loopback, against the real API on local adapters.
import { getRequestListener } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "../../web/src/lib/api.ts";
import { allDatabasesOf, allServers } from "../../web/src/lib/list-all.ts";
import { type ApiWorld, apiWorld } from "../support/api-harness.ts";
import { makeDatabase, makeServer } from "../support/fixtures.ts";
import { type LoopbackServer, listenOnLoopback } from "../support/loopback-server.ts";

describe("the console's list-everything reads", () => {
  let api: ApiWorld;
  let http: LoopbackServer;
  let consoleApi: Api;
  let serverId: string;
  const requested: string[] = [];

  beforeAll(async () => {
    api = await apiWorld("local");
    http = await listenOnLoopback();
    const listener = getRequestListener(api.app.fetch);
    http.handle((req, res) => {
      requested.push(req.url ?? "");
      void listener(req, res);
    });
    const token = api.tokens.viewer;
    consoleApi = new Api(
      http.origin,
      { mode: "local", token: async () => token, signOut: async () => {} },
      () => {
        throw new Error("signed out");
      },
    );
    // 205 servers (three pages); 101 databases on the first (two pages) and one on another.
    const servers = Array.from({ length: 205 }, (_, i) => makeServer({ name: `server ${i}` }));
    for (const s of servers) await api.deps.store.servers.create(s);
    serverId = servers[0]?.id ?? "";
    for (let i = 0; i < 101; i++) {
      await api.deps.store.databases.create(makeDatabase({ server_id: serverId, name: `db_${i}` }));
    }
    await api.deps.store.databases.create(makeDatabase({ server_id: servers[1]?.id, name: "elsewhere" }));
  });

  afterAll(async () => {
    await http?.close();
    await api?.close();
  });

  it("allServers: every server, one request per page of 100", async () => {
    requested.length = 0;
    const servers = await allServers(consoleApi);
    expect(servers).toHaveLength(205);
    expect(new Set(servers.map((s) => s.name)).size).toBe(205); // no page read twice
    expect(requested).toHaveLength(3);
    expect(requested.every((u) => u.includes("limit=100"))).toBe(true);
  });

  it("allDatabasesOf: every database of that server only, and none without a server", async () => {
    requested.length = 0;
    const databases = await allDatabasesOf(consoleApi, serverId);
    expect(requested).toHaveLength(2);
    expect(requested.every((u) => u.includes(`server_id=${serverId}`))).toBe(true);
    expect(databases.map((d) => d.name).sort()).toEqual(
      Array.from({ length: 101 }, (_, i) => `db_${i}`).sort(),
    );
    requested.length = 0;
    expect(await allDatabasesOf(consoleApi, "")).toEqual([]);
    expect(requested).toEqual([]);
  });
});
