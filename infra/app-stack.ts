// The stateless part: network (or the user's VPC), the Fargate task, the Lambda functions, the HTTP
// API with its Cognito JWT authorizer, schedules and events, alerts and alarms, and the console.
// Everything here can be replaced or deleted; the data stack keeps what matters.
import { join } from "node:path";
import {
  ArnFormat,
  CfnCondition,
  CfnOutput,
  CfnParameter,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
  Stage,
} from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as cognito from "aws-cdk-lib/aws-cognito";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { ConsoleHosting } from "./console-hosting.ts";
import { type DataStack, METADATA_TABLE } from "./data-stack.ts";
import { bundleFunction, functionEntries } from "./function-bundle.ts";
import {
  backupBucketName,
  grantArchives,
  grantKey,
  grantSecrets,
  grantTable,
  nagArn,
  printed,
} from "./grants.ts";
import { acknowledge } from "./nag.ts";

const repoRoot = join(import.meta.dirname, "..");
const SECRET_PREFIX = "mbm/servers/";
const TASK_CONTAINER = "task";
const CLUSTER_NAME = "mongo-backup-manager";

/** A VPC of the user's (MongoDB inside it), given as ids so that synth needs no AWS lookup. */
export interface ExistingNetwork {
  vpcId: string;
  availabilityZones: string[];
  /** Private subnets with a route to AWS APIs (NAT or VPC endpoints) and to MongoDB. */
  subnetIds: string[];
}

export interface AppStackProps extends StackProps {
  data: DataStack;
  network?: ExistingNetwork | undefined;
}

export class AppStack extends Stack {
  readonly functions: Record<string, lambda.Function> = {};

  constructor(scope: Construct, id: string, props: AppStackProps) {
    super(scope, id, props);
    const { data } = props;
    const logRetention = logs.RetentionDays.THREE_MONTHS;

    // --- Network ------------------------------------------------------------------------------
    // Default: public subnets and no NAT gateway (no hourly cost); tasks get a public IP to reach
    // MongoDB on the internet (Atlas) and the AWS APIs. With a VPC of yours, tasks and the API run
    // in its private subnets, next to MongoDB.
    const own = props.network;
    const vpc = own
      ? ec2.Vpc.fromVpcAttributes(this, "Vpc", {
          vpcId: own.vpcId,
          availabilityZones: own.availabilityZones,
          privateSubnetIds: own.subnetIds,
        })
      : new ec2.Vpc(this, "Vpc", {
          maxAzs: 2,
          natGateways: 0,
          subnetConfiguration: [{ name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
          flowLogs: {
            rejected: {
              destination: ec2.FlowLogDestination.toCloudWatchLogs(
                new logs.LogGroup(this, "FlowLogs", {
                  retention: logRetention,
                  removalPolicy: RemovalPolicy.DESTROY,
                }),
              ),
              trafficType: ec2.FlowLogTrafficType.REJECT,
            },
          },
        });
    const subnets = own ? vpc.privateSubnets : vpc.publicSubnets;
    const taskSecurityGroup = new ec2.SecurityGroup(this, "TaskSecurityGroup", {
      vpc,
      description: "mongo-backup-manager tasks: no inbound; outbound to MongoDB and AWS APIs",
      allowAllOutbound: true,
    });

    // --- Alerts -------------------------------------------------------------------------------
    const bus = new events.EventBus(this, "Events", { eventBusName: `${this.stackName}-events` });
    const topic = new sns.Topic(this, "Alerts", {
      displayName: "mongo-backup-manager alerts",
      masterKey: data.key,
      enforceSSL: true,
    });
    const alertEmail = new CfnParameter(this, "AlertEmail", {
      type: "String",
      default: "",
      description: "Optional: an email address subscribed to failure and staleness alerts",
    });
    const hasEmail = new CfnCondition(this, "HasAlertEmail", {
      expression: Fn.conditionNot(Fn.conditionEquals(alertEmail.valueAsString, "")),
    });
    new sns.CfnSubscription(this, "AlertEmailSubscription", {
      topicArn: topic.topicArn,
      protocol: "email",
      endpoint: alertEmail.valueAsString,
    }).cfnOptions.condition = hasEmail;
    // Alarms publish to the KMS-encrypted topic. (EventBridge needs no grant: the bus is not
    // encrypted with this key and every rule targets a function; the scheduler's DLQ is written by
    // its own role, which has its own grant.)
    data.key.grantEncryptDecrypt(new iam.ServicePrincipal("cloudwatch.amazonaws.com"));
    // The task and the functions announce outcomes: the bus and the topic, nothing else.
    const grantAlerts = (grantee: iam.IGrantable) => {
      grantee.grantPrincipal.addToPrincipalPolicy(
        // DescribeEventBus: the bus adapter checks the bus exists, since PutEvents to a missing one succeeds.
        new iam.PolicyStatement({
          actions: ["events:PutEvents", "events:DescribeEventBus"],
          resources: [bus.eventBusArn],
        }),
      );
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ["sns:Publish"], resources: [topic.topicArn] }),
      );
    };

    // --- The task -----------------------------------------------------------------------------
    const cluster = new ecs.Cluster(this, "Cluster", {
      clusterName: CLUSTER_NAME,
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    const taskDefinition = new ecs.FargateTaskDefinition(this, "Task", {
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
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const commonEnv: Record<string, string> = {
      MBM_ADAPTERS: "aws",
      MBM_TABLE_NAME: METADATA_TABLE,
      MBM_BUCKET: backupBucketName(this),
      MBM_SECRET_PREFIX: SECRET_PREFIX,
      MBM_KMS_KEY_ID: data.key.keyArn,
      MBM_EVENT_BUS_NAME: bus.eventBusName,
      MBM_ALERT_TOPIC_ARN: topic.topicArn,
    };
    const container = taskDefinition.addContainer(TASK_CONTAINER, {
      image: ecs.ContainerImage.fromAsset(repoRoot, {
        file: "task-image/Dockerfile",
        platform: Platform.LINUX_ARM64,
      }),
      // Names and ids only: the task reads each server's password from Secrets Manager itself.
      environment: commonEnv,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: "task", logGroup: taskLogs }),
      readonlyRootFilesystem: true,
      stopTimeout: Duration.seconds(120),
      essential: true,
    });
    container.addMountPoints({ containerPath: "/tmp", sourceVolume: "tmp", readOnly: false });
    const taskRole = taskDefinition.taskRole;
    grantTable(taskRole, this, METADATA_TABLE);
    grantKey(taskRole, data.key.keyArn);
    grantArchives(taskRole, this, { read: true, write: true, delete: true });
    grantSecrets(taskRole, this, SECRET_PREFIX, "read");
    grantAlerts(taskRole);

    const runnerEnv: Record<string, string> = {
      MBM_ECS_CLUSTER: cluster.clusterArn,
      MBM_TASK_DEFINITION: taskDefinition.taskDefinitionArn,
      MBM_TASK_CONTAINER: TASK_CONTAINER,
      MBM_TASK_SUBNETS: subnets.map((s) => s.subnetId).join(","),
      MBM_TASK_SECURITY_GROUPS: taskSecurityGroup.securityGroupId,
      MBM_TASK_ASSIGN_PUBLIC_IP: own ? "false" : "true",
    };
    const grantRunner = (fn: lambda.IFunction) => {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ["ecs:RunTask"],
          resources: [taskDefinition.taskDefinitionArn],
          conditions: { ArnEquals: { "ecs:cluster": cluster.clusterArn } },
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ["ecs:StopTask", "ecs:DescribeTasks", "ecs:TagResource"],
          resources: [
            this.formatArn({ service: "ecs", resource: "task", resourceName: `${CLUSTER_NAME}/*` }),
          ],
        }),
      );
      acknowledge(
        fn,
        `AwsSolutions::AwsSolutions-IAM5[Resource::${nagArn(this, "ecs", `task/${CLUSTER_NAME}/*`)}]`,
        "Task ids are made by RunTask; stopping and describing is limited to this cluster's tasks.",
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ["iam:PassRole"],
          resources: [taskRole.roleArn, taskDefinition.obtainExecutionRole().roleArn],
          conditions: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
        }),
      );
    };

    // --- Functions ----------------------------------------------------------------------------
    // Bundled inside the cloud assembly's folder (cdk.out), which the synth owns and cleans.
    const bundles = join(Stage.of(this)?.outdir ?? join(repoRoot, "cdk.out"), "function-bundles");
    const fn = (
      name: string,
      entry: string,
      env: Record<string, string>,
      o: { memory?: number; timeout?: number; inVpc?: boolean; functionName?: string } = {},
    ) => {
      const f = new lambda.Function(this, name, {
        ...(o.functionName ? { functionName: o.functionName } : {}),
        // Our own esbuild bundle, split so the MongoDB driver loads only when a route needs it.
        code: lambda.Code.fromAsset(bundleFunction(join(repoRoot, entry), join(bundles, name)).dir),
        handler: "index.handler",
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: o.memory ?? 512,
        timeout: Duration.seconds(o.timeout ?? 60),
        environment: { ...commonEnv, ...env, NODE_OPTIONS: "--enable-source-maps" },
        logGroup: new logs.LogGroup(this, `${name}Logs`, {
          retention: logRetention,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        ...(o.inVpc && own ? { vpc, vpcSubnets: { subnets }, securityGroups: [taskSecurityGroup] } : {}),
      });
      grantTable(f, this, METADATA_TABLE);
      grantKey(f, data.key.keyArn);
      grantAlerts(f);
      this.functions[name] = f;
      return f;
    };

    // EventBridge Scheduler: the group our schedules live in, a role that may invoke only the
    // fan-out function, and a queue for firings that failed every retry.
    const group = new scheduler.ScheduleGroup(this, "Schedules", {
      scheduleGroupName: `${this.stackName}-schedules`,
    });
    const deadLetters = new sqs.Queue(this, "ScheduleDeadLetters", {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: data.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // Named, so that its ARN can be written without a reference to the function itself: the function
    // needs it too (its Scheduler adapter removes an orphaned timer), and a function cannot depend
    // on its own attribute.
    const fanOutName = `${this.stackName}-fan-out`;
    const fanOutArn = this.formatArn({
      service: "lambda",
      resource: "function",
      resourceName: fanOutName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const fanOut = fn("FanOut", functionEntries["fan-out"], runnerEnv, { functionName: fanOutName });
    const schedulerRole = new iam.Role(this, "SchedulerRole", {
      assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": this.account } },
      }),
      description: "EventBridge Scheduler: invoke the fan-out function, nothing else",
    });
    schedulerRole.addToPolicy(
      new iam.PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: [fanOut.functionArn] }),
    );
    schedulerRole.addToPolicy(
      new iam.PolicyStatement({ actions: ["sqs:SendMessage"], resources: [deadLetters.queueArn] }),
    );
    grantKey(schedulerRole, data.key.keyArn);
    const schedulerEnv: Record<string, string> = {
      MBM_SCHEDULE_GROUP: group.scheduleGroupName,
      MBM_FAN_OUT_FUNCTION_ARN: fanOutArn,
      MBM_SCHEDULER_ROLE_ARN: schedulerRole.roleArn,
      MBM_SCHEDULER_DLQ_ARN: deadLetters.queueArn,
    };
    const grantScheduler = (f: lambda.IFunction, manage: boolean) => {
      f.addToRolePolicy(
        new iam.PolicyStatement({
          actions: manage
            ? ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"]
            : ["scheduler:DeleteSchedule"],
          resources: [
            this.formatArn({
              service: "scheduler",
              resource: "schedule",
              resourceName: `${group.scheduleGroupName}/*`,
            }),
          ],
        }),
      );
      acknowledge(
        f,
        `AwsSolutions::AwsSolutions-IAM5[Resource::${nagArn(this, "scheduler", `schedule/${group.scheduleGroupName}/*`)}]`,
        "One EventBridge schedule per backup schedule, named by its id at run time, in this stack's group only.",
      );
      if (manage) {
        f.addToRolePolicy(
          new iam.PolicyStatement({ actions: ["iam:PassRole"], resources: [schedulerRole.roleArn] }),
        );
      }
    };
    for (const [name, value] of Object.entries(schedulerEnv)) fanOut.addEnvironment(name, value);
    grantRunner(fanOut);
    grantScheduler(fanOut, false);

    const api = fn(
      "Api",
      functionEntries.api,
      { ...runnerEnv, ...schedulerEnv },
      { memory: 1024, timeout: 29, inVpc: true },
    );
    grantRunner(api);
    grantScheduler(api, true);
    grantSecrets(api, this, SECRET_PREFIX, "manage");
    grantArchives(api, this, { read: true, delete: true });

    const taskState = fn("TaskState", functionEntries["task-state"], runnerEnv);
    grantRunner(taskState);
    const housekeeping = fn("Housekeeping", functionEntries.housekeeping, runnerEnv, { timeout: 300 });
    grantRunner(housekeeping);
    const retention = fn("Retention", functionEntries.retention, {}, { timeout: 900 });
    grantArchives(retention, this, { delete: true });

    new events.Rule(this, "TaskStopped", {
      description: "Tasks of the backup cluster that stopped: fail their job if it did not end",
      eventPattern: {
        source: ["aws.ecs"],
        detailType: ["ECS Task State Change"],
        detail: { clusterArn: [cluster.clusterArn], lastStatus: ["STOPPED"] },
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

    // --- Sign-in and the HTTP API ---------------------------------------------------------------
    const hosting = new ConsoleHosting(this, "Console", {
      accessLogs: data.accessLogs,
      buildDir: join(repoRoot, "web/build"),
    });
    // In this stack (not the pool's): the client names the console's URL, which lives here.
    const domain = new cognito.UserPoolDomain(this, "SignIn", {
      userPool: data.userPool,
      cognitoDomain: { domainPrefix: Fn.join("-", ["mbm", this.account, this.region]) as string },
    });
    const client = new cognito.UserPoolClient(this, "ConsoleClient", {
      userPool: data.userPool,
      generateSecret: false,
      preventUserExistenceErrors: true,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [`${hosting.url}/`],
        logoutUrls: [`${hosting.url}/`],
      },
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });

    const httpApi = new apigw.HttpApi(this, "HttpApi", {
      description: "mongo-backup-manager API",
      corsPreflight: {
        allowOrigins: [hosting.url],
        allowHeaders: ["authorization", "content-type"],
        allowMethods: [
          apigw.CorsHttpMethod.GET,
          apigw.CorsHttpMethod.POST,
          apigw.CorsHttpMethod.PUT,
          apigw.CorsHttpMethod.PATCH,
          apigw.CorsHttpMethod.DELETE,
        ],
        maxAge: Duration.hours(1),
      },
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, "ApiAccessLogs", {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = new apigw.HttpStage(this, "ApiStage", {
      httpApi,
      stageName: "$default",
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: "$context.requestId",
            ip: "$context.identity.sourceIp",
            user: "$context.authorizer.claims.sub",
            method: "$context.httpMethod",
            path: "$context.path",
            status: "$context.status",
            latency: "$context.responseLatency",
            error: "$context.authorizer.error",
          }),
        ),
      },
    });
    const authorizer = new HttpJwtAuthorizer(
      "Cognito",
      `https://cognito-idp.${this.region}.amazonaws.com/${data.userPool.userPoolId}`,
      {
        jwtAudience: [client.userPoolClientId],
      },
    );
    // Every route is behind the authorizer, health included; CORS preflights are answered by
    // API Gateway itself (corsPreflight) before any route.
    httpApi.addRoutes({
      path: "/api/{proxy+}",
      methods: [
        apigw.HttpMethod.GET,
        apigw.HttpMethod.POST,
        apigw.HttpMethod.PUT,
        apigw.HttpMethod.PATCH,
        apigw.HttpMethod.DELETE,
      ],
      integration: new HttpLambdaIntegration("ApiIntegration", api),
      authorizer,
    });
    const apiUrl = stage.url.replace(/\/$/, "");

    hosting.deploy({
      apiUrl,
      region: this.region,
      userPoolId: data.userPool.userPoolId,
      clientId: client.userPoolClientId,
      cognitoDomain: domain.baseUrl(),
    });

    // --- Alarms -----------------------------------------------------------------------------------
    // Failures and stale schedules already notify through the topic (the app publishes them); their
    // alarms are for dashboards and have no action, so nobody is told twice. Function errors and
    // dead letters are not announced by the app: those alarms notify.
    const notify = new actions.SnsAction(topic);
    const onBus = (name: string, detailType: string) => {
      const rule = new events.Rule(this, `${name}Rule`, {
        eventBus: bus,
        eventPattern: { source: ["mongo-backup-manager"], detailType: [detailType] },
        // No target: the rule exists for its MatchedEvents metric; the app notifies people itself.
      });
      new cloudwatch.Alarm(this, `${name}Alarm`, {
        alarmDescription: `${detailType} events in the last 5 minutes`,
        metric: new cloudwatch.Metric({
          namespace: "AWS/Events",
          metricName: "MatchedEvents",
          dimensionsMap: { RuleName: rule.ruleName, EventBusName: bus.eventBusName },
          statistic: "Sum",
          period: Duration.minutes(5),
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    };
    onBus("BackupFailed", "BackupFailed");
    onBus("ScheduleStale", "ScheduleStale");
    for (const [name, f] of Object.entries(this.functions)) {
      new cloudwatch.Alarm(this, `${name}Errors`, {
        alarmDescription: `The ${name} function failed`,
        metric: f.metricErrors({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(notify);
    }
    new cloudwatch.Alarm(this, "ScheduleDeadLettersAlarm", {
      alarmDescription: "A schedule firing failed every retry and is in the dead-letter queue",
      metric: deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(notify);

    this.acknowledgeGenerated(deadLetters, taskDefinition);
    this.exportOutputs({
      apiUrl,
      consoleUrl: hosting.url,
      userPoolId: data.userPool.userPoolId,
      clientId: client.userPoolClientId,
    });
  }

  private exportOutputs(values: Record<string, string>): void {
    for (const [key, value] of Object.entries(values)) {
      new CfnOutput(this, key[0]!.toUpperCase() + key.slice(1), { value });
    }
  }

  /** Findings on what the CDK generates, or on choices explained here. */
  private acknowledgeGenerated(deadLetters: sqs.Queue, taskDefinition: ecs.FargateTaskDefinition): void {
    acknowledge(
      deadLetters,
      "AwsSolutions::AwsSolutions-SQS3",
      "This queue is itself the schedules' dead-letter queue.",
    );
    acknowledge(
      taskDefinition,
      "AwsSolutions::AwsSolutions-ECS2",
      "The environment holds names and ids only (table, bucket, prefix, key ARN); the task reads passwords from Secrets Manager itself, and a test checks no value looks secret.",
    );
    acknowledge(
      taskDefinition.obtainExecutionRole(),
      "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
      "ecr:GetAuthorizationToken has no resource-level permissions; the image pull itself is limited to the asset repository.",
    );
    const basicRole =
      "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]";
    for (const f of Object.values(this.functions)) {
      acknowledge(f, basicRole, "AWS's basic execution policy: writing the function's own CloudWatch logs.");
      if (f.isBoundToVpc) {
        acknowledge(
          f,
          basicRole.replace("AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole"),
          "AWS's policy for a function in a VPC: its network interfaces and its own logs.",
        );
      }
    }
    // The console's deployment function is the CDK's (BucketDeployment), one per stack.
    for (const child of this.node.children) {
      if (!child.node.id.startsWith("Custom::CDKBucketDeployment")) continue;
      acknowledge(child, basicRole, "The CDK's BucketDeployment function writes its own logs.");
      acknowledge(
        child,
        "AwsSolutions::AwsSolutions-L1",
        "The CDK's BucketDeployment function; its runtime is chosen by aws-cdk-lib.",
      );
      for (const finding of [
        "Action::s3:GetBucket*",
        "Action::s3:GetObject*",
        "Action::s3:List*",
        "Action::s3:Abort*",
        "Action::s3:DeleteObject*",
        "Resource::*",
        `Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-${printed(this).account}-${printed(this).region}/*`,
        "Resource::<ConsoleAssets8400950A.Arn>/*",
      ]) {
        acknowledge(
          child,
          `AwsSolutions::AwsSolutions-IAM5[${finding}]`,
          "The CDK's BucketDeployment copies the console build from the CDK asset bucket into the console bucket.",
        );
      }
    }
  }
}
