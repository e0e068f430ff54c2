// The rest of CoreDeps from configuration: alerts everywhere, and on AWS the ECS runner and the
// EventBridge Scheduler. Each is optional in the environment so that a partial deployment (or a
// test) says plainly what it lacks: no runner means jobs stay queued, no scheduler means schedules
// do not fire, no bus means events go to the log; health reports each.
import { ECSClient } from "@aws-sdk/client-ecs";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SNSClient } from "@aws-sdk/client-sns";
import { EcsJobRunner } from "#adapters/aws/ecs-job-runner.ts";
import { EventBridgeEventBus } from "#adapters/aws/eventbridge-event-bus.ts";
import { EventBridgeScheduler } from "#adapters/aws/eventbridge-scheduler.ts";
import { SnsNotifier } from "#adapters/aws/sns-notifier.ts";
import { HttpWebhookSender } from "#adapters/http-webhook.ts";
import { LogEventBus } from "#adapters/log/log-event-bus.ts";
import { MongoDriverInspector } from "#adapters/mongo-driver-inspector.ts";
import type { JobRunner, Notifier, Scheduler } from "#core/ports.ts";
import type { Alerts, CoreDeps } from "#core/use-cases/deps.ts";
import { type Adapters, buildAdapters, type EngineEnv, parseEnv } from "./config.ts";
import type { Logger } from "./logger.ts";

type AwsEnv = Extract<EngineEnv, { MBM_ADAPTERS: "aws" }>;

export function buildAlerts(config: EngineEnv, log: Logger): Alerts {
  const webhook = new HttpWebhookSender();
  if (config.MBM_ADAPTERS === "local") return { bus: new LogEventBus(log), notifiers: [], webhook };
  const notifiers: Notifier[] = config.MBM_ALERT_TOPIC_ARN
    ? [new SnsNotifier({ client: new SNSClient({}), topicArn: config.MBM_ALERT_TOPIC_ARN })]
    : [];
  const bus = config.MBM_EVENT_BUS_NAME
    ? new EventBridgeEventBus({ client: new EventBridgeClient({}), busName: config.MBM_EVENT_BUS_NAME })
    : new LogEventBus(log);
  return { bus, notifiers, webhook };
}

function buildEcsRunner(config: AwsEnv): JobRunner | null {
  if (!config.MBM_ECS_CLUSTER || !config.MBM_TASK_DEFINITION || config.MBM_TASK_SUBNETS.length === 0) {
    return null;
  }
  return new EcsJobRunner({
    client: new ECSClient({}),
    cluster: config.MBM_ECS_CLUSTER,
    taskDefinition: config.MBM_TASK_DEFINITION,
    containerName: config.MBM_TASK_CONTAINER,
    subnets: config.MBM_TASK_SUBNETS,
    securityGroups: config.MBM_TASK_SECURITY_GROUPS,
    assignPublicIp: config.MBM_TASK_ASSIGN_PUBLIC_IP === "true",
    ...(config.MBM_TASK_CAPACITY_PROVIDER ? { capacityProvider: config.MBM_TASK_CAPACITY_PROVIDER } : {}),
  });
}

function buildEventBridgeScheduler(config: AwsEnv): Scheduler | null {
  if (!config.MBM_SCHEDULE_GROUP || !config.MBM_FAN_OUT_FUNCTION_ARN || !config.MBM_SCHEDULER_ROLE_ARN) {
    return null;
  }
  return new EventBridgeScheduler({
    client: new SchedulerClient({}),
    groupName: config.MBM_SCHEDULE_GROUP,
    targetArn: config.MBM_FAN_OUT_FUNCTION_ARN,
    roleArn: config.MBM_SCHEDULER_ROLE_ARN,
    deadLetterArn: config.MBM_SCHEDULER_DLQ_ARN,
    namePrefix: config.MBM_SCHEDULE_NAME_PREFIX,
  });
}

/** Everything a Lambda function's use cases need, on AWS. */
function awsCoreDeps(config: EngineEnv, log: Logger): CoreDeps & Pick<Adapters, "downloads"> {
  if (config.MBM_ADAPTERS !== "aws") throw new Error("the Lambda functions need MBM_ADAPTERS=aws");
  return {
    ...buildAdapters(config),
    inspector: new MongoDriverInspector({ timeoutMs: 5_000 }),
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
