// What tests need to reach the shared servers started by the global setup.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { inject } from "vitest";
import { LOCALSTACK_SERVICES, type LocalStackService } from "../../scripts/local-servers.ts";

/** The AWS services tests talk to; LocalStack serves its six when the run starts it, moto the rest. */
export type AwsService = LocalStackService | "dynamodb" | "ecs" | "ec2";

/** The SDK's service id of each, as in its per-service variable `AWS_ENDPOINT_URL_<ID>`. */
const SDK_SERVICE_ENV: Record<LocalStackService, string> = {
  s3: "AWS_ENDPOINT_URL_S3",
  secretsmanager: "AWS_ENDPOINT_URL_SECRETS_MANAGER",
  sns: "AWS_ENDPOINT_URL_SNS",
  sqs: "AWS_ENDPOINT_URL_SQS",
  events: "AWS_ENDPOINT_URL_EVENTBRIDGE",
  scheduler: "AWS_ENDPOINT_URL_SCHEDULER",
};

/** Which emulator serves `service` in this run (README "AWS emulators"). */
export function awsEmulator(service: AwsService): "moto" | "localstack" {
  const isLocalStackService = (LOCALSTACK_SERVICES as readonly string[]).includes(service);
  return isLocalStackService && inject("localstackEndpoint") ? "localstack" : "moto";
}

/** SDK client settings for `service`'s emulator: moto, or LocalStack for its six when it runs. */
export function awsClientConfig(service: AwsService) {
  return {
    endpoint: awsEmulator(service) === "localstack" ? inject("localstackEndpoint") : inject("awsEndpoint"),
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    forcePathStyle: true,
  };
}

/**
 * The endpoint variables for a process the test spawns (a task, local mode): AWS_ENDPOINT_URL for
 * moto, and when LocalStack runs, the SDK's per-service variables that win over it for its six.
 */
export function awsEndpointEnv(): Record<string, string> {
  const env: Record<string, string> = { AWS_ENDPOINT_URL: inject("awsEndpoint") };
  for (const service of LOCALSTACK_SERVICES) {
    if (awsEmulator(service) === "localstack") env[SDK_SERVICE_ENV[service]] = inject("localstackEndpoint");
  }
  return env;
}

/** A short unique suffix so each test file gets its own tables, buckets and databases. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

export function mongoInfo() {
  return inject("mongo");
}

/** An admin client to the test FerretDB. */
export async function adminMongoClient(): Promise<MongoClient> {
  const m = inject("mongo");
  const client = new MongoClient(`mongodb://${m.host}:${m.port}/?authSource=admin`, {
    auth: { username: m.username, password: m.password },
    serverSelectionTimeoutMS: 10_000,
  });
  await client.connect();
  return client;
}

/** A new temporary directory under the run's scratch directory (removed when the run ends). */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(inject("scratch"), prefix));
}
