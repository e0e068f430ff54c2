// The CDK app (`cdk.json` runs it): the data stack, the app stack, and cdk-nag's AWS Solutions
// checks over both. Context (`-c key=value`): `stage` (a second, third... deployment in the same
// account and region, with names of its own: names.ts; none: the default deployment),
// `objectLockDays` (default 0: off), and for MongoDB inside your VPC `vpcId`, `availabilityZones`
// and `subnetIds` (comma-separated). No context needs AWS credentials: `npx cdk synth` works anywhere.
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { AppStack, type ExistingNetwork } from "./app-stack.ts";
import { DataStack } from "./data-stack.ts";
import { deploymentNames } from "./names.ts";

export function buildApp(app = new App()): { app: App; data: DataStack; service: AppStack } {
  // Strong (exported) references: the data stack cannot be deleted while the app stack uses it.
  if (app.node.tryGetContext("@aws-cdk/core:defaultCrossStackReferences") === undefined) {
    app.node.setContext("@aws-cdk/core:defaultCrossStackReferences", "strong");
  }
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === null || value === "" ? undefined : String(value);
  };
  const list = (key: string) =>
    (context(key) ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  const objectLockDays = Number(context("objectLockDays") ?? 0);
  if (!Number.isInteger(objectLockDays) || objectLockDays < 0) {
    throw new Error(
      `context objectLockDays must be a whole number of days, got ${context("objectLockDays")}`,
    );
  }
  let network: ExistingNetwork | undefined;
  const vpcId = context("vpcId");
  if (vpcId) {
    network = { vpcId, availabilityZones: list("availabilityZones"), subnetIds: list("subnetIds") };
    if (network.subnetIds.length === 0 || network.availabilityZones.length !== network.subnetIds.length) {
      throw new Error(
        "with vpcId, give subnetIds and as many availabilityZones (comma-separated, same order)",
      );
    }
  }
  const names = deploymentNames(context("stage"));
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const data = new DataStack(app, names.dataStack, { env, names, objectLockDays });
  const service = new AppStack(app, names.appStack, { env, names, data, network });
  service.addStackDependency(data);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, data, service };
}

if (import.meta.main) {
  // `cdk deploy` ships the current console: build it when missing or older than its sources.
  const { buildConsole, consoleBuildIsCurrent } = await import("../scripts/build-web.ts");
  if (!consoleBuildIsCurrent()) await buildConsole();
  buildApp().app.synth();
}
