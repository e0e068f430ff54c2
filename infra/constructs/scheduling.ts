// Schedules and events: the EventBridge Scheduler group our schedules live in, a role that may invoke
// only the fan-out function, a queue for firings that failed every retry; and the functions that run
// on time or on events: fan-out (a schedule fired), task-state (a task stopped), housekeeping
// (every 5 minutes) and retention (daily).
import { ArnFormat, Duration, Stack } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { functionEntries } from "../function-bundle.ts";
import { grantArchives, grantKey, nagArn } from "../grants.ts";
import { acknowledge } from "../nag.ts";
import type { DeploymentNames } from "../names.ts";
import type { FunctionFactory } from "./app-function.ts";
import { AppPart } from "./part.ts";
import type { Task } from "./task.ts";

export interface SchedulingProps {
  readonly names: DeploymentNames;
  readonly functions: FunctionFactory;
  readonly task: Task;
  readonly key: kms.IKey;
}

export class Scheduling extends AppPart {
  readonly group: scheduler.ScheduleGroup;
  readonly deadLetters: sqs.Queue;
  readonly schedulerRole: iam.Role;
  /** What a function that creates or deletes schedules needs to know (functions/composition.ts). */
  readonly environment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: SchedulingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { task } = props;
    this.group = new scheduler.ScheduleGroup(this, "Schedules", {
      scheduleGroupName: `${stack.stackName}-schedules`,
    });
    this.deadLetters = new sqs.Queue(this, "ScheduleDeadLetters", {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetters,
      "AwsSolutions::AwsSolutions-SQS3",
      "This queue is itself the schedules' dead-letter queue.",
    );
    // Named, so that its ARN can be written without a reference to the function itself: the function
    // needs it too (its Scheduler adapter removes an orphaned timer), and a function cannot depend
    // on its own attribute.
    const fanOutName = `${stack.stackName}-fan-out`;
    const fanOutArn = stack.formatArn({
      service: "lambda",
      resource: "function",
      resourceName: fanOutName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const fanOut = props.functions.create(
      this,
      "FanOut",
      functionEntries["fan-out"],
      task.runnerEnvironment,
      {
        functionName: fanOutName,
      },
    );
    this.schedulerRole = new iam.Role(this, "SchedulerRole", {
      assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": stack.account } },
      }),
      description: "EventBridge Scheduler: invoke the fan-out function, nothing else",
    });
    this.schedulerRole.addToPolicy(
      new iam.PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: [fanOut.functionArn] }),
    );
    this.schedulerRole.addToPolicy(
      new iam.PolicyStatement({ actions: ["sqs:SendMessage"], resources: [this.deadLetters.queueArn] }),
    );
    grantKey(this.schedulerRole, props.key.keyArn);
    this.environment = {
      MBM_SCHEDULE_GROUP: this.group.scheduleGroupName,
      MBM_FAN_OUT_FUNCTION_ARN: fanOutArn,
      MBM_SCHEDULER_ROLE_ARN: this.schedulerRole.roleArn,
      MBM_SCHEDULER_DLQ_ARN: this.deadLetters.queueArn,
    };
    for (const [name, value] of Object.entries(this.environment)) fanOut.addEnvironment(name, value);
    task.grantRun(fanOut);
    this.grantDeleteSchedules(fanOut);

    const taskState = props.functions.create(
      this,
      "TaskState",
      functionEntries["task-state"],
      task.runnerEnvironment,
    );
    task.grantRun(taskState);
    const housekeeping = props.functions.create(
      this,
      "Housekeeping",
      functionEntries.housekeeping,
      task.runnerEnvironment,
      { timeout: 300 },
    );
    task.grantRun(housekeeping);
    const retention = props.functions.create(
      this,
      "Retention",
      functionEntries.retention,
      {},
      { timeout: 900 },
    );
    grantArchives(retention, stack, props.names, { delete: true });

    new events.Rule(this, "TaskStopped", {
      description: "Tasks of the backup cluster that stopped: fail their job if it did not end",
      eventPattern: {
        source: ["aws.ecs"],
        detailType: ["ECS Task State Change"],
        detail: { clusterArn: [task.cluster.clusterArn], lastStatus: ["STOPPED"] },
      },
      targets: [new targets.LambdaFunction(taskState, { retryAttempts: 8 })],
    });
    new events.Rule(this, "HousekeepingEvery5Minutes", {
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(housekeeping)],
    });
    new events.Rule(this, "RetentionDaily", {
      schedule: events.Schedule.cron({ minute: "30", hour: "3" }),
      targets: [new targets.LambdaFunction(retention)],
    });
  }

  /** Creating, updating and deleting this group's schedules, and passing the scheduler its role. */
  grantManageSchedules(fn: lambda.IFunction): void {
    this.#grantSchedules(fn, [
      "scheduler:CreateSchedule",
      "scheduler:UpdateSchedule",
      "scheduler:DeleteSchedule",
    ]);
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ["iam:PassRole"], resources: [this.schedulerRole.roleArn] }),
    );
  }

  /** Deleting this group's schedules (an orphaned timer). */
  grantDeleteSchedules(fn: lambda.IFunction): void {
    this.#grantSchedules(fn, ["scheduler:DeleteSchedule"]);
  }

  #grantSchedules(fn: lambda.IFunction, actions: string[]): void {
    const stack = Stack.of(this);
    const group = this.group.scheduleGroupName;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions,
        resources: [
          stack.formatArn({ service: "scheduler", resource: "schedule", resourceName: `${group}/*` }),
        ],
      }),
    );
    acknowledge(
      fn,
      `AwsSolutions::AwsSolutions-IAM5[Resource::${nagArn(stack, "scheduler", `schedule/${group}/*`)}]`,
      "One EventBridge schedule per backup schedule, named by its id at run time, in this stack's group only.",
    );
  }
}
