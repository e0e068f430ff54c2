// Where a restore drill restores: the names it uses and the rule that a sandbox must be marked so.
import type { DrillTarget } from "../entities.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import type { CoreDeps } from "./deps.ts";

/** The scratch database a sandbox drill restores into: `mbm_drill_<last 12 hex digits of the backup id>`. */
export function scratchDatabaseName(backupId: string): string {
  const hex = backupId.replace(/[^0-9a-f]/gi, "").toLowerCase();
  return `mbm_drill_${hex.slice(-12) || "x"}`;
}

/** How a target reads in records and events: `ephemeral` or `sandbox:<server id>`. */
export function drillTargetLabel(target: DrillTarget): string {
  return target.kind === "ephemeral" ? "ephemeral" : `sandbox:${target.server_id}`;
}

/**
 * A sandbox target must be a server marked `sandbox: true`: a drill creates and drops a database
 * there, so no server is one by default, the backup's own source included.
 */
async function checkSandbox(
  deps: Pick<CoreDeps, "store">,
  target: DrillTarget,
  field: string,
): Promise<void> {
  if (target.kind !== "sandbox") return;
  const server = await deps.store.servers.get(target.server_id);
  // An unknown id is a 404, as every reference to a missing record is (a restore's target server, a
  // schedule's); a server that exists but is not a sandbox is the request's mistake: 422.
  if (!server) throw new NotFoundError("server", target.server_id);
  if (!server.sandbox) {
    throw new ValidationError(
      `${field}.server_id`,
      `server ${server.name} is not marked as a sandbox (a drill creates and drops a scratch database there)`,
    );
  }
}

/** Checks a target named by a request, a schedule or the settings before it is used or saved. */
export async function checkDrillTarget(
  deps: Pick<CoreDeps, "store">,
  target: DrillTarget | null | undefined,
  field: string,
): Promise<void> {
  if (target) await checkSandbox(deps, target, field);
}
