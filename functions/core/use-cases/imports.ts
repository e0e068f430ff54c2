// Imports (issue 16): a dump made elsewhere, put under imports/, queued as a backup record with
// trigger "import" that the import task fills (task-image/src/import.ts). From then on it is a backup
// like the others: listed, restorable, drillable, kept or expired by the same rules.
import type { Backup } from "../entities.ts";
import { ConflictError, errorMessage, ValidationError } from "../errors.ts";
import type { ImportBackupInput } from "../inputs.ts";
import { backupSourceRefusal } from "../system-databases.ts";
import { draftBackup } from "./backups.ts";
import { type Actor, audited, type CoreDeps } from "./deps.ts";
import { dispatch } from "./dispatch.ts";
import { getServer } from "./servers.ts";
import { currentSettings } from "./settings.ts";

/**
 * The backup that holds this source, if any: a queued, running or completed import of it (failed and
 * cancelled ones hold nothing). One indexed query; a second import is refused, so they are few.
 */
export async function importOf(
  deps: Pick<CoreDeps, "store">,
  sourceKey: string,
): Promise<Backup | undefined> {
  const page = await deps.store.backups.list({ imported_from: sourceKey }, { limit: 100 });
  return page.items.find((b) => b.status !== "failed" && b.status !== "cancelled");
}

/**
 * Queues the import of `source_key` as a backup of the server's `database`. The database need not
 * be one the server lists now (a dump can outlive its database): any valid name but local and
 * config is accepted. 409 when a backup already holds this source (failed or cancelled imports do
 * not count: they hold nothing, and the source may be fixed and imported again).
 */
export async function importBackup(deps: CoreDeps, actor: Actor, input: ImportBackupInput): Promise<Backup> {
  const refusal = backupSourceRefusal(input.database);
  if (refusal) throw new ValidationError("database", refusal);
  const details: Record<string, unknown> = {
    server_id: input.server_id,
    database: input.database,
    source_key: input.source_key,
  };
  return await audited(
    deps,
    actor,
    { action: "backup.import", target_type: "backup", details },
    async () => {
      const server = await getServer(deps, input.server_id);
      const settings = await currentSettings(deps);
      const holder = await importOf(deps, input.source_key);
      if (holder) {
        throw new ConflictError(
          `${input.source_key} is already imported as backup ${holder.id} (${holder.status}): delete that backup to import it again`,
        );
      }
      const backup = await deps.store.backups.create(
        draftBackup({
          database: { server_id: server.id, name: input.database },
          trigger: "import",
          schedule_id: null,
          created_by: actor.id,
          name: input.name,
          notes: input.notes,
          compression: input.compression,
          retention_days: settings.retention_days,
          imported_from: input.source_key,
        }),
      );
      // Accepted once recorded, as a manual backup is: a start that fails now leaves it queued for
      // the next dispatch, and the audit entry says why.
      await dispatch(deps).catch((error: unknown) => {
        details.start_error = errorMessage(error);
      });
      return (await deps.store.backups.get(backup.id).catch(() => undefined)) ?? backup;
    },
    (backup) => backup.id,
  );
}
