// Proves the shared servers are real and authenticated, so every other test builds on solid ground.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { MongoClient } from "mongodb";
import { describe, expect, it } from "vitest";
import {
  adminMongoClient,
  awsClientConfig,
  awsEndpointEnv,
  mongoInfo,
  uniqueName,
} from "#test/support/env.ts";

describe("test harness", () => {
  it("FerretDB accepts the setup user and refuses a wrong password", async () => {
    const client = await adminMongoClient();
    const hello = await client.db("admin").command({ ping: 1 });
    expect(hello.ok).toBe(1);
    await client.close();

    const m = mongoInfo();
    const wrong = new MongoClient(`mongodb://${m.host}:${m.port}/?authSource=admin`, {
      auth: { username: m.username, password: "not-the-password" },
      serverSelectionTimeoutMS: 5_000,
    });
    await expect(wrong.db("admin").command({ listDatabases: 1 })).rejects.toThrow(/auth/i);
    await wrong.close();
  });

  // Task processes get only environment variables: with LocalStack running, S3 must reach it and
  // DynamoDB moto, as the test's own clients do (README "AWS emulators").
  it("a spawned process reaches each service on the same emulator as the test", async () => {
    const s3 = new S3Client(awsClientConfig("s3"));
    const dynamo = new DynamoDBClient(awsClientConfig("dynamodb"));
    const bucket = uniqueName("mbm-harness");
    const table = uniqueName("mbm-harness");
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await dynamo.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    try {
      const child = `
        import { S3Client, ListBucketsCommand } from "@aws-sdk/client-s3";
        import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
        const buckets = await new S3Client({ forcePathStyle: true }).send(new ListBucketsCommand({}));
        const tables = await new DynamoDBClient({}).send(new ListTablesCommand({}));
        console.log(JSON.stringify({
          buckets: (buckets.Buckets ?? []).map((b) => b.Name),
          tables: tables.TableNames ?? [],
        }));`;
      const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", child], {
        cwd: process.cwd(),
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          ...awsEndpointEnv(),
          AWS_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: "testing",
          AWS_SECRET_ACCESS_KEY: "testing",
        },
      });
      const seen = JSON.parse(stdout) as { buckets: string[]; tables: string[] };
      expect(seen.buckets, stdout).toContain(bucket);
      expect(seen.tables, stdout).toContain(table);
    } finally {
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      await dynamo.send(new DeleteTableCommand({ TableName: table }));
      s3.destroy();
      dynamo.destroy();
    }
  });
});
