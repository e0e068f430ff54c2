// A separate process writing to local mode's SQLite store, for the cross-process tests:
//   node test/support/sqlite-store-writer.ts <dataDir> <serverId> <count> [sequential]
// Creates <count> backups for <serverId>, concurrently (or one after another with `sequential`),
// and prints each id on its own line once the store has acknowledged it.
import { localDatabase } from "#adapters/local/local-data-dir.ts";
import { SqliteMetadataStore } from "#adapters/local/sqlite-metadata-store.ts";
import { makeBackup } from "#test/support/fixtures.ts";

const [dir, serverId, count, mode] = process.argv.slice(2);
if (!dir || !serverId || !count) throw new Error("usage: sqlite-store-writer <dir> <serverId> <count>");
const store = new SqliteMetadataStore({ database: localDatabase(dir) });
const write = async () => {
  const backup = await store.backups.create(makeBackup({ server_id: serverId }));
  process.stdout.write(`${backup.id}\n`);
};
if (mode === "sequential") {
  for (let i = 0; i < Number(count); i++) await write();
} else {
  await Promise.all(Array.from({ length: Number(count) }, write));
}
