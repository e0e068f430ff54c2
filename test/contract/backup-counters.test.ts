// The backup counters contract on each metadata store, plus a rebuild repairing counters a write
// made around the store left behind (DynamoDB: an item put directly, as a restore from a table
// export or a hand edit would), run as the one command a user runs.
import { spawnSync } from "node:child_process";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import {
  createMetadataTable,
  DynamoDbMetadataStore,
  tableItem,
} from "#adapters/aws/dynamodb-metadata-store.ts";
import { FileMetadataStore } from "#adapters/local/file-metadata-store.ts";
import { entitySpecs } from "#adapters/metadata-rules.ts";
import { awsClientConfig, awsEndpointEnv, scratchDir, uniqueName } from "#test/support/env.ts";
import { makeBackup } from "#test/support/fixtures.ts";
import { backupCountersContract } from "./backup-counters.contract.ts";

const config = awsClientConfig("dynamodb");
const dynamo = new DynamoDBClient(config);
afterAll(() => dynamo.destroy());

async function freshDynamo() {
  const table = uniqueName("counters");
  await createMetadataTable(dynamo, table);
  return { table, store: new DynamoDbMetadataStore({ client: dynamo, tableName: table }) };
}

backupCountersContract("DynamoDB", async () => (await freshDynamo()).store, {
  runs: 6,
  maxOps: 30,
  timeoutMs: 300_000,
});
backupCountersContract("file", async () => new FileMetadataStore({ dir: scratchDir("mbm-counters-") }));

describe("DynamoDB counters", () => {
  it("a rebuild repairs counters that a write around the store left behind", async () => {
    const { table, store } = await freshDynamo();
    await store.backups.create(makeBackup({ status: "completed", size_bytes: 5 }));
    const stray = makeBackup({ status: "completed", size_bytes: 7 });
    await DynamoDBDocumentClient.from(dynamo).send(
      new PutCommand({ TableName: table, Item: tableItem(entitySpecs.backups, stray) }),
    );
    expect((await store.counters.read(["total"])).get("total")).toMatchObject({
      completed: 1,
      bytes_stored: 5,
    });
    const run = spawnSync(process.execPath, ["scripts/rebuild-counters.ts"], {
      encoding: "utf8",
      env: {
        ...process.env,
        ...awsEndpointEnv(),
        AWS_REGION: config.region,
        AWS_ACCESS_KEY_ID: config.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: config.credentials.secretAccessKey,
        MBM_ADAPTERS: "aws",
        MBM_TABLE_NAME: table,
        MBM_BUCKET: "unused",
      },
    });
    expect(run.status, run.stderr).toBe(0);
    // Two completed backups without finished_at: the totals document only.
    expect(run.stdout).toMatch(/^recounted 2 backup\(s\) into 1 counter document\(s\)/);
    expect((await store.counters.read(["total"])).get("total")).toMatchObject({
      completed: 2,
      bytes_stored: 12,
    });
  });
});
