// The stateless part, composed of its constructs (infra/constructs/): the network (or the user's
// VPC), alerts, the Fargate task, schedules and events with their functions, the HTTP API and
// sign-in, the console, and the alarms. Everything here can be replaced or deleted; the data stack
// keeps what matters.
import { join } from "node:path";
import { type CfnElement, CfnOutput, Stack, type StackProps, Stage } from "aws-cdk-lib";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { Alarms, Alerts } from "./constructs/alarms.ts";
import { Api } from "./constructs/api.ts";
import { FunctionFactory } from "./constructs/app-function.ts";
import { ConsoleHosting } from "./constructs/console.ts";
import { type ExistingNetwork, Network } from "./constructs/network.ts";
import { logicalIdWithoutParts } from "./constructs/part.ts";
import { Scheduling } from "./constructs/scheduling.ts";
import { Task } from "./constructs/task.ts";
import type { DataStack } from "./data-stack.ts";
import type { DeploymentNames } from "./names.ts";

export type { ExistingNetwork };

const repoRoot = join(import.meta.dirname, "..");

export interface AppStackProps extends StackProps {
  readonly names: DeploymentNames;
  readonly data: DataStack;
  readonly network?: ExistingNetwork | undefined;
}

export class AppStack extends Stack {
  /** Every Lambda function, by construct id. */
  readonly functions: Readonly<Record<string, lambda.Function>>;

  constructor(scope: Construct, id: string, props: AppStackProps) {
    super(scope, id, props);
    const { data, names } = props;
    const logRetention = logs.RetentionDays.THREE_MONTHS;
    // The functions' bundles and the task image's context, inside the cloud assembly's folder
    // (cdk.out), which the synth owns and cleans.
    const assembly = Stage.of(this)?.outdir ?? join(repoRoot, "cdk.out");

    const network = new Network(this, "Network", { existing: props.network, logRetention });
    const alerts = new Alerts(this, "Alerts", { key: data.key, eventBusName: `${this.stackName}-events` });
    const environment: Record<string, string> = {
      MBM_ADAPTERS: "aws",
      MBM_TABLE_NAME: names.table,
      MBM_BUCKET: names.bucket(this.account, this.region),
      MBM_SECRET_PREFIX: names.secretPrefix,
      MBM_KMS_KEY_ID: data.key.keyArn,
      ...alerts.environment,
    };
    const task = new Task(this, "Task", {
      names,
      network,
      alerts,
      keyArn: data.key.keyArn,
      environment,
      imageContextDir: join(assembly, "task-image"),
      logRetention,
    });
    const functions = new FunctionFactory({
      repoRoot,
      bundlesDir: join(assembly, "function-bundles"),
      environment,
      tableName: names.table,
      keyArn: data.key.keyArn,
      alerts,
      network,
      logRetention,
    });
    const scheduling = new Scheduling(this, "Scheduling", { names, functions, task, key: data.key });
    const hosting = new ConsoleHosting(this, "Console", {
      accessLogs: data.accessLogs,
      buildDir: join(repoRoot, "web/build"),
    });
    const api = new Api(this, "Api", {
      names,
      userPool: data.userPool,
      consoleUrl: hosting.url,
      functions,
      task,
      scheduling,
      logRetention,
    });
    // Exact origins, no `https:`: the API, the hosted UI (token and logout endpoints) and the user
    // pool's issuer (oidc-client-ts reads its OpenID configuration and keys there).
    hosting.allowConnections(api.url, api.signInUrl, api.issuerOrigin);
    hosting.deploy({
      apiUrl: api.url,
      region: this.region,
      userPoolId: data.userPool.userPoolId,
      clientId: api.client.userPoolClientId,
      cognitoDomain: api.signInUrl,
    });
    new Alarms(this, "Alarms", {
      alerts,
      functions: functions.functions,
      deadLetters: scheduling.deadLetters,
    });
    this.functions = functions.functions;

    const outputs = {
      apiUrl: api.url,
      consoleUrl: hosting.url,
      userPoolId: data.userPool.userPoolId,
      clientId: api.client.userPoolClientId,
    };
    for (const [key, value] of Object.entries(outputs)) {
      new CfnOutput(this, key[0]!.toUpperCase() + key.slice(1), { value });
    }
  }

  /** Resources keep the logical ids they had before the stack was split into parts (constructs/part.ts). */
  protected override allocateLogicalId(element: CfnElement): string {
    return logicalIdWithoutParts(element, (e) => super.allocateLogicalId(e));
  }
}
