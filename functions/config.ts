// Configuration from the environment, parsed once with zod, and the adapters it selects. Only names
// and ids travel in the environment: never a password (local mode's key is the one exception, and
// it protects the secrets file rather than being a server credential).
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { z } from "zod";
import { DynamoDbMetadataStore } from "#adapters/aws/dynamodb-metadata-store.ts";
import { loadOnFirstCall, once } from "#adapters/load-on-first-call.ts";
import { EncryptedFileSecretStore } from "#adapters/local/encrypted-file-secret-store.ts";
import { FileBlobStore } from "#adapters/local/file-blob-store.ts";
import { FileMetadataStore } from "#adapters/local/file-metadata-store.ts";
import { OutboundAllowlist } from "#core/entities.ts";

import type { BlobStore, DownloadLinker, MetadataStore, SecretStore } from "#core/ports.ts";

const MiB = 1024 * 1024;

const Common = z.object({
  MBM_MONGODUMP: z.string().min(1).default("mongodump"),
  MBM_MONGORESTORE: z.string().min(1).default("mongorestore"),
  /** Seconds the tools look for a reachable server; 30 is the MongoDB drivers' default. */
  MBM_SERVER_SELECTION_TIMEOUT_S: z.coerce.number().int().min(1).max(600).default(30),
  /** How often a running job's progress (bytes so far) is written to its record. */
  MBM_PROGRESS_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  /**
   * CIDRs (comma-separated) the task admits for MongoDB servers besides the settings'
   * outbound_allowlist. Local mode sets loopback; a deployment on AWS leaves it empty.
   */
  MBM_MONGODB_ALLOWLIST: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? "")
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(OutboundAllowlist),
});

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

const AwsEnv = Common.extend({
  MBM_ADAPTERS: z.literal("aws"),
  MBM_TABLE_NAME: z.string().min(3),
  MBM_BUCKET: z.string().min(3),
  MBM_SECRET_PREFIX: z.string().min(1).default("mbm/servers/"),
  MBM_KMS_KEY_ID: z.string().min(1).optional(),
  /** The size multipart parts grow to from 8 MiB. 128 MiB: 1.18 TiB per archive; see README. */
  MBM_S3_MAX_PART_SIZE_MIB: z.coerce.number().int().min(5).max(5120).default(128),
  AWS_ENDPOINT_URL: z.url().optional(),
  // Alerts (functions/wiring.ts): without a bus, events go to the log.
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
});

export const EngineEnv = z.discriminatedUnion("MBM_ADAPTERS", [AwsEnv, LocalEnv]);
export type EngineEnv = z.infer<typeof EngineEnv>;

export interface Adapters {
  store: MetadataStore;
  secrets: SecretStore;
  blobs: BlobStore;
  /** Presigned links on AWS; local mode's server makes its own (it knows its address). */
  downloads?: DownloadLinker;
}

/** Parses the environment; the error names each bad variable (values are not echoed). */
export function parseEnv(env: NodeJS.ProcessEnv = process.env): EngineEnv {
  const result = EngineEnv.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "MBM_ADAPTERS"}: ${i.message}`);
    throw new Error(`invalid configuration: ${problems.join("; ")}`);
  }
  return result.data;
}

export function buildAdapters(config: EngineEnv): Adapters {
  if (config.MBM_ADAPTERS === "aws") {
    // Every request reads the table; the rest load with their SDK clients on first use
    // (load-on-first-call.ts), so a cold start that needs no archive or secret imports neither.
    const s3 = once(async () => {
      const { S3Client } = await import("@aws-sdk/client-s3");
      // The SDK reads AWS_ENDPOINT_URL itself; an emulator on an IP address needs path-style S3.
      return new S3Client({ forcePathStyle: Boolean(config.AWS_ENDPOINT_URL) });
    });
    const kms = config.MBM_KMS_KEY_ID;
    return {
      store: new DynamoDbMetadataStore({ client: new DynamoDBClient({}), tableName: config.MBM_TABLE_NAME }),
      secrets: loadOnFirstCall<SecretStore>(
        async () => {
          const [{ SecretsManagerClient }, { SecretsManagerSecretStore }] = await Promise.all([
            import("@aws-sdk/client-secrets-manager"),
            import("#adapters/aws/secrets-manager-secret-store.ts"),
          ]);
          return new SecretsManagerSecretStore({
            client: new SecretsManagerClient({}),
            prefix: config.MBM_SECRET_PREFIX,
            ...(kms ? { kmsKeyId: kms } : {}),
          });
        },
        { put: true, get: true, delete: true },
      ),
      blobs: loadOnFirstCall<BlobStore>(
        async () => {
          const { S3BlobStore } = await import("#adapters/aws/s3-blob-store.ts");
          return new S3BlobStore({
            client: await s3(),
            bucket: config.MBM_BUCKET,
            maxPartSizeBytes: config.MBM_S3_MAX_PART_SIZE_MIB * MiB,
            ...(kms ? { sse: { kmsKeyId: kms } } : {}),
          });
        },
        { upload: true, download: true, head: true, delete: true },
      ),
      downloads: loadOnFirstCall<DownloadLinker>(
        async () => {
          const { S3PresignedDownloads } = await import("#adapters/aws/s3-presigned-downloads.ts");
          return new S3PresignedDownloads({ client: await s3(), bucket: config.MBM_BUCKET });
        },
        { link: true },
      ),
    };
  }
  const dir = config.MBM_DATA_DIR;
  return {
    store: new FileMetadataStore({ dir: join(dir, "metadata") }),
    secrets: new EncryptedFileSecretStore({
      file: join(dir, "secrets.json.enc"),
      keyFile: join(dir, "secret.key"),
      ...(config.MBM_SECRET_KEY ? { key: config.MBM_SECRET_KEY } : {}),
    }),
    blobs: new FileBlobStore({ dir: join(dir, "blobs") }),
  };
}
