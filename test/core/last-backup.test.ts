// A managed database's last_backup summary follows its backups' ends, newest wins, on the local
// store; and the reaper's path (failAndAnnounce) writes it too.
import { describe, expect, it } from "vitest";
import { localDatabase } from "#adapters/local/local-data-dir.ts";
import { SqliteMetadataStore } from "#adapters/local/sqlite-metadata-store.ts";
import { failAndAnnounce } from "#core/use-cases/jobs.ts";
import { noteBackupEnded } from "#core/use-cases/last-backup.ts";
import { quietAlerts } from "#test/support/core-deps.ts";
import { scratchDir } from "#test/support/env.ts";
import { makeBackup, makeDatabase, makeServer } from "#test/support/fixtures.ts";

const iso = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();

describe("last_backup", () => {
  it("records each ended backup unless a later one is already there; ignores unfinished ones", async () => {
    const store = new SqliteMetadataStore({ database: localDatabase(scratchDir("last-backup-")) });
    const server = await store.servers.create(makeServer());
    const db = await store.databases.create(makeDatabase({ server_id: server.id, name: "shop" }));
    const finished = (minutesAgo: number, status: "completed" | "failed") =>
      makeBackup({
        server_id: server.id,
        database: "shop",
        status,
        started_at: iso(minutesAgo + 1),
        finished_at: iso(minutesAgo),
        size_bytes: status === "completed" ? 1234 : null,
      });
    const newer = finished(5, "completed");
    await noteBackupEnded(store, newer);
    await noteBackupEnded(store, finished(10, "failed")); // older: ignored
    await noteBackupEnded(store, makeBackup({ server_id: server.id, database: "shop", status: "running" }));
    await noteBackupEnded(store, { ...finished(1, "completed"), database: "other" }); // another database
    expect((await store.databases.get(db.id))?.last_backup).toEqual({
      backup_id: newer.id,
      status: "completed",
      finished_at: newer.finished_at,
      size_bytes: 1234,
    });

    // A task that died: the reaper's failure is the newest outcome.
    const died = await store.backups.create(
      makeBackup({ server_id: server.id, database: "shop", status: "running", started_at: iso(2) }),
    );
    expect(
      await failAndAnnounce({ store, alerts: quietAlerts() }, { kind: "backup", id: died.id }, "gone"),
    ).toBe(true);
    expect((await store.databases.get(db.id))?.last_backup).toMatchObject({
      backup_id: died.id,
      status: "failed",
    });
  });
});
