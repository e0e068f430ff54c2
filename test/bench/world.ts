// The engine's world for one store: the AWS adapters on moto (DynamoDB table, S3 bucket, Secrets
// Manager) or the local adapters in a scratch directory, the FerretDB server registered with its
// password, and the environment that makes `node task-image/src/main.ts` use the same adapters.
// Engine settings are the production defaults (part size, progress interval): the benchmark
// measures the product as it ships.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { createMetadataTable, DynamoDbMetadataStore } from "#adapters/aws/dynamodb-metadata-store.ts";
import { S3BlobStore } from "#adapters/aws/s3-blob-store.ts";
import { SecretsManagerSecretStore } from "#adapters/aws/secrets-manager-secret-store.ts";
import { EncryptedFileSecretStore } from "#adapters/local/encrypted-file-secret-store.ts";
import { FileBlobStore } from "#adapters/local/file-blob-store.ts";
import { FileMetadataStore } from "#adapters/local/file-metadata-store.ts";
import type { Server } from "#core/entities.ts";
import { newId } from "#core/ids.ts";
import { loopbackCidrs } from "#core/outbound-policy.ts";
import type { BlobStore, MetadataStore, SecretStore } from "#core/ports.ts";
import { LOCAL_DRILL_SERVER_ARGS } from "#functions/config.ts";
import { makeServer } from "#test/support/fixtures.ts";
import { findTool } from "../../scripts/processes.ts";
import { processTree, sampleTreeRss } from "./proc.ts";
import type { BenchServers } from "./servers.ts";

export const repoRoot = resolve(import.meta.dirname, "../..");

export const clockTicksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

export type StoreKind = "s3" | "local";

export interface EngineWorld {
  kind: StoreKind;
  store: MetadataStore;
  secrets: SecretStore;
  blobs: BlobStore;
  server: Server;
  /** The task's environment: these adapters, the tools, production defaults otherwise. */
  env: Record<string, string>;
}

export function awsClientConfig(endpoint: string) {
  return {
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    forcePathStyle: true,
  };
}

const toolEnv = () => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  MBM_MONGODUMP: findTool("mongodump"),
  MBM_MONGORESTORE: findTool("mongorestore"),
  MBM_LOG_LEVEL: "warn",
  // The bench's FerretDB runs on loopback, which the outbound policy refuses for MongoDB by default.
  MBM_MONGODB_ALLOWLIST: loopbackCidrs.join(","),
  // The restore drill's throwaway server: FerretDB on a throwaway PostgreSQL, as in local mode.
  MBM_DRILL_SERVER: process.execPath,
  MBM_DRILL_SERVER_ARGS: LOCAL_DRILL_SERVER_ARGS,
});

export async function engineWorld(kind: StoreKind, servers: BenchServers): Promise<EngineWorld> {
  let world: Omit<EngineWorld, "server">;
  if (kind === "s3") {
    const config = awsClientConfig(servers.awsEndpoint);
    const suffix = newId().slice(-8);
    const tableName = `bench-engine-${suffix}`;
    const bucket = `bench-backups-${suffix}`;
    const dynamo = new DynamoDBClient(config);
    await createMetadataTable(dynamo, tableName);
    const s3 = new S3Client(config);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // Versioned, as the CDK stack makes it: a backup records its version and a restore reads it in one pass.
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }),
    );
    const prefix = `bench-${suffix}/servers/`;
    world = {
      kind,
      store: new DynamoDbMetadataStore({ client: dynamo, tableName }),
      secrets: new SecretsManagerSecretStore({ client: new SecretsManagerClient(config), prefix }),
      blobs: new S3BlobStore({ client: s3, bucket }),
      env: {
        ...toolEnv(),
        MBM_ADAPTERS: "aws",
        MBM_TABLE_NAME: tableName,
        MBM_BUCKET: bucket,
        MBM_SECRET_PREFIX: prefix,
        AWS_ENDPOINT_URL: config.endpoint,
        AWS_REGION: config.region,
        AWS_ACCESS_KEY_ID: config.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: config.credentials.secretAccessKey,
      },
    };
  } else {
    const dir = join(servers.scratch, `local-${newId().slice(-8)}`);
    world = {
      kind,
      store: new FileMetadataStore({ dir: join(dir, "metadata") }),
      secrets: new EncryptedFileSecretStore({
        file: join(dir, "secrets.json.enc"),
        keyFile: join(dir, "secret.key"),
      }),
      blobs: new FileBlobStore({ dir: join(dir, "blobs") }),
      env: { ...toolEnv(), MBM_ADAPTERS: "local", MBM_DATA_DIR: dir },
    };
  }
  const { mongo } = servers;
  const server = makeServer({
    name: "bench ferretdb",
    host: mongo.host,
    port: mongo.port,
    username: mongo.username,
    tls: false,
    options: {},
  });
  await world.store.servers.create(server);
  await world.secrets.put(server.id, mongo.password);
  return { ...world, server };
}

export interface ProcessRun {
  ms: number;
  /** The engine's own CPU time (user + system, its children excluded), in ms: runTask only. */
  cpuMs?: number;
  /** CPU time of the children the engine waited for (the tool), in ms: runTask only. */
  toolCpuMs?: number;
  /** A restore's stages as its completion log line gives them (`stages_ms`): runTask only. */
  stagesMs?: Record<string, number>;
  /** Peak summed RSS of the process and its children, in bytes. */
  peakRss: number;
  /** The last few KiB of its stdout and stderr. */
  output: string;
}

/** The children timedRun is waiting for: what a Ctrl-C or SIGTERM of the benchmark must stop too. */
const running = new Set<ChildProcess>();

/** SIGTERMs every running child and everything below it (the engine's mongodump, the shell's tool). */
export function stopRunning(): void {
  const pids = [...running].flatMap((c) => (c.pid === undefined ? [] : processTree(c.pid)));
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // it ended meanwhile
    }
  }
}

/**
 * Runs a command to completion, timing it from spawn to exit and sampling its process tree's RSS.
 * Throws with the tail of its output when it exits non-zero.
 */
export async function timedRun(
  command: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<ProcessRun> {
  const start = performance.now();
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: options.env ?? { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const sampler = child.pid === undefined ? undefined : sampleTreeRss(child.pid);
  let output = "";
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let exit: [number | null, NodeJS.Signals | null];
  let ms: number;
  let peakRss = 0;
  try {
    exit = await new Promise((done, fail) => {
      child.once("error", fail);
      child.once("close", (c, s) => done([c, s]));
    });
    ms = performance.now() - start;
  } finally {
    // Also on a spawn error: the sampler's timer would otherwise keep the benchmark alive.
    peakRss = sampler?.stop() ?? 0;
    running.delete(child);
  }
  const [code, signal] = exit;
  if (code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited with ${signal ?? code}:\n${output}`);
  }
  return { ms, peakRss, output };
}

const engineCpuModule = join(repoRoot, "test/bench/engine-cpu.ts");

/** The engine's own and its children's CPU ms from the line engine-cpu.ts prints at exit. */
export function parseEngineCpu(
  output: string,
  ticksPerSecond: number,
): { cpuMs: number; toolCpuMs: number } | undefined {
  const match = /^bench-engine-cpu (\d+) (\d+) (-?\d+)$/m.exec(output);
  if (!match) return undefined;
  const [, user, system, childTicks] = match.map(Number) as [number, number, number, number];
  return {
    cpuMs: (user + system) / 1000,
    toolCpuMs: childTicks < 0 ? Number.NaN : (childTicks * 1000) / ticksPerSecond,
  };
}

/**
 * Runs the engine's real entry point for one job, as Fargate and local mode do, with engine-cpu.ts
 * preloaded to report the process's CPU time at exit (one small module: no measurable start-up cost).
 */
export async function runTask(
  world: EngineWorld,
  command: "backup" | "restore" | "verify",
  id: string,
): Promise<ProcessRun> {
  // A restore or drill logs at info (as in production) for its completion line's stage times; a few lines.
  const env = command === "backup" ? world.env : { ...world.env, MBM_LOG_LEVEL: "info" };
  const run = await timedRun(
    process.execPath,
    ["--import", engineCpuModule, join(repoRoot, "task-image/src/main.ts"), command, id],
    { env },
  );
  const cpu = parseEngineCpu(run.output, clockTicksPerSecond);
  if (!cpu) throw new Error(`the engine reported no CPU time:\n${run.output}`);
  const stagesMs = command === "backup" ? undefined : parseStages(run.output);
  return { ...run, ...cpu, ...(stagesMs ? { stagesMs } : {}) };
}

/** `stages_ms` of the engine's "restore completed" or "drill passed" log line (JSON), if the output holds one. */
export function parseStages(output: string): Record<string, number> | undefined {
  const line = output.split("\n").find((l) => l.includes('"stages_ms"'));
  if (!line) return undefined;
  try {
    return (JSON.parse(line) as { stages_ms?: Record<string, number> }).stages_ms;
  } catch {
    return undefined; // cut by the output's tail limit
  }
}
