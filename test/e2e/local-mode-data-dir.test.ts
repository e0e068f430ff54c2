// Local mode (`node scripts/local.ts`, what `npm start` runs) and its data dir: an earlier version's
// data dir is migrated on start and served, and a second local mode on the same data dir is refused
// while the first one's task processes (here a process writing as a task does) keep working.
import { spawn } from "node:child_process";
import { chmodSync, cpSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { newId } from "#core/ids.ts";
import { scratchDir } from "#test/support/env.ts";
import { type LocalModeProcess, startLocalMode } from "#test/support/local-mode-process.ts";

const running: LocalModeProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((local) => local.stop()));
});

describe("local mode's data dir", () => {
  it("starts on a data dir of the JSON-file version, migrating it, and serves what it held", async () => {
    const dataDir = join(scratchDir("old-data-dir-"), "data");
    cpSync(join(import.meta.dirname, "../fixtures/json-data-dir"), dataDir, { recursive: true });
    chmodSync(join(dataDir, "secret.key"), 0o600);
    const local = await startLocalMode({ dataDir, token: "old-dir-token", demo: false });
    running.push(local);
    expect(local.output()).toContain("data dir migrated from JSON files to SQLite");
    const servers = await local.api("GET", "/api/servers?limit=100");
    expect(servers.status).toBe(200);
    expect((servers.json as { items: { name: string }[] }).items.map((s) => s.name).sort()).toEqual([
      "server-0",
      "server-1",
      "server-2",
    ]);
    const backups = await local.api("GET", "/api/backups?limit=100");
    expect((backups.json as { items: unknown[] }).items).toHaveLength(40);
    expect(existsSync(join(dataDir, "metadata"))).toBe(false);
    expect(readdirSync(dataDir).filter((f) => f.includes("migrated-"))).toHaveLength(2);
  });

  it("refuses a second local mode on the same data dir, while task processes still work beside the first", async () => {
    const dataDir = join(scratchDir("one-server-"), "data");
    const first = await startLocalMode({ dataDir, token: "first-token", demo: false });
    running.push(first);
    await expect(
      startLocalMode({ dataDir, token: "second-token", demo: false, timeoutMs: 60_000 }),
    ).rejects.toThrow(new RegExp(`data dir ${dataDir} is in use by another local mode server \\(pid \\d+`));

    // What a task process does: open the same database and write, while the server holds its claim.
    const serverId = newId();
    const writer = spawn(
      process.execPath,
      [join(import.meta.dirname, "../support/sqlite-store-writer.ts"), dataDir, serverId, "25"],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    expect(await new Promise((resolve) => writer.once("exit", resolve))).toBe(0);
    const listed = await first.api("GET", `/api/backups?server_id=${serverId}&limit=100`);
    expect(listed.status).toBe(200);
    expect((listed.json as { items: unknown[] }).items).toHaveLength(25);
    const health = await first.api("GET", "/api/health");
    expect(health.status).toBe(200);
  });
});
