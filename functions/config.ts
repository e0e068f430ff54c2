// Configuration from the environment, parsed once with zod: every variable the product reads is
// here (composition.ts turns it into adapters). Only names
// and ids travel in the environment: never a password (local mode's key is the one exception, and
// it protects the secrets file rather than being a server credential).
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { OutboundAllowlist } from "#core/entities.ts";

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/**
 * The log level, read apart from the rest: loggers are made when a module loads, before a function
 * parses its configuration. An unknown level is an error, as any other bad variable.
 */
export function logLevel(env: NodeJS.ProcessEnv = process.env): (typeof logLevels)[number] {
  const result = z
    .enum(logLevels)
    .default("info")
    .safeParse(env.MBM_LOG_LEVEL || undefined);
  if (!result.success)
    throw new Error(`invalid configuration: MBM_LOG_LEVEL: one of ${logLevels.join(", ")}`);
  return result.data;
}

/** `a,b,c` (spaces allowed) as a list; absent or empty is an empty list. */
const commaList = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? "")
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  );

/**
 * The throwaway server's arguments: a JSON array of strings, or words separated by spaces. `{port}`
 * and `{dbpath}` are replaced in each argument after splitting, so a data dir may hold spaces.
 */
const argumentTemplate = z
  .string()
  .min(1)
  .transform((text, ctx) => {
    if (!text.trimStart().startsWith("[")) return text.trim().split(/\s+/);
    const parsed = z.array(z.string()).safeParse(
      (() => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return undefined;
        }
      })(),
    );
    if (parsed.success) return parsed.data;
    ctx.addIssue({ code: "custom", message: "a JSON array of strings, or words separated by spaces" });
    return z.NEVER;
  })
  .refine((args) => args.some((a) => a.includes("{port}")) && args.some((a) => a.includes("{dbpath}")), {
    message: "must contain {port} and {dbpath}",
  });

/** The official image's mongod on loopback only, its data in the drill's temp dir. */
export const MONGOD_DRILL_ARGS = "--dbpath {dbpath} --port {port} --bind_ip 127.0.0.1 --nounixsocket --quiet";

/**
 * Local mode's throwaway server: FerretDB on a throwaway PostgreSQL cluster, started by
 * scripts/throwaway-ferretdb.ts (no mongod here; README "Restore drills" says why this one).
 */
export const LOCAL_DRILL_SERVER_ARGS = JSON.stringify([
  fileURLToPath(new URL("../scripts/throwaway-ferretdb.ts", import.meta.url)),
  "--port",
  "{port}",
  "--dir",
  "{dbpath}",
]);

const Common = z.object({
  MBM_MONGODUMP: z.string().min(1).default("mongodump"),
  MBM_MONGORESTORE: z.string().min(1).default("mongorestore"),
  /** Seconds the tools look for a reachable server; 30 is the MongoDB drivers' default. */
  MBM_SERVER_SELECTION_TIMEOUT_S: z.coerce.number().int().min(1).max(600).default(30),
  /** How often a running job's progress (bytes so far) is written to its record. */
  MBM_PROGRESS_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  MBM_LOG_LEVEL: z.enum(logLevels).default("info"),
  /** The task's own runner reference when its launcher knows it (see task-image/src/main.ts). */
  MBM_RUNNER_REF: z.string().min(1).optional(),
  /** Set by ECS in each container: where the task reads its own ARN. */
  ECS_CONTAINER_METADATA_URI_V4: z.url().optional(),
  /**
   * CIDRs (comma-separated) the task admits for MongoDB servers besides the settings'
   * outbound_allowlist. Local mode sets loopback; a deployment on AWS leaves it empty.
   */
  MBM_MONGODB_ALLOWLIST: commaList.pipe(OutboundAllowlist),
  /** The restore drill's throwaway server (an ephemeral target): its binary and arguments. */
  MBM_DRILL_SERVER: z.string().min(1).default("mongod"),
  MBM_DRILL_SERVER_ARGS: argumentTemplate.default(MONGOD_DRILL_ARGS.split(" ")),
  /** Seconds the throwaway server has to accept connections. */
  MBM_DRILL_SERVER_START_TIMEOUT_S: z.coerce.number().int().min(1).max(600).default(60),
});

const AwsEnv = Common.extend({
  MBM_ADAPTERS: z.literal("aws"),
  MBM_TABLE_NAME: z.string().min(3),
  MBM_BUCKET: z.string().min(3),
  MBM_SECRET_PREFIX: z.string().min(1).default("mbm/servers/"),
  MBM_KMS_KEY_ID: z.string().min(1).optional(),
  /** The size multipart parts grow to from 8 MiB. 128 MiB: 1.18 TiB per archive; see README. */
  MBM_S3_MAX_PART_SIZE_MIB: z.coerce.number().int().min(5).max(5120).default(128),
  AWS_ENDPOINT_URL: z.url().optional(),
  // Alerts (composition.ts): without a bus, events go to the log.
  MBM_EVENT_BUS_NAME: z.string().min(1).optional(),
  MBM_ALERT_TOPIC_ARN: z.string().startsWith("arn:").optional(),
  // The ECS runner: all of cluster, task definition and subnets, or no runner (jobs stay queued).
  MBM_ECS_CLUSTER: z.string().min(1).optional(),
  MBM_TASK_DEFINITION: z.string().min(1).optional(),
  MBM_TASK_CONTAINER: z.string().min(1).default("task"),
  MBM_TASK_SUBNETS: commaList,
  MBM_TASK_SECURITY_GROUPS: commaList,
  MBM_TASK_ASSIGN_PUBLIC_IP: z.enum(["true", "false"]).default("false"),
  MBM_TASK_CAPACITY_PROVIDER: z.enum(["FARGATE", "FARGATE_SPOT"]).optional(),
  // EventBridge Scheduler: all of group, fan-out function and role, or schedules do not fire.
  MBM_SCHEDULE_GROUP: z.string().min(1).optional(),
  MBM_FAN_OUT_FUNCTION_ARN: z.string().startsWith("arn:").optional(),
  MBM_SCHEDULER_ROLE_ARN: z.string().startsWith("arn:").optional(),
  MBM_SCHEDULER_DLQ_ARN: z.string().startsWith("arn:").optional(),
  MBM_SCHEDULE_NAME_PREFIX: z.string().min(1).optional(),
});

const LocalEnv = Common.extend({
  MBM_ADAPTERS: z.literal("local"),
  MBM_DATA_DIR: z.string().min(1),
  /** base64 of 32 bytes; when absent a 0600 key file in the data dir is used (created once). */
  MBM_SECRET_KEY: z.string().min(1).optional(),
  // Local mode has no mongod: the same launcher starts Node on the FerretDB wrapper.
  MBM_DRILL_SERVER: z.string().min(1).default(process.execPath),
  MBM_DRILL_SERVER_ARGS: argumentTemplate.default(JSON.parse(LOCAL_DRILL_SERVER_ARGS) as string[]),
});

export const EngineEnv = z.discriminatedUnion("MBM_ADAPTERS", [AwsEnv, LocalEnv]);
export type EngineEnv = z.infer<typeof EngineEnv>;
export type AwsEnv = Extract<EngineEnv, { MBM_ADAPTERS: "aws" }>;
export type LocalEnv = Extract<EngineEnv, { MBM_ADAPTERS: "local" }>;

/** Parses the environment; the error names each bad variable (values are not echoed). */
export function parseEnv(env: NodeJS.ProcessEnv = process.env): EngineEnv {
  const result = EngineEnv.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "MBM_ADAPTERS"}: ${i.message}`);
    throw new Error(`invalid configuration: ${problems.join("; ")}`);
  }
  return result.data;
}
