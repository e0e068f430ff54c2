// Where a restore drill restores, made ready and cleaned up: a throwaway server the task starts
// (ephemeral), or a registered sandbox server's scratch database, which must not exist beforehand
// (then it is not ours and is left alone) and is dropped afterwards whatever happened.
import { MongoClient, type MongoClientOptions } from "mongodb";
import { ConnectionString } from "mongodb-connection-string-url";
import { MongoDriverInspector } from "#adapters/mongo-driver-inspector.ts";
import { checkingLookup } from "#adapters/outbound-guard.ts";
import type { Drill } from "#core/entities.ts";
import { mongoTarget } from "#core/mongo-uri.ts";
import { Allowlist } from "#core/outbound-policy.ts";
import { ConnectionFailedError } from "#core/ports.ts";
import { drillTargetLabel } from "#core/use-cases/drill-targets.ts";
import { removeStaleDrillDirs, startThrowawayServer } from "./drill-server.ts";
import { checkServerAddresses, type DrillServerConfig, type EngineDeps, JobFailedError } from "./engine.ts";

export interface PreparedTarget {
  /** `ephemeral` or `sandbox:<server id>`. */
  label: string;
  connection: { uri: string; password: string | undefined };
  /** The database the archive is restored into. */
  database: string;
  /** Connected to the target, for the proof. */
  client: MongoClient;
  /** The throwaway server's start-up (0 for a sandbox). */
  startupMs: number;
  /** Checks the target's address again right before the restore (a sandbox's DNS may have moved). */
  recheck(): Promise<void>;
  /** Drops what the drill made, stops what it started. JobFailedError when something is left. */
  cleanUp(): Promise<void>;
}

async function allowlistOf(deps: EngineDeps): Promise<Allowlist> {
  const settings = await deps.store.settings.get();
  return new Allowlist([...(deps.mongoAllowlist ?? []), ...(settings?.outbound_allowlist ?? [])]);
}

async function prepareEphemeral(
  deps: EngineDeps,
  config: DrillServerConfig,
  database: string,
  signal: AbortSignal,
): Promise<PreparedTarget> {
  const removed = await removeStaleDrillDirs();
  if (removed.length > 0) deps.log.warn({ removed }, "removed data dirs of drills whose task was killed");
  const server = await startThrowawayServer(config, signal);
  // Our own server on loopback, without credentials: the outbound policy is about the servers
  // operators register, so it is not consulted for this one.
  const client = new MongoClient(server.uri, {
    serverSelectionTimeoutMS: deps.serverSelectionTimeoutSeconds * 1000,
    appName: "mongo-backup-manager-drill",
  });
  return {
    label: "ephemeral",
    connection: { uri: server.uri, password: undefined },
    database,
    client,
    startupMs: server.startupMs,
    recheck: async () => undefined,
    cleanUp: async () => {
      await client.close().catch(() => undefined);
      await server.stop();
    },
  };
}

async function prepareSandbox(
  deps: EngineDeps,
  drill: Drill,
  serverId: string,
  secrets: Array<string | undefined>,
): Promise<PreparedTarget> {
  const scratch = drill.scratch_database;
  if (!scratch) throw new JobFailedError(`drill ${drill.id} has a sandbox target but no scratch database`);
  const server = await deps.store.servers.get(serverId);
  if (!server) throw new JobFailedError(`sandbox server ${serverId} no longer exists`);
  if (!server.sandbox) {
    throw new JobFailedError(
      `server ${server.name} is not marked as a sandbox: a drill creates and drops a scratch database there, so it restores only into a server marked sandbox: true`,
    );
  }
  const password = await deps.secrets.get(server.id);
  secrets.push(password);
  const { uri } = mongoTarget(server, password);
  await checkServerAddresses(deps, uri);
  const allowlist = await allowlistOf(deps);
  const timeoutMs = deps.serverSelectionTimeoutSeconds * 1000;
  const inspector = new MongoDriverInspector({ timeoutMs, allowlist: [] });
  const databases = async (): Promise<string[]> => {
    try {
      return (await inspector.listDatabases({ uri, password, allowlist: allowlist.entries })).map(
        (d) => d.name,
      );
    } catch (error) {
      if (error instanceof ConnectionFailedError) {
        throw new JobFailedError(`the sandbox server ${server.name} could not be used: ${error.message}`);
      }
      throw error;
    }
  };
  if ((await databases()).includes(scratch)) {
    throw new JobFailedError(
      `the scratch database ${scratch} already exists on sandbox ${server.name}: the drill did not make it, so it leaves it alone (drop it, or let its own drill finish, then verify again)`,
    );
  }
  const options: MongoClientOptions = {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    appName: "mongo-backup-manager-drill",
    lookup: checkingLookup("mongodb", () => allowlist),
  };
  const username = new ConnectionString(uri).username;
  if (username && password) options.auth = { username: decodeURIComponent(username), password };
  const client = new MongoClient(uri, options);
  return {
    label: drillTargetLabel({ kind: "sandbox", server_id: server.id }),
    connection: { uri, password },
    database: scratch,
    client,
    startupMs: 0,
    recheck: () => checkServerAddresses(deps, uri),
    cleanUp: async () => {
      try {
        await client.db(scratch).dropDatabase();
      } catch (error) {
        deps.log.warn({ drill_id: drill.id, err: error }, "dropping the scratch database failed");
      } finally {
        await client.close().catch(() => undefined);
      }
      // The proof of cleanup is the listing, not the drop's answer.
      if ((await databases()).includes(scratch)) {
        throw new JobFailedError(
          `the scratch database ${scratch} could not be dropped from sandbox ${server.name}: drop it by hand`,
        );
      }
    },
  };
}

/** Makes the drill's target ready. Whatever it started or made is cleaned up by `cleanUp`. */
export async function prepareTarget(
  deps: EngineDeps,
  drill: Drill,
  signal: AbortSignal,
  secrets: Array<string | undefined>,
): Promise<PreparedTarget> {
  if (drill.target.kind === "sandbox")
    return await prepareSandbox(deps, drill, drill.target.server_id, secrets);
  if (!deps.drillServer) throw new JobFailedError("no throwaway server is configured (MBM_DRILL_SERVER)");
  return await prepareEphemeral(deps, deps.drillServer, drill.database, signal);
}
