// Import of an existing dump (issue 16): placeholder until the import program lands.
import type { Backup } from "#core/entities.ts";
import type { EngineDeps } from "./engine.ts";

export async function runImport(deps: EngineDeps, backupId: string, _signal: AbortSignal): Promise<Backup> {
  return await deps.store.backups.transition(backupId, "failed", { error: "imports are not built yet" });
}
