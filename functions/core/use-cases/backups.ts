// Backups: fan-out trigger, annotate, cancel, delete and download. A backup is created queued and
// handed to the job runner; the engine (task-image) moves it on from there.
import type { Backup, Compression, ManagedDatabase } from "../entities.ts";
import { ConflictError, errorMessage, NotFoundError } from "../errors.ts";
import { newId, nowIso } from "../ids.ts";
import type { TriggerBackupInput } from "../inputs.ts";
import type { DownloadLink, DownloadLinker } from "../ports.ts";
import { expiresAt } from "../retention.ts";
import { activeStatuses, isActive } from "../state-machine.ts";
import { fanOutScope } from "./databases.ts";
import { type Actor, audited, type CoreDeps } from "./deps.ts";
import { dispatch } from "./dispatch.ts";
import { getServer } from "./servers.ts";
import { currentSettings } from "./settings.ts";

/**
 * zstd (level 3, task-image/src/streams.ts) rather than gzip: the benchmark (test/bench) measures it
 * compressing an archive 5-9 times as fast as mongodump's own --gzip, which on a fast server
 * would be the backup's bottleneck, for archives about 25% larger than gzip's. Ask for
 * `"compression": "gzip"` where an archive must open with gunzip.
 */
export const defaultCompression: Compression = "zstd";

export async function getBackup(deps: Pick<CoreDeps, "store">, id: string): Promise<Backup> {
  const backup = await deps.store.backups.get(id);
  if (!backup) throw new NotFoundError("backup", id);
  return backup;
}

export interface NewBackup {
  /** The database backed up (an import's need not be a managed one). */
  database: Pick<ManagedDatabase, "server_id" | "name">;
  trigger: Backup["trigger"];
  schedule_id: string | null;
  created_by: string;
  name?: string | null | undefined;
  notes?: string | null | undefined;
  compression?: Compression | undefined;
  retention_days: number;
  /** An import's source key (`imports/...`). */
  imported_from?: string | undefined;
}

export function draftBackup(item: NewBackup, now = new Date()): Backup {
  return {
    id: newId(),
    server_id: item.database.server_id,
    database: item.database.name,
    name: item.name ?? null,
    notes: item.notes ?? null,
    status: "queued",
    trigger: item.trigger,
    schedule_id: item.schedule_id,
    created_by: item.created_by,
    created_at: now.toISOString(),
    started_at: null,
    finished_at: null,
    duration_ms: null,
    blob_key: null,
    size_bytes: null,
    sha256: null,
    blob_version: null,
    blob_checksum: null,
    compression: item.compression ?? defaultCompression,
    tool_version: null,
    collections: null,
    progress: null,
    error: null,
    expires_at: expiresAt(now, item.retention_days),
    runner_ref: null,
    imported_from: item.imported_from ?? null,
    verification: null,
  };
}

export async function triggerBackups(
  deps: CoreDeps,
  actor: Actor,
  input: TriggerBackupInput,
): Promise<{ items: Backup[] }> {
  if (input.server_id) await getServer(deps, input.server_id);
  const databases = await fanOutScope(deps, input);
  if (databases.length === 0) {
    throw new ConflictError(
      input.server_id
        ? `server ${input.server_id} has no enabled databases: sync its databases, or enable one`
        : "no enabled databases on any server: add a server and sync its databases",
    );
  }
  const settings = await currentSettings(deps);
  const details: Record<string, unknown> = { database: input.database ?? null, count: databases.length };
  return await audited(
    deps,
    actor,
    {
      action: "backup.trigger",
      target_type: input.server_id ? "server" : "all",
      target_id: input.server_id ?? null,
      details,
    },
    async () => {
      const items: Backup[] = [];
      try {
        for (const database of databases) {
          const backup = await deps.store.backups.create(
            draftBackup({
              database,
              trigger: "manual",
              schedule_id: null,
              created_by: actor.id,
              name: input.name,
              notes: input.notes,
              compression: input.compression,
              retention_days: settings.retention_days,
            }),
          );
          items.push(backup);
        }
      } catch (error) {
        // All or none: a half-made fan-out would run later with nobody having seen it accepted.
        await Promise.allSettled(items.map((b) => deps.store.backups.delete(b.id)));
        throw error;
      }
      // Started within the concurrency limits; the rest wait, queued, for a runner to finish.
      // Accepted once recorded: a start that fails now (the store or the runner's API briefly away)
      // must not fail the request, or the caller sends it again and every backup is queued twice.
      // They stay queued for the next dispatch (a task's end, housekeeping every 5 minutes, local
      // mode's restart); the audit entry says why they did not start at once.
      await dispatch(deps).catch((error: unknown) => {
        details.start_error = errorMessage(error);
      });
      const latest = (b: Backup) =>
        deps.store.backups.get(b.id).then(
          (found) => found ?? b,
          () => b,
        );
      return { items: await Promise.all(items.map(latest)) };
    },
  );
}

export async function annotateBackup(
  deps: CoreDeps,
  actor: Actor,
  id: string,
  input: { name?: string | null | undefined; notes?: string | null | undefined },
): Promise<Backup> {
  await getBackup(deps, id);
  return await audited(deps, actor, { action: "backup.annotate", target_type: "backup", target_id: id }, () =>
    deps.store.backups.update(id, {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.notes !== undefined ? { notes: input.notes } : {}),
    }),
  );
}

/** A restore reading this backup right now, if any (one indexed query per status). */
export async function activeRestoreOf(deps: Pick<CoreDeps, "store">, backupId: string) {
  for (const status of activeStatuses) {
    const page = await deps.store.restores.list({ backup_id: backupId, status }, { limit: 1 });
    if (page.items[0]) return page.items[0];
  }
  return undefined;
}

/** The queued or running restore drill that reads `backupId`, if any. */
export async function activeDrillOf(deps: Pick<CoreDeps, "store">, backupId: string) {
  for (const status of activeStatuses) {
    const page = await deps.store.drills.list({ backup_id: backupId, status }, { limit: 1 });
    if (page.items[0]) return page.items[0];
  }
  return undefined;
}

/** Deletes the archive, then the record (a record without its archive would promise a restore it cannot keep). */
export async function deleteBackup(deps: CoreDeps, actor: Actor, id: string): Promise<void> {
  const backup = await getBackup(deps, id);
  await audited(deps, actor, { action: "backup.delete", target_type: "backup", target_id: id }, async () => {
    if (isActive(backup.status)) {
      throw new ConflictError(`backup ${id} is ${backup.status}: cancel it before deleting it`);
    }
    const restore = await activeRestoreOf(deps, id);
    if (restore)
      throw new ConflictError(`backup ${id} is being read by restore ${restore.id} (${restore.status})`);
    const drill = await activeDrillOf(deps, id);
    if (drill)
      throw new ConflictError(
        `backup ${id} is being read by restore drill ${drill.id} (${drill.status}): wait for it to end`,
      );
    if (backup.blob_key) await deps.blobs.delete(backup.blob_key);
    await deps.store.backups.delete(id);
  });
}

/** Cancels a queued or running backup; a running one's task is asked to stop. */
export async function cancelBackup(deps: CoreDeps, actor: Actor, id: string): Promise<Backup> {
  await getBackup(deps, id);
  return await audited(
    deps,
    actor,
    { action: "backup.cancel", target_type: "backup", target_id: id },
    async () => {
      // The conditional transition decides: of a cancel and the engine finishing, one wins.
      const cancelled = await deps.store.backups.transition(id, "cancelled", {
        finished_at: nowIso(),
        error: `cancelled by ${actor.id}`,
      });
      if (cancelled.runner_ref && deps.runner) {
        await deps.runner.stop(cancelled.runner_ref, `cancelled by ${actor.id}`);
      }
      return cancelled;
    },
  );
}

export async function backupDownloadLink(
  deps: Pick<CoreDeps, "store">,
  linker: DownloadLinker,
  id: string,
): Promise<DownloadLink & { file_name: string; size_bytes: number | null }> {
  const backup = await getBackup(deps, id);
  if (backup.status !== "completed" || !backup.blob_key) {
    throw new ConflictError(`backup ${id} is ${backup.status}: only a completed backup has an archive`);
  }
  const fileName = backup.blob_key.slice(backup.blob_key.lastIndexOf("/") + 1);
  const link = await linker.link(backup.blob_key, `${backup.database}-${fileName}`);
  return { ...link, file_name: `${backup.database}-${fileName}`, size_bytes: backup.size_bytes };
}
