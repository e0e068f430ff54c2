// The Fargate task that runs one backup or restore: the cluster, the task definition with its image
// (staged from task-image/ by infra/task-image.ts: the Dockerfile and main.ts's bundle), its log
// group and its role, and grantRun for the functions that start, stop and describe it.
import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { grantArchives, grantImportReads, grantKey, grantSecrets, grantTable, nagArn } from "../grants.ts";
import { acknowledge } from "../nag.ts";
import type { DeploymentNames } from "../names.ts";
import { stageTaskImage } from "../task-image.ts";
import type { Alerts } from "./alarms.ts";
import type { Network } from "./network.ts";
import { AppPart } from "./part.ts";

const TASK_CONTAINER = "task";

export interface TaskProps {
  readonly names: DeploymentNames;
  readonly network: Network;
  readonly alerts: Alerts;
  readonly keyArn: string;
  /** The container's environment: names and ids only. */
  readonly environment: Readonly<Record<string, string>>;
  /** Where the image's build context is staged (inside the cloud assembly). */
  readonly imageContextDir: string;
  readonly logRetention: logs.RetentionDays;
}

export class Task extends AppPart {
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  /** What a function that runs tasks needs to know (functions/composition.ts reads it). */
  readonly runnerEnvironment: Readonly<Record<string, string>>;
  readonly #clusterName: string;

  constructor(scope: Construct, id: string, props: TaskProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.#clusterName = props.names.cluster;
    this.cluster = new ecs.Cluster(this, "Cluster", {
      clusterName: props.names.cluster,
      vpc: props.network.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, "Task", {
      cpu: 1024,
      memoryLimitMiB: 2048,
      ephemeralStorageGiB: 21,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      volumes: [{ name: "tmp" }],
    });
    const taskLogs = new logs.LogGroup(this, "TaskLogs", {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const container = this.taskDefinition.addContainer(TASK_CONTAINER, {
      image: ecs.ContainerImage.fromAsset(stageTaskImage(props.imageContextDir).dir, {
        platform: Platform.LINUX_ARM64,
      }),
      // Names and ids only: the task reads each server's password from Secrets Manager itself.
      environment: { ...props.environment },
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: "task", logGroup: taskLogs }),
      readonlyRootFilesystem: true,
      stopTimeout: Duration.seconds(120),
      essential: true,
    });
    container.addMountPoints({ containerPath: "/tmp", sourceVolume: "tmp", readOnly: false });
    const taskRole = this.taskDefinition.taskRole;
    grantTable(taskRole, stack, props.names.table);
    grantKey(taskRole, props.keyArn);
    grantArchives(taskRole, stack, props.names, { read: true, write: true, delete: true });
    grantImportReads(taskRole, stack, props.names);
    grantSecrets(taskRole, stack, props.names.secretPrefix, "read");
    props.alerts.grantAnnounce(taskRole);

    this.runnerEnvironment = {
      MBM_ECS_CLUSTER: this.cluster.clusterArn,
      MBM_TASK_DEFINITION: this.taskDefinition.taskDefinitionArn,
      MBM_TASK_CONTAINER: TASK_CONTAINER,
      MBM_TASK_SUBNETS: props.network.subnets.map((s) => s.subnetId).join(","),
      MBM_TASK_SECURITY_GROUPS: props.network.securityGroup.securityGroupId,
      MBM_TASK_ASSIGN_PUBLIC_IP: props.network.assignPublicIp ? "true" : "false",
    };

    acknowledge(
      this.taskDefinition,
      "AwsSolutions::AwsSolutions-ECS2",
      "The environment holds names and ids only (table, bucket, prefix, key ARN); the task reads passwords from Secrets Manager itself, and a test checks no value looks secret.",
    );
    acknowledge(
      this.taskDefinition.obtainExecutionRole(),
      "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
      "ecr:GetAuthorizationToken has no resource-level permissions; the image pull itself is limited to the asset repository.",
    );
  }

  /** Running this task in this cluster, and stopping and describing this cluster's tasks. */
  grantRun(fn: lambda.IFunction): void {
    const stack = Stack.of(this);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["ecs:RunTask"],
        resources: [this.taskDefinition.taskDefinitionArn],
        conditions: { ArnEquals: { "ecs:cluster": this.cluster.clusterArn } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["ecs:StopTask", "ecs:DescribeTasks", "ecs:TagResource"],
        resources: [
          stack.formatArn({ service: "ecs", resource: "task", resourceName: `${this.#clusterName}/*` }),
        ],
      }),
    );
    acknowledge(
      fn,
      `AwsSolutions::AwsSolutions-IAM5[Resource::${nagArn(stack, "ecs", `task/${this.#clusterName}/*`)}]`,
      "Task ids are made by RunTask; stopping and describing is limited to this cluster's tasks.",
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["iam:PassRole"],
        resources: [this.taskDefinition.taskRole.roleArn, this.taskDefinition.obtainExecutionRole().roleArn],
        conditions: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      }),
    );
  }
}
