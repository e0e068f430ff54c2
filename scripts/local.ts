// Local mode, what `npm start` runs (after scripts/bootstrap.sh): the API on 127.0.0.1:$PORT with the
// embedded adapters in $DATA_DIR, and unless DEMO=0 a demo MongoDB (FerretDB) with sample data,
// registered as the server "Demo". Ctrl-C stops the jobs (recorded failed), the server, the demo.
//
//   PORT       default 8090
//   DATA_DIR   default .mbm-data in the repository (git-ignored)
//   API_TOKEN  default: generated on first start, kept 0600 in DATA_DIR/api-token
//   API_READ_TOKEN  optional token that may only read (a viewer)
//   DEMO       default 1; 0 starts no demo MongoDB
//   MBM_DEMO_CLUSTER_ROOT  default /var/tmp: where root's demo clusters go (the tests point it elsewhere)
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { MongoClient } from "mongodb";
import type { Actor } from "#core/use-cases/deps.ts";
import { createServer, updateServer } from "#core/use-cases/servers.ts";
import { type LocalServer, startLocalServer } from "#functions/api/server.ts";
import { createLogger } from "#functions/logger.ts";
import { fillDemoData } from "./demo-data.ts";
import {
  demoClusterDir,
  markDemoCluster,
  type RunningMongo,
  removeOrphanDemoClusters,
  sharedDemoRoot,
  startFerretDb,
} from "./local-servers.ts";
import { findTool } from "./processes.ts";

const repoRoot = resolve(import.meta.dirname, "..");
const log = createLogger("local");
const localMode: Actor = { id: "local-mode", role: "operator" };
const demoRoot = process.env.MBM_DEMO_CLUSTER_ROOT || sharedDemoRoot;

let mongo: RunningMongo | undefined;
let local: LocalServer | undefined;

/** A secret kept 0600 in the data dir: read if there, else generated once. */
function keptSecret(file: string, make: () => string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const value = make();
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: "wx" });
  return value;
}

/** MBM_MONGODUMP / MBM_MONGORESTORE override where the tool is found (named in full, for grep). */
const toolOverrides = { mongodump: "MBM_MONGODUMP", mongorestore: "MBM_MONGORESTORE" } as const;
function tool(name: keyof typeof toolOverrides): string {
  return process.env[toolOverrides[name]] || findTool(name);
}

async function startDemo(dataDir: string): Promise<RunningMongo> {
  const dir = demoClusterDir(dataDir, demoRoot);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  markDemoCluster(dir, dataDir);
  const password = keptSecret(join(dataDir, "demo-mongo-password"), () =>
    randomBytes(18).toString("base64url"),
  );
  const mongo = await startFerretDb({ dir, password, durable: true });
  const client = new MongoClient(`mongodb://${mongo.host}:${mongo.port}/?authSource=admin`, {
    auth: { username: mongo.username, password },
    serverSelectionTimeoutMS: 10_000,
  });
  try {
    const { databases } = await fillDemoData(client);
    const counts = Object.entries(databases).map(
      ([db, cols]) => `${db}: ${Object.values(cols).reduce((a, b) => a + b, 0)} documents`,
    );
    log.info({ databases: counts }, "demo MongoDB ready");
  } finally {
    await client.close();
  }
  return mongo;
}

/** Registers the demo MongoDB as "Demo", or points the existing entry at this start's port. */
async function registerDemo(local: LocalServer, mongo: RunningMongo): Promise<void> {
  const { items } = await local.deps.store.servers.list({}, { limit: 100 });
  const existing = items.find((s) => s.name === "Demo");
  const connection = { host: mongo.host, port: mongo.port, username: mongo.username, auth_source: "admin" };
  if (!existing) {
    await createServer(local.deps, localMode, {
      name: "Demo",
      ...connection,
      password: mongo.password,
      tls: false,
    });
  } else if (existing.host !== mongo.host || existing.port !== mongo.port) {
    await updateServer(local.deps, localMode, existing.id, { ...connection, password: mongo.password });
  }
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 8090);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`PORT must be a port number, got ${process.env.PORT}`);
  const dataDir = resolve(process.env.DATA_DIR ?? join(repoRoot, ".mbm-data"));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // A demo cluster outside its data dir (root's, under /var/tmp) goes when its data dir has gone.
  const orphans = removeOrphanDemoClusters(demoRoot);
  if (orphans.length > 0) log.info({ removed: orphans }, "removed demo clusters whose data dir is gone");
  const token =
    process.env.API_TOKEN ||
    keptSecret(join(dataDir, "api-token"), () => randomBytes(24).toString("base64url"));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn("second signal: exiting now");
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, "stopping: jobs in progress are recorded as failed");
    await local?.close();
    await mongo?.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  if (process.env.DEMO !== "0") mongo = await startDemo(dataDir);
  local = await startLocalServer({
    port,
    dataDir,
    token,
    viewerToken: process.env.API_READ_TOKEN || undefined,
    secretKey: process.env.MBM_SECRET_KEY || undefined,
    tools: { mongodump: tool("mongodump"), mongorestore: tool("mongorestore") },
    log,
  });
  if (mongo) await registerDemo(local, mongo);

  process.stdout.write(
    [
      "",
      "  MongoDB backup manager: local mode",
      `  Console:  ${local.url}/#token=${token}`,
      `  API:      ${local.url}/api   (OpenAPI: ${local.url}/api/openapi.json)`,
      `  Token:    send "Authorization: Bearer <token>"; it is kept in ${join(dataDir, "api-token")} unless API_TOKEN is set`,
      `  Data:     ${dataDir}`,
      mongo
        ? `  Demo:     MongoDB (FerretDB) on ${mongo.host}:${mongo.port}, registered as server "Demo"`
        : "  Demo:     off (DEMO=0)",
      "  Ctrl-C stops everything.",
      "",
      "",
    ].join("\n"),
  );
}

main().catch(async (error: unknown) => {
  log.error({ err: error }, "local mode could not start");
  // Also plainly, for a reader of the terminal (the log line is JSON): e.g. the data dir in use.
  process.stderr.write(
    `\nlocal mode could not start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  await local?.close().catch(() => undefined);
  await mongo?.stop().catch(() => undefined);
  process.exit(1);
});
