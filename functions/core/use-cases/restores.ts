// Restores: checked against the backup and the target before anything is queued. Restoring over
// the very database the backup came from needs an explicit `drop: true`: without it mongorestore
// would insert beside the live documents and stop on the first duplicate key, half done.
import type { Backup, Restore } from "../entities.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { newId, nowIso } from "../ids.ts";
import type { TriggerRestoreInput } from "../inputs.ts";
import { restoreTargetRefusal } from "../system-databases.ts";
import { getBackup } from "./backups.ts";
import { type Actor, audited, type CoreDeps } from "./deps.ts";
import { startJob } from "./jobs.ts";
import { getServer } from "./servers.ts";

export async function getRestore(deps: Pick<CoreDeps, "store">, id: string): Promise<Restore> {
  const restore = await deps.store.restores.get(id);
  if (!restore) throw new NotFoundError("restore", id);
  return restore;
}

/** Completed backups read per page while looking for the newest verified one. */
const LATEST_PAGE = 50;

/**
 * The newest completed backup of a server's database (one indexed list, newest first); with
 * `verified`, the newest whose restore drill passed. NotFoundError when there is none.
 */
export async function latestBackup(
  deps: Pick<CoreDeps, "store">,
  serverId: string,
  database: string,
  verified: boolean,
): Promise<Backup> {
  let cursor: string | undefined;
  do {
    const page = await deps.store.backups.list(
      { server_id: serverId, database, status: "completed" },
      { limit: verified ? LATEST_PAGE : 1, cursor },
    );
    const found = verified ? page.items.find((b) => b.verification?.status === "passed") : page.items[0];
    if (found) return found;
    cursor = page.next_cursor ?? undefined;
  } while (verified && cursor);
  throw new NotFoundError("backup", `of ${database} on server ${serverId}`, {
    hint: verified ? "no completed backup of it has passed a restore drill" : "it has no completed backup",
  });
}

export async function triggerRestore(
  deps: CoreDeps,
  actor: Actor,
  input: TriggerRestoreInput,
): Promise<Restore> {
  const backup =
    input.backup_id !== undefined
      ? await getBackup(deps, input.backup_id)
      : await latestBackup(deps, input.server_id ?? "", input.database ?? "", input.verified ?? false);
  const targetServerId = input.target_server_id ?? backup.server_id;
  await getServer(deps, targetServerId);
  const targetDatabase = input.target_database ?? backup.database;
  // Named or defaulted from the backup (a backup of admin restores only under another name).
  const refusal = restoreTargetRefusal(targetDatabase);
  if (refusal) {
    throw new ValidationError(
      "target_database",
      input.target_database === undefined ? `${refusal} (give another target_database)` : refusal,
    );
  }
  const drop = input.drop ?? false;
  return await audited(
    deps,
    actor,
    {
      action: "restore.trigger",
      target_type: "restore",
      details: {
        backup_id: backup.id,
        ...(input.backup_id === undefined ? { chosen: input.verified ? "latest verified" : "latest" } : {}),
        target_server_id: targetServerId,
        target_database: targetDatabase,
        drop,
      },
    },
    async () => {
      if (backup.status !== "completed") {
        throw new ConflictError(
          `backup ${backup.id} is ${backup.status}: only a completed backup can be restored`,
        );
      }
      if (targetServerId === backup.server_id && targetDatabase === backup.database && !drop) {
        throw new ConflictError(
          `restoring onto the source database ${backup.database} itself needs "drop": true (its collections are replaced)`,
        );
      }
      if (input.collections && backup.collections) {
        const missing = input.collections.filter((c) => !(c in (backup.collections ?? {})));
        if (missing.length > 0) {
          throw new ValidationError("collections", `not in this backup: ${missing.slice(0, 10).join(", ")}`);
        }
      }
      const restore = await deps.store.restores.create({
        id: newId(),
        backup_id: backup.id,
        source_server_id: backup.server_id,
        source_database: backup.database,
        target_server_id: targetServerId,
        target_database: targetDatabase,
        drop,
        collections: input.collections ?? null,
        status: "queued",
        created_by: actor.id,
        created_at: nowIso(),
        started_at: null,
        finished_at: null,
        duration_ms: null,
        progress: null,
        error: null,
        runner_ref: null,
      });
      await startJob(deps, { kind: "restore", id: restore.id });
      return (await deps.store.restores.get(restore.id)) ?? restore;
    },
    (restore) => restore.id,
  );
}
