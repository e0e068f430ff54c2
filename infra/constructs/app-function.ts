// What every Lambda function of the app shares: our own esbuild bundle (split so the MongoDB driver
// loads only when a route needs it), Node 24 on arm64, its own log group, the deployment's common
// environment, and access to the table, the key and the alerts. Parts create their functions
// through one FunctionFactory, which also lists them for the alarms.
import { join } from "node:path";
import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { bundleFunction } from "../function-bundle.ts";
import { grantKey, grantTable } from "../grants.ts";
import { acknowledge } from "../nag.ts";
import type { Alerts } from "./alarms.ts";
import type { Network } from "./network.ts";

export interface FunctionFactoryProps {
  readonly repoRoot: string;
  /** Where the bundles are written (inside the cloud assembly, which the synth owns and cleans). */
  readonly bundlesDir: string;
  /** Names and ids every function and the task get (table, bucket, prefix, key, bus, topic). */
  readonly environment: Readonly<Record<string, string>>;
  readonly tableName: string;
  readonly keyArn: string;
  readonly alerts: Alerts;
  readonly network: Network;
  readonly logRetention: logs.RetentionDays;
}

export interface AppFunctionOptions {
  readonly memory?: number;
  readonly timeout?: number;
  /** In your VPC (when there is one), next to MongoDB. */
  readonly inVpc?: boolean;
  readonly functionName?: string;
}

export class FunctionFactory {
  /** Every function made, by construct id (the alarms' names). */
  readonly functions: Record<string, lambda.Function> = {};
  readonly #props: FunctionFactoryProps;

  constructor(props: FunctionFactoryProps) {
    this.#props = props;
  }

  create(
    scope: Construct,
    name: string,
    entry: string,
    env: Readonly<Record<string, string>>,
    options: AppFunctionOptions = {},
  ): lambda.Function {
    const p = this.#props;
    const f = new lambda.Function(scope, name, {
      ...(options.functionName ? { functionName: options.functionName } : {}),
      code: lambda.Code.fromAsset(bundleFunction(join(p.repoRoot, entry), join(p.bundlesDir, name)).dir),
      handler: "index.handler",
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: options.memory ?? 512,
      timeout: Duration.seconds(options.timeout ?? 60),
      environment: { ...p.environment, ...env, NODE_OPTIONS: "--enable-source-maps" },
      logGroup: new logs.LogGroup(scope, `${name}Logs`, {
        retention: p.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      ...(options.inVpc ? p.network.functionPlacement() : {}),
    });
    grantTable(f, Stack.of(scope), p.tableName);
    grantKey(f, p.keyArn);
    p.alerts.grantAnnounce(f);
    const basicRole =
      "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]";
    acknowledge(f, basicRole, "AWS's basic execution policy: writing the function's own CloudWatch logs.");
    if (f.isBoundToVpc) {
      acknowledge(
        f,
        basicRole.replace("AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole"),
        "AWS's policy for a function in a VPC: its network interfaces and its own logs.",
      );
    }
    this.functions[name] = f;
    return f;
  }
}
