// The rest of CoreDeps from configuration: alerts everywhere, and on AWS the ECS runner and the
// EventBridge Scheduler. Each is optional in the environment so that a partial deployment (or a
// test) says plainly what it lacks: no runner means jobs stay queued, no scheduler means schedules
// do not fire, no bus means events go to the log; health reports each.

import { HttpWebhookSender } from "#adapters/http-webhook.ts";
import { loadOnFirstCall } from "#adapters/load-on-first-call.ts";
import { LogEventBus } from "#adapters/log/log-event-bus.ts";
import type { EventBus, JobRunner, MongoInspector, Notifier, Scheduler } from "#core/ports.ts";
import type { Alerts, CoreDeps } from "#core/use-cases/deps.ts";
import { type Adapters, buildAdapters, type EngineEnv, parseEnv } from "./config.ts";
import type { Logger } from "./logger.ts";

// The AWS adapters below load with their SDK clients on first use (load-on-first-call.ts).

type AwsEnv = Extract<EngineEnv, { MBM_ADAPTERS: "aws" }>;

export function buildAlerts(config: EngineEnv, log: Logger): Alerts {
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

function buildEcsRunner(config: AwsEnv): JobRunner | null {
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

function buildEventBridgeScheduler(config: AwsEnv): Scheduler | null {
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

/** Everything a Lambda function's use cases need, on AWS. */
function awsCoreDeps(config: EngineEnv, log: Logger): CoreDeps & Pick<Adapters, "downloads"> {
  if (config.MBM_ADAPTERS !== "aws") throw new Error("the Lambda functions need MBM_ADAPTERS=aws");
  return {
    ...buildAdapters(config),
    // The MongoDB driver: only the connection test and database sync use it.
    inspector: loadOnFirstCall<MongoInspector>(
      async () => {
        const { MongoDriverInspector } = await import("#adapters/mongo-driver-inspector.ts");
        return new MongoDriverInspector({ timeoutMs: 5_000 });
      },
      { test: true, listDatabases: true },
    ),
    runner: buildEcsRunner(config),
    scheduler: buildEventBridgeScheduler(config),
    alerts: buildAlerts(config, log),
  };
}

/** The AWS deps of one Lambda function, built on its first invocation (not on import). */
export function awsDepsOnce(log: Logger): () => CoreDeps & Pick<Adapters, "downloads"> {
  let deps: (CoreDeps & Pick<Adapters, "downloads">) | undefined;
  return () => {
    deps ??= awsCoreDeps(parseEnv(), log);
    return deps;
  };
}
