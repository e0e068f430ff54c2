// What tests need to reach the shared servers started by the global setup.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { inject } from "vitest";

/** SDK client settings for moto (or any endpoint in AWS_ENDPOINT_URL, such as LocalStack). */
export function awsClientConfig() {
  return {
    endpoint: process.env.AWS_ENDPOINT_URL ?? inject("awsEndpoint"),
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    forcePathStyle: true,
  };
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
