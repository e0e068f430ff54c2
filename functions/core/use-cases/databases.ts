// Managed databases: discovered by sync (listDatabases on each server), enabled or disabled for
// fan-out, removed from management. Sync never deletes: a database that vanished is marked, so
// its backups and history stay visible until someone removes it on purpose.
import type { ManagedDatabase, Server } from "../entities.ts";
import { NotFoundError, PasswordNeededError, ValidationError } from "../errors.ts";
import { newId, nowIso } from "../ids.ts";
import { ConnectionFailedError } from "../ports.ts";
import { backupSourceRefusal } from "../system-databases.ts";
import { type Actor, audited, type CoreDeps, listAll } from "./deps.ts";
import { getServer, targetOf } from "./servers.ts";

export interface SyncResult {
  server_id: string;
  ok: boolean;
  error: string | null;
  added: string[];
  vanished: string[];
  returned: string[];
}

export async function syncDatabases(
  deps: CoreDeps,
  actor: Actor,
  input: { server_id?: string | undefined },
): Promise<{ results: SyncResult[] }> {
  const servers: Server[] = input.server_id
    ? [await getServer(deps, input.server_id)]
    : await listAll((f, p) => deps.store.servers.list(f, p), {});
  return await audited(
    deps,
    actor,
    { action: "database.sync", target_type: "server", target_id: input.server_id ?? null },
    async () => ({ results: await Promise.all(servers.map((s) => syncServer(deps, s))) }),
  );
}

async function syncServer(deps: CoreDeps, server: Server): Promise<SyncResult> {
  const result: SyncResult = {
    server_id: server.id,
    ok: true,
    error: null,
    added: [],
    vanished: [],
    returned: [],
  };
  let found: Map<string, number | null>;
  try {
    const listed = await deps.inspector.listDatabases(await targetOf(deps, server));
    // local and config are never backed up, so never managed (whatever an inspector lists).
    found = new Map(listed.filter((d) => !backupSourceRefusal(d.name)).map((d) => [d.name, d.size_on_disk]));
  } catch (error) {
    // One unreachable (or password-less) server must not stop the others' sync; its databases stay.
    if (error instanceof PasswordNeededError) return { ...result, ok: false, error: error.message };
    if (!(error instanceof ConnectionFailedError)) throw error;
    return { ...result, ok: false, error: `${error.kind}: ${error.message}` };
  }
  const known = await listAll((f, p) => deps.store.databases.list(f, p), { server_id: server.id });
  const now = nowIso();
  for (const db of known) {
    const size = found.get(db.name);
    if (found.has(db.name)) {
      if (db.vanished_at) result.returned.push(db.name);
      await deps.store.databases.update(db.id, { size_on_disk: size ?? null, vanished_at: null });
    } else if (!db.vanished_at) {
      result.vanished.push(db.name);
      await deps.store.databases.update(db.id, { vanished_at: now });
    }
  }
  const knownNames = new Set(known.map((d) => d.name));
  for (const [name, size] of found) {
    if (knownNames.has(name)) continue;
    await deps.store.databases.create({
      id: newId(),
      server_id: server.id,
      name,
      enabled: true,
      size_on_disk: size,
      discovered_at: now,
      vanished_at: null,
      last_backup: null,
      drill_stale_since: null,
      last_verified: null,
      scheduled_since_drill: 0,
    });
    result.added.push(name);
  }
  return result;
}

export async function getDatabase(deps: Pick<CoreDeps, "store">, id: string): Promise<ManagedDatabase> {
  const db = await deps.store.databases.get(id);
  if (!db) throw new NotFoundError("database", id);
  return db;
}

export async function setDatabaseEnabled(
  deps: CoreDeps,
  actor: Actor,
  id: string,
  enabled: boolean,
): Promise<ManagedDatabase> {
  const db = await getDatabase(deps, id);
  const refusal = enabled ? backupSourceRefusal(db.name) : undefined;
  if (refusal) throw new ValidationError("enabled", refusal);
  return await audited(
    deps,
    actor,
    { action: enabled ? "database.enable" : "database.disable", target_type: "database", target_id: id },
    () => deps.store.databases.update(id, { enabled }),
  );
}

/** Stops managing a database (its backups stay; a later sync finds it again if it still exists). */
export async function deleteDatabase(deps: CoreDeps, actor: Actor, id: string): Promise<void> {
  const db = await getDatabase(deps, id);
  await audited(
    deps,
    actor,
    { action: "database.delete", target_type: "database", target_id: id, details: { name: db.name } },
    async () => {
      await deps.store.databases.delete(id);
    },
  );
}

/**
 * The databases a fan-out covers: `{}` every enabled database on every server, `server_id` that
 * server's enabled ones, `server_id + database` that one (asked for by name, so even if disabled).
 * Databases a sync found missing are left out of the wider scopes, and so are `local` and `config`
 * (a record from before sync skipped them); asked for by name they are a 422 on `database`.
 */
export async function fanOutScope(
  deps: Pick<CoreDeps, "store">,
  scope: { server_id?: string | null | undefined; database?: string | null | undefined },
): Promise<ManagedDatabase[]> {
  const refusal = scope.database ? backupSourceRefusal(scope.database) : undefined;
  if (refusal) throw new ValidationError("database", refusal);
  if (scope.server_id && scope.database) {
    const page = await deps.store.databases.list(
      { server_id: scope.server_id, name: scope.database },
      { limit: 1 },
    );
    const [db] = page.items;
    if (!db) {
      throw new NotFoundError("database", `${scope.database} on server ${scope.server_id}`, {
        hint: "run a sync first",
      });
    }
    return [db];
  }
  const filter = scope.server_id ? { server_id: scope.server_id, enabled: true } : { enabled: true };
  const databases = await listAll((f, p) => deps.store.databases.list(f, p), filter);
  return databases.filter((d) => !d.vanished_at && !backupSourceRefusal(d.name));
}
