// Builds the engine's world for a test: a metadata store, secret store and blob store (AWS adapters
// on moto, or the local adapters in a temp dir), a server record for the test FerretDB with its
// password in the secret store, and a way to run the real task entry point as a child process.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { inject } from "vitest";
import { createMetadataTable, DynamoDbMetadataStore } from "#adapters/aws/dynamodb-metadata-store.ts";
import { S3BlobStore } from "#adapters/aws/s3-blob-store.ts";
import { SecretsManagerSecretStore } from "#adapters/aws/secrets-manager-secret-store.ts";
import { EncryptedFileSecretStore } from "#adapters/local/encrypted-file-secret-store.ts";
import { FileBlobStore } from "#adapters/local/file-blob-store.ts";
import { FileMetadataStore } from "#adapters/local/file-metadata-store.ts";
import type { Backup, Compression, Drill, DrillTarget, Restore, Server } from "#core/entities.ts";
import { loopbackCidrs } from "#core/outbound-policy.ts";
import type { BlobStore, MetadataStore, SecretStore } from "#core/ports.ts";
import { queueDrill as queueDrillRecord } from "#core/use-cases/drills.ts";
import { LOCAL_DRILL_SERVER_ARGS } from "#functions/config.ts";
import { listPartials, listUploadsAndObjects } from "#test/support/blob-leftovers.ts";
import { findTool } from "../../scripts/processes.ts";
import { awsClientConfig, awsEndpointEnv, scratchDir, uniqueName } from "./env.ts";
import { makeBackup, makeRestore, makeServer } from "./fixtures.ts";

export const repoRoot = resolve(import.meta.dirname, "../..");
const MiB = 1024 * 1024;

export function toolPath(name: "mongodump" | "mongorestore"): string {
  return findTool(name);
}

export interface EngineWorld {
  kind: "aws" | "local";
  store: MetadataStore;
  secrets: SecretStore;
  blobs: BlobStore;
  /** Environment for `node task-image/src/main.ts` that selects the same adapters. */
  env: Record<string, string>;
  /** Blob keys and in-progress uploads/partial files left in the blob store. */
  leftovers(prefix: string): Promise<{ objects: string[]; uploads: string[] }>;
  bucket?: string;
}

const commonEnv = () => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  MBM_MONGODUMP: toolPath("mongodump"),
  MBM_MONGORESTORE: toolPath("mongorestore"),
  MBM_SERVER_SELECTION_TIMEOUT_S: "3",
  MBM_PROGRESS_INTERVAL_MS: "100",
  MBM_LOG_LEVEL: "debug",
  // The test FerretDB runs on loopback, which the outbound policy refuses for MongoDB by default.
  MBM_MONGODB_ALLOWLIST: loopbackCidrs.join(","),
  // The restore drill's throwaway server: FerretDB through scripts/throwaway-ferretdb.ts, as local
  // mode has it, for both adapter sets (the AWS default, mongod, does not exist here).
  MBM_DRILL_SERVER: process.execPath,
  MBM_DRILL_SERVER_ARGS: LOCAL_DRILL_SERVER_ARGS,
});

export async function awsWorld(): Promise<EngineWorld> {
  const config = awsClientConfig("dynamodb");
  const tableName = uniqueName("engine");
  const bucket = uniqueName("engine-backups");
  const prefix = `${uniqueName("mbm")}/servers/`;
  const dynamo = new DynamoDBClient(config);
  await createMetadataTable(dynamo, tableName);
  const s3 = new S3Client(awsClientConfig("s3"));
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  // Versioned, as the CDK stack makes it: backups record their object's version and restores read it.
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }),
  );
  return {
    kind: "aws",
    store: new DynamoDbMetadataStore({ client: dynamo, tableName }),
    secrets: new SecretsManagerSecretStore({
      client: new SecretsManagerClient(awsClientConfig("secretsmanager")),
      prefix,
    }),
    // 5 MiB parts (S3's minimum) so a test-sized archive really goes through multipart.
    blobs: new S3BlobStore({ client: s3, bucket, maxPartSizeBytes: 5 * MiB }),
    env: {
      ...commonEnv(),
      MBM_ADAPTERS: "aws",
      MBM_TABLE_NAME: tableName,
      MBM_BUCKET: bucket,
      MBM_SECRET_PREFIX: prefix,
      MBM_S3_MAX_PART_SIZE_MIB: "5",
      ...awsEndpointEnv(),
      AWS_REGION: config.region,
      AWS_ACCESS_KEY_ID: config.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: config.credentials.secretAccessKey,
    },
    leftovers: (p) => listUploadsAndObjects(s3, bucket, p),
    bucket,
  };
}

export async function localWorld(): Promise<EngineWorld> {
  const dir = scratchDir("mbm-local-");
  const blobDir = join(dir, "blobs");
  return {
    kind: "local",
    store: new FileMetadataStore({ dir: join(dir, "metadata") }),
    secrets: new EncryptedFileSecretStore({
      file: join(dir, "secrets.json.enc"),
      keyFile: join(dir, "secret.key"),
    }),
    blobs: new FileBlobStore({ dir: blobDir }),
    env: { ...commonEnv(), MBM_ADAPTERS: "local", MBM_DATA_DIR: dir },
    leftovers: async (prefix) => {
      const root = join(blobDir, prefix);
      const objects = existsSync(root)
        ? (
            readdirSync(root, { recursive: true, withFileTypes: true }) as Array<{
              isFile(): boolean;
              name: string;
            }>
          )
            .filter((e) => e.isFile() && !e.name.endsWith(".partial"))
            .map((e) => e.name)
        : [];
      return { objects, uploads: existsSync(blobDir) ? await listPartials(blobDir) : [] };
    },
  };
}

/** Registers the test FerretDB as a server, with `password` (default: the right one) stored. */
export async function registerServer(
  world: EngineWorld,
  overrides: Partial<Server> = {},
  password: string = inject("mongo").password,
): Promise<Server> {
  const m = inject("mongo");
  const server = makeServer({
    name: "test ferretdb",
    host: m.host,
    port: m.port,
    username: m.username,
    tls: false,
    options: {},
    ...overrides,
  });
  await world.store.servers.create(server);
  await world.secrets.put(server.id, password);
  return server;
}

export async function queueBackup(
  world: EngineWorld,
  server: Server,
  database: string,
  compression: Compression = "gzip",
): Promise<Backup> {
  return await world.store.backups.create(makeBackup({ server_id: server.id, database, compression }));
}

export async function queueRestore(
  world: EngineWorld,
  backup: Backup,
  target: { server: Server; database: string; collections?: string[]; drop?: boolean },
): Promise<Restore> {
  return await world.store.restores.create(
    makeRestore({
      backup_id: backup.id,
      source_server_id: backup.server_id,
      source_database: backup.database,
      target_server_id: target.server.id,
      target_database: target.database,
      drop: target.drop ?? false,
      collections: target.collections ?? null,
    }),
  );
}

/** A queued drill of `backup` into `target` (default: a throwaway server). */
export async function queueDrill(
  world: EngineWorld,
  backup: Backup,
  target: DrillTarget = { kind: "ephemeral" },
): Promise<Drill> {
  return await queueDrillRecord({ store: world.store }, backup, target, "manual", "test");
}

export interface EntryRun {
  child: ChildProcess;
  result: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
}

/** Runs `node task-image/src/main.ts <command> <id>` with the world's environment. */
export function runEntryPoint(
  world: EngineWorld,
  command: "backup" | "restore" | "import" | "verify",
  id: string,
): EntryRun {
  const child = spawn(process.execPath, [join(repoRoot, "task-image/src/main.ts"), command, id], {
    cwd: repoRoot,
    env: world.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const result = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>(
    (done) => {
      child.once("close", (code, signal) => done({ code, signal, output }));
    },
  );
  return { child, result };
}

/** Pids of processes whose parent is `parentPid`, whose program is `name`, and whose command line
 * contains `marker` (e.g. `--config=`, to skip a `mongodump --version` run before the real one). */
export function childProcesses(parentPid: number, name: string, marker = ""): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (ppid === parentPid && comm === name && processExposure(Number(entry)).cmdline.includes(marker)) {
        pids.push(Number(entry));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Waits until `parentPid` runs `name` with `--config=` (a real dump or restore); returns its pid. */
export async function waitForChild(parentPid: number, name: string, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [pid] = childProcesses(parentPid, name, "--config=");
    if (pid) return pid;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no ${name} child of ${parentPid} within ${timeoutMs} ms`);
}

/** The command line and environment of a live process, as other users of the machine see them. */
export function processExposure(pid: number): { cmdline: string; environ: string } {
  const read = (f: string) => {
    try {
      return readFileSync(`/proc/${pid}/${f}`).toString("utf8").replaceAll("\0", " ");
    } catch {
      return "";
    }
  };
  return { cmdline: read("cmdline"), environ: read("environ") };
}
