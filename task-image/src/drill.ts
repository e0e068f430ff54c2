// Restore drill (issue 15): placeholder until the drill program lands.
import type { Drill } from "#core/entities.ts";
import type { EngineDeps } from "./engine.ts";

export async function runDrill(deps: EngineDeps, drillId: string, _signal: AbortSignal): Promise<Drill> {
  const drill = await deps.store.drills.transition(drillId, "failed", {
    error: "restore drills are not built yet",
  });
  return drill;
}
