// Servers: create/update/delete with the password kept in the secret store (write-only), the
// connection test and database discovery through the inspector port.
import type { Server } from "../entities.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { newId, nowIso } from "../ids.ts";
import type { CreateServerInput, UpdateServerInput } from "../inputs.ts";
import { endpointOf, fromConnectionString, mongoTarget, serverUri } from "../mongo-uri.ts";
import type { ConnectionTestResult, DiscoveredDatabase, MongoTarget } from "../ports.ts";
import { type Actor, audited, type CoreDeps, definedOnly, listAll } from "./deps.ts";

export async function getServer(deps: Pick<CoreDeps, "store">, id: string): Promise<Server> {
  const server = await deps.store.servers.get(id);
  if (!server) throw new NotFoundError("server", id);
  return server;
}

/** The server record a create request describes (not yet stored) and the password apart. */
function draftServer(
  input: CreateServerInput,
  now: string,
): { server: Server; password: string | undefined } {
  const base = {
    id: newId(),
    name: input.name,
    sandbox: input.sandbox ?? false,
    last_test: null,
    created_at: now,
    updated_at: now,
  };
  if (input.connection_string) {
    const { fields, password } = fromConnectionString(input.connection_string);
    const pw = input.password ?? password;
    return { server: { ...base, ...fields, has_password: Boolean(pw) }, password: pw };
  }
  return {
    server: {
      ...base,
      host: input.host ?? "",
      port: input.port ?? 27017,
      username: input.username ?? null,
      auth_source: input.auth_source ?? null,
      auth_mechanism: input.auth_mechanism ?? null,
      tls: input.tls ?? false,
      replica_set: input.replica_set ?? null,
      options: input.options ?? {},
      connection_string: null,
      has_password: Boolean(input.password),
    },
    password: input.password,
  };
}

export async function createServer(deps: CoreDeps, actor: Actor, input: CreateServerInput): Promise<Server> {
  return await audited(
    deps,
    actor,
    { action: "server.create", target_type: "server", details: { name: input.name } },
    async () => {
      const { server, password } = draftServer(input, nowIso());
      serverUri(server); // a host the URI cannot hold is a ValidationError now, not at backup time
      // Secret first: a server record never points at a password that was not stored.
      if (password) await deps.secrets.put(server.id, password);
      try {
        return await deps.store.servers.create(server);
      } catch (error) {
        await deps.secrets.delete(server.id).catch(() => undefined);
        throw error;
      }
    },
    (server) => server.id,
  );
}

const uriFields = [
  "port",
  "username",
  "auth_source",
  "auth_mechanism",
  "tls",
  "replica_set",
  "options",
] as const;

export async function updateServer(
  deps: CoreDeps,
  actor: Actor,
  id: string,
  input: UpdateServerInput,
): Promise<Server> {
  const current = await getServer(deps, id);
  // A server given by connection string takes its host, port, tls... from the URI: changing one of
  // those fields alone would make the record contradict what connections use.
  if (current.connection_string && input.connection_string === undefined && input.host === undefined) {
    const field = uriFields.find((f) => input[f] !== undefined);
    if (field) {
      throw new ValidationError(
        field,
        "this server is given by its connection_string: send a new connection_string (or host, to switch to host/port)",
      );
    }
  }
  return await audited(
    deps,
    actor,
    {
      action: "server.update",
      target_type: "server",
      target_id: id,
      details: { fields: Object.keys(input) },
    },
    async () => {
      const { password, connection_string, ...plain } = input;
      let patch: Partial<Server> = { ...definedOnly(plain), updated_at: nowIso() };
      let newPassword: string | null | undefined = password;
      if (connection_string) {
        const parsed = fromConnectionString(connection_string);
        patch = { ...patch, ...parsed.fields };
        if (newPassword === undefined && parsed.password !== undefined) newPassword = parsed.password;
      } else if (connection_string === null || plain.host !== undefined) {
        patch.connection_string = null; // back to host/port
      }
      serverUri({ ...current, ...patch });
      // The stored password belongs to where and how the server was reached (`endpointOf`). Sent
      // anywhere else it would go to whoever answers there, so a changed endpoint without a new
      // password in the same request deletes it. Compared by value: a form that re-sends unchanged
      // fields keeps it.
      if (newPassword === undefined && endpointOf({ ...current, ...patch }) !== endpointOf(current)) {
        newPassword = null;
      }
      const previousPassword = newPassword === undefined ? undefined : await deps.secrets.get(id);
      if (typeof newPassword === "string") {
        await deps.secrets.put(id, newPassword);
        patch.has_password = true;
      } else if (newPassword === null) {
        await deps.secrets.delete(id);
        patch.has_password = false;
      }
      // A changed connection invalidates the last test's verdict.
      patch.last_test = null;
      try {
        return await deps.store.servers.update(id, patch);
      } catch (error) {
        // The record did not change: neither may the password it describes.
        if (newPassword !== undefined) {
          await (previousPassword === undefined
            ? deps.secrets.delete(id)
            : deps.secrets.put(id, previousPassword)
          ).catch(() => undefined);
        }
        throw error;
      }
    },
  );
}

/**
 * Deletes a server, its managed databases, its secret and the schedules scoped to it. Its backups
 * are kept unless `deleteBackups`: an archive outlives its server (it can be restored elsewhere),
 * and losing backups because a connection entry was removed would be the worse surprise.
 */
export async function deleteServer(
  deps: CoreDeps,
  actor: Actor,
  id: string,
  options: { deleteBackups?: boolean | undefined },
): Promise<{ deleted_backups: number }> {
  await getServer(deps, id);
  return await audited(
    deps,
    actor,
    {
      action: "server.delete",
      target_type: "server",
      target_id: id,
      details: { delete_backups: Boolean(options.deleteBackups) },
    },
    async () => {
      for (const status of ["queued", "running"] as const) {
        const active = await deps.store.backups.list({ server_id: id, status }, { limit: 1 });
        if (active.items.length > 0) {
          throw new ConflictError(
            `server ${id} has ${status} backups; cancel them or wait before deleting it`,
          );
        }
        const restoring = await deps.store.restores.list({ target_server_id: id, status }, { limit: 1 });
        if (restoring.items.length > 0) {
          throw new ConflictError(`server ${id} has ${status} restores; wait for them before deleting it`);
        }
      }
      let deletedBackups = 0;
      if (options.deleteBackups) {
        // A restore of this server's backup onto another server reads an archive about to go.
        for (const status of ["queued", "running"] as const) {
          const reading = (await listAll((f, p) => deps.store.restores.list(f, p), { status })).find(
            (r) => r.source_server_id === id,
          );
          if (reading) {
            throw new ConflictError(
              `restore ${reading.id} (${status}) reads a backup of server ${id}; wait for it before deleting its backups`,
            );
          }
        }
        const backups = await listAll((f, p) => deps.store.backups.list(f, p), { server_id: id });
        for (const backup of backups) {
          if (backup.blob_key) await deps.blobs.delete(backup.blob_key);
          await deps.store.backups.delete(backup.id);
          deletedBackups++;
        }
      }
      const schedules = await listAll((f, p) => deps.store.schedules.list(f, p), {});
      for (const schedule of schedules.filter((s) => s.server_id === id)) {
        await deps.scheduler?.remove(schedule.id);
        await deps.store.schedules.delete(schedule.id);
      }
      const databases = await listAll((f, p) => deps.store.databases.list(f, p), { server_id: id });
      for (const database of databases) await deps.store.databases.delete(database.id);
      await deps.store.servers.delete(id);
      await deps.secrets.delete(id);
      return { deleted_backups: deletedBackups };
    },
  );
}

/**
 * What connects to a saved server, with the settings' outbound_allowlist for the inspector's address
 * check; PasswordNeededError (409) when it has a username but no password.
 */
export async function targetOf(
  deps: Pick<CoreDeps, "secrets" | "store">,
  server: Server,
): Promise<MongoTarget> {
  return {
    ...mongoTarget(server, await deps.secrets.get(server.id)),
    allowlist: await outboundAllowlist(deps),
  };
}

/** The settings' outbound_allowlist: the inspector checks a server's addresses against it. */
async function outboundAllowlist(deps: Pick<CoreDeps, "store">): Promise<string[]> {
  return (await deps.store.settings.get())?.outbound_allowlist ?? [];
}

/** Tests the connection and records the verdict on the server. */
export async function testServer(
  deps: CoreDeps,
  actor: Actor,
  id: string,
): Promise<{ server: Server; result: ConnectionTestResult }> {
  const server = await getServer(deps, id);
  return await audited(
    deps,
    actor,
    { action: "server.test", target_type: "server", target_id: id },
    async () => {
      const result = await deps.inspector.test(await targetOf(deps, server));
      const last_test = result.ok
        ? { ok: true, at: nowIso(), server_version: result.server_version, error: null }
        : { ok: false, at: nowIso(), server_version: null, error: `${result.kind}: ${result.message}` };
      return { server: await deps.store.servers.update(id, { last_test }), result };
    },
  );
}

/** The databases a saved server holds right now (read live; sync stores them). */
export async function listServerDatabases(deps: CoreDeps, id: string): Promise<DiscoveredDatabase[]> {
  const server = await getServer(deps, id);
  return await deps.inspector.listDatabases(await targetOf(deps, server));
}

/** The databases reachable with ad-hoc connection details; nothing is stored. */
export async function probeDatabases(
  deps: CoreDeps,
  input: CreateServerInput,
): Promise<DiscoveredDatabase[]> {
  const { server, password } = draftServer(input, nowIso());
  if (server.host === "" && !server.connection_string) throw new ValidationError("host", "is required");
  return await deps.inspector.listDatabases({
    uri: serverUri(server),
    password,
    allowlist: await outboundAllowlist(deps),
  });
}
