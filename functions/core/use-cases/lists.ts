// The list pages the API answers: one indexed query each, newest first, with an opaque cursor (the
// stores' contract). Reading through these rather than the store keeps the routes on use cases only.
import type { AuditEntry, Backup, ManagedDatabase, Restore, Server } from "../entities.ts";
import type {
  AuditFilter,
  BackupFilter,
  DatabaseFilter,
  Page,
  PageRequest,
  RestoreFilter,
  ScheduleFilter,
} from "../ports.ts";
import { type ScheduleView, withNextRuns } from "../views.ts";
import type { CoreDeps } from "./deps.ts";

type Store = Pick<CoreDeps, "store">;

export function listServers(deps: Store, page: PageRequest): Promise<Page<Server>> {
  return deps.store.servers.list({}, page);
}

export function listDatabases(
  deps: Store,
  filter: DatabaseFilter,
  page: PageRequest,
): Promise<Page<ManagedDatabase>> {
  return deps.store.databases.list(filter, page);
}

export function listBackups(deps: Store, filter: BackupFilter, page: PageRequest): Promise<Page<Backup>> {
  return deps.store.backups.list(filter, page);
}

export function listRestores(deps: Store, filter: RestoreFilter, page: PageRequest): Promise<Page<Restore>> {
  return deps.store.restores.list(filter, page);
}

export function listAudit(deps: Store, filter: AuditFilter, page: PageRequest): Promise<Page<AuditEntry>> {
  return deps.store.audit.list(filter, page);
}

/** Schedules with their next five runs (none while disabled). */
export async function listSchedules(
  deps: Store,
  filter: ScheduleFilter,
  page: PageRequest,
  now = new Date(),
): Promise<Page<ScheduleView>> {
  const result = await deps.store.schedules.list(filter, page);
  return { items: result.items.map((s) => withNextRuns(s, now)), next_cursor: result.next_cursor };
}
