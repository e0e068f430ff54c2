// A separate process writing to a FileMetadataStore, for the cross-process test:
//   node test/support/file-store-writer.ts <dir> <serverId> <count>
// Creates <count> backups for <serverId>, concurrently.
import { FileMetadataStore } from "#adapters/local/file-metadata-store.ts";
import { makeBackup } from "#test/support/fixtures.ts";

const [dir, serverId, count] = process.argv.slice(2);
if (!dir || !serverId || !count) throw new Error("usage: file-store-writer <dir> <serverId> <count>");
const store = new FileMetadataStore({ dir });
await Promise.all(
  Array.from({ length: Number(count) }, () => store.backups.create(makeBackup({ server_id: serverId }))),
);
