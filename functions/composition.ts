// The composition root: the one place that turns parsed configuration (config.ts) into the use
// cases' dependencies. Every entry point builds its dependencies here: the five Lambda functions
// (awsDepsOnce), local mode's server (composeCore with a task environment), the task's main.ts
// (composeEngine), and the tests, which pass overrides instead of wiring adapters by hand.
//
// On AWS only the DynamoDB store is imported up front; every other adapter, its SDK client and the
// MongoDB driver load on their first call (adapters/load-on-first-call.ts), so a Lambda cold start
// loads what its first request needs. Missing optional settings leave a part out, and health says
// so: no runner means jobs stay queued, no scheduler means schedules do not fire, no bus means
// events go to the log.
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDbMetadataStore } from "#adapters/aws/dynamodb-metadata-store.ts";
import { HttpWebhookSender } from "#adapters/http-webhook.ts";
import { importSourcesOf } from "#adapters/import-sources.ts";
import { loadOnFirstCall, once } from "#adapters/load-on-first-call.ts";
import { ChildProcessJobRunner, processAlive } from "#adapters/local/child-process-job-runner.ts";
import { CronTicker } from "#adapters/local/cron-ticker.ts";
import { EncryptedFileSecretStore } from "#adapters/local/encrypted-file-secret-store.ts";
import { FileBlobStore } from "#adapters/local/file-blob-store.ts";
import { FileMetadataStore } from "#adapters/local/file-metadata-store.ts";
import { LogEventBus } from "#adapters/log/log-event-bus.ts";
import { parseRunnerRef } from "#core/job-refs.ts";
import type {
  BlobStore,
  DownloadLinker,
  EventBus,
  ImportSources,
  JobRunner,
  MetadataStore,
  MongoInspector,
  Notifier,
  Scheduler,
  SecretStore,
} from "#core/ports.ts";
import type { Alerts, CoreDeps } from "#core/use-cases/deps.ts";
import { fanOutSchedule } from "#core/use-cases/fan-out.ts";
import { taskExited } from "#core/use-cases/job-recovery.ts";
import { type AwsEnv, type EngineEnv, parseEnv } from "./config.ts";
import type { Logger } from "./logger.ts";

const MiB = 1024 * 1024;

/** The storage ports, and download links where the store makes them (S3 presigned URLs). */
export interface Adapters {
  store: MetadataStore;
  secrets: SecretStore;
  blobs: BlobStore;
  /** Presigned links on AWS; local mode's server makes its own (it knows its address). */
  downloads?: DownloadLinker;
}

/** What the task reads: the storage ports, and the dumps under imports/ that an import reads. */
export type EngineAdapters = Adapters & { imports: ImportSources };

export function composeAdapters(config: EngineEnv): EngineAdapters {
  if (config.MBM_ADAPTERS === "local") {
    const dir = config.MBM_DATA_DIR;
    return {
      // DATA_DIR/imports/<...>: the key is the path under the data dir.
      imports: importSourcesOf(new FileBlobStore({ dir })),
      store: new FileMetadataStore({ dir: join(dir, "metadata") }),
      secrets: new EncryptedFileSecretStore({
        file: join(dir, "secrets.json.enc"),
        keyFile: join(dir, "secret.key"),
        ...(config.MBM_SECRET_KEY ? { key: config.MBM_SECRET_KEY } : {}),
      }),
      blobs: new FileBlobStore({ dir: join(dir, "blobs") }),
    };
  }
  const s3 = once(async () => {
    const { S3Client } = await import("@aws-sdk/client-s3");
    // The SDK reads AWS_ENDPOINT_URL itself; an emulator on an IP address needs path-style S3.
    return new S3Client({ forcePathStyle: Boolean(config.AWS_ENDPOINT_URL) });
  });
  const kms = config.MBM_KMS_KEY_ID;
  const blobs = loadOnFirstCall<BlobStore>(
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
  );
  return {
    // The same bucket: imports/<...> next to backups/ (the task role may read imports/*).
    imports: importSourcesOf(blobs),
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
    blobs,
    downloads: loadOnFirstCall<DownloadLinker>(
      async () => {
        const { S3PresignedDownloads } = await import("#adapters/aws/s3-presigned-downloads.ts");
        return new S3PresignedDownloads({ client: await s3(), bucket: config.MBM_BUCKET });
      },
      { link: true },
    ),
  };
}

/** Events to the bus (or the log), failures to SNS on AWS, and the settings' webhook everywhere. */
export function composeAlerts(config: EngineEnv, log: Logger): Alerts {
  const webhook = new HttpWebhookSender();
  if (config.MBM_ADAPTERS === "local") return { bus: new LogEventBus(log), notifiers: [], webhook };
  const topicArn = config.MBM_ALERT_TOPIC_ARN;
  const busName = config.MBM_EVENT_BUS_NAME;
  const notifiers: Notifier[] = topicArn
    ? [
        loadOnFirstCall<Notifier>(
          async () => {
            const [{ SNSClient }, { SnsNotifier }] = await Promise.all([
              import("@aws-sdk/client-sns"),
              import("#adapters/aws/sns-notifier.ts"),
            ]);
            return new SnsNotifier({ client: new SNSClient({}), topicArn });
          },
          { notify: true },
          { channel: "sns" },
        ),
      ]
    : [];
  const bus: EventBus = busName
    ? loadOnFirstCall<EventBus>(
        async () => {
          const [{ EventBridgeClient }, { EventBridgeEventBus }] = await Promise.all([
            import("@aws-sdk/client-eventbridge"),
            import("#adapters/aws/eventbridge-event-bus.ts"),
          ]);
          return new EventBridgeEventBus({ client: new EventBridgeClient({}), busName });
        },
        { publish: true },
      )
    : new LogEventBus(log);
  return { bus, notifiers, webhook };
}

function ecsRunner(config: AwsEnv): JobRunner | null {
  if (!config.MBM_ECS_CLUSTER || !config.MBM_TASK_DEFINITION || config.MBM_TASK_SUBNETS.length === 0) {
    return null;
  }
  const { MBM_ECS_CLUSTER: cluster, MBM_TASK_DEFINITION: taskDefinition } = config;
  return loadOnFirstCall<JobRunner>(
    async () => {
      const [{ ECSClient }, { EcsJobRunner }] = await Promise.all([
        import("@aws-sdk/client-ecs"),
        import("#adapters/aws/ecs-job-runner.ts"),
      ]);
      return new EcsJobRunner({
        client: new ECSClient({}),
        cluster,
        taskDefinition,
        containerName: config.MBM_TASK_CONTAINER,
        subnets: config.MBM_TASK_SUBNETS,
        securityGroups: config.MBM_TASK_SECURITY_GROUPS,
        assignPublicIp: config.MBM_TASK_ASSIGN_PUBLIC_IP === "true",
        ...(config.MBM_TASK_CAPACITY_PROVIDER ? { capacityProvider: config.MBM_TASK_CAPACITY_PROVIDER } : {}),
      });
    },
    { start: true, stop: true },
  );
}

function eventBridgeScheduler(config: AwsEnv): Scheduler | null {
  if (!config.MBM_SCHEDULE_GROUP || !config.MBM_FAN_OUT_FUNCTION_ARN || !config.MBM_SCHEDULER_ROLE_ARN) {
    return null;
  }
  const {
    MBM_SCHEDULE_GROUP: groupName,
    MBM_FAN_OUT_FUNCTION_ARN: targetArn,
    MBM_SCHEDULER_ROLE_ARN: roleArn,
  } = config;
  return loadOnFirstCall<Scheduler>(
    async () => {
      const [{ SchedulerClient }, { EventBridgeScheduler }] = await Promise.all([
        import("@aws-sdk/client-scheduler"),
        import("#adapters/aws/eventbridge-scheduler.ts"),
      ]);
      return new EventBridgeScheduler({
        client: new SchedulerClient({}),
        groupName,
        targetArn,
        roleArn,
        deadLetterArn: config.MBM_SCHEDULER_DLQ_ARN,
        namePrefix: config.MBM_SCHEDULE_NAME_PREFIX,
      });
    },
    { upsert: true, remove: true },
  );
}

/** The MongoDB driver: only the connection test and database discovery use it. */
function driverInspector(timeoutMs: number, allowlist: readonly string[]): MongoInspector {
  return loadOnFirstCall<MongoInspector>(
    async () => {
      const { MongoDriverInspector } = await import("#adapters/mongo-driver-inspector.ts");
      return new MongoDriverInspector({ timeoutMs, allowlist });
    },
    { test: true, listDatabases: true },
  );
}

/**
 * Local mode's runner: each job is a child process running the task entry point with `taskEnv`.
 * When one ends without recording its job's end, the job is failed and announced, as the
 * task-state function does on AWS. `deps` is a getter: the runner is itself one of the deps.
 */
export function childProcessRunner(
  taskEnv: Record<string, string>,
  deps: () => CoreDeps,
  log: Logger,
): ChildProcessJobRunner {
  return new ChildProcessJobRunner({
    env: taskEnv,
    log: log.child({ component: "runner" }),
    onExit: (job, exit) => {
      taskExited(deps(), job, exit).catch((err: unknown) =>
        log.error({ err }, "handling a task's end failed"),
      );
    },
  });
}

/** Whether a recorded runner_ref names a local task process that still runs. */
export function localTaskAlive(runnerRef: string | null): boolean {
  const ref = parseRunnerRef(runnerRef);
  return ref?.where === "local" && processAlive(ref.pid);
}

export interface ComposeOptions {
  log: Logger;
  /**
   * Local mode: the environment of each task process (the same configuration, serialised). With it
   * the runner is a child-process runner and the scheduler an in-process cron ticker (not started:
   * the server starts it with the stored schedules).
   */
  taskEnv?: Record<string, string>;
  /** Replaces parts (tests: a world's stores, a quiet bus, no runner...). */
  overrides?: Partial<CoreDeps & Pick<Adapters, "downloads">>;
  /** The connection test's and discovery's timeout. Default 5 s. */
  inspectorTimeoutMs?: number;
  /** CIDRs admitted for MongoDB hosts besides the settings' allowlist. Default MBM_MONGODB_ALLOWLIST. */
  mongoAllowlist?: readonly string[];
}

export type Composition = CoreDeps & Pick<Adapters, "downloads">;

/** Everything the use cases need, for the configured deployment. */
export function composeCore(config: EngineEnv, options: ComposeOptions): Composition {
  const { log, overrides = {} } = options;
  const part = <K extends keyof Composition>(key: K, make: () => Composition[K]): Composition[K] =>
    key in overrides ? (overrides[key] as Composition[K]) : make();
  const adapters: Adapters =
    overrides.store && overrides.secrets && overrides.blobs
      ? { store: overrides.store, secrets: overrides.secrets, blobs: overrides.blobs }
      : composeAdapters(config);
  const deps: Composition = {
    store: part("store", () => adapters.store),
    secrets: part("secrets", () => adapters.secrets),
    blobs: part("blobs", () => adapters.blobs),
    inspector: part("inspector", () =>
      driverInspector(
        options.inspectorTimeoutMs ?? 5_000,
        options.mongoAllowlist ?? config.MBM_MONGODB_ALLOWLIST,
      ),
    ),
    runner: part("runner", () => {
      if (options.taskEnv) return childProcessRunner(options.taskEnv, () => deps, log);
      return config.MBM_ADAPTERS === "aws" ? ecsRunner(config) : null;
    }),
    scheduler: part("scheduler", () => {
      if (options.taskEnv) {
        // Schedules fire from an in-process ticker; fan-out is idempotent per (schedule, minute).
        return new CronTicker({
          fire: (scheduleId, minute) => fanOutSchedule(deps, scheduleId, minute),
          log: log.child({ component: "scheduler" }),
        });
      }
      return config.MBM_ADAPTERS === "aws" ? eventBridgeScheduler(config) : null;
    }),
    alerts: part("alerts", () => composeAlerts(config, log.child({ component: "events" }))),
  };
  const downloads = part("downloads", () => adapters.downloads);
  if (downloads) deps.downloads = downloads;
  return deps;
}

/** The AWS deps of one Lambda function, built on its first invocation (not on import). */
export function awsDepsOnce(log: Logger): () => Composition {
  let deps: Composition | undefined;
  return () => {
    if (!deps) {
      const config = parseEnv();
      if (config.MBM_ADAPTERS !== "aws") throw new Error("the Lambda functions need MBM_ADAPTERS=aws");
      deps = composeCore(config, { log });
    }
    return deps;
  };
}

/** What the task's engine needs: the storage ports and where to announce the job's outcome. */
export function composeEngine(config: EngineEnv, log: Logger): EngineAdapters & { alerts: Alerts } {
  return { ...composeAdapters(config), alerts: composeAlerts(config, log.child({ component: "events" })) };
}

/** Local mode's server: the composition for `taskEnv`, with its runner and ticker typed for start and stop. */
export function composeLocal(
  taskEnv: Record<string, string>,
  options: Omit<ComposeOptions, "taskEnv">,
): { deps: Composition; runner: ChildProcessJobRunner; ticker: CronTicker } {
  const deps = composeCore(parseEnv(taskEnv), { ...options, taskEnv });
  if (!(deps.runner instanceof ChildProcessJobRunner) || !(deps.scheduler instanceof CronTicker)) {
    throw new Error("local mode needs its child-process runner and cron ticker");
  }
  return { deps, runner: deps.runner, ticker: deps.scheduler };
}
