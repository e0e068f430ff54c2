// A managed database's `last_backup` summary: written by whoever records one of its backups'
// end (the task on completion or failure, the reaper or task-state handler when a task died), so
// the databases list shows each database's latest outcome without reading the backups.
import type { Backup } from "../entities.ts";
import type { MetadataStore } from "../ports.ts";

/**
 * Records `backup` as its database's last backup unless a later one is already there. Best effort
 * by design: the backup's own record is the truth, and a lost summary is replaced by the next one.
 */
export async function noteBackupEnded(
  store: Pick<MetadataStore, "databases">,
  backup: Backup,
): Promise<void> {
  if (backup.status !== "completed" && backup.status !== "failed") return;
  const { items } = await store.databases.list(
    { server_id: backup.server_id, name: backup.database },
    { limit: 1 },
  );
  const database = items[0];
  if (!database) return;
  const known = database.last_backup;
  if (known?.finished_at && backup.finished_at && known.finished_at > backup.finished_at) return;
  await store.databases.update(database.id, {
    last_backup: {
      backup_id: backup.id,
      status: backup.status,
      finished_at: backup.finished_at,
      size_bytes: backup.size_bytes,
    },
  });
}
