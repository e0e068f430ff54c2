import { defineConfig } from "vitest/config";

/**
 * `npm run test:localstack` (MBM_TEST_LOCALSTACK=1): every suite that talks to S3, Secrets Manager,
 * SNS, SQS, EventBridge or the Scheduler, directly or through the AWS world of the engine and API
 * harnesses, run with LocalStack serving those six (DynamoDB and ECS stay on moto). Suites on local
 * adapters only, or on DynamoDB or ECS only, would run exactly as in the main suite, so they are left
 * out. A new suite that uses one of the six belongs here.
 */
export const LOCALSTACK_SUITES = [
  "test/adapters/eventbridge-event-bus.test.ts",
  "test/adapters/eventbridge-scheduler.test.ts",
  "test/adapters/sns-notifier.test.ts",
  "test/contract/blob-store.test.ts",
  "test/contract/secret-store.test.ts",
  "test/engine/failures.test.ts",
  "test/engine/progress.test.ts",
  "test/engine/round-trip.test.ts",
  "test/events/fan-out.test.ts",
  "test/events/task-state.test.ts",
  "test/core/housekeeping.test.ts",
  "test/core/retention-history.test.ts",
  "test/api/auth.test.ts",
  "test/api/backups.test.ts",
  "test/api/databases.test.ts",
  "test/api/downloads.test.ts",
  "test/api/hostile.test.ts",
  "test/api/openapi.test.ts",
  "test/api/restores.test.ts",
  "test/api/retention.test.ts",
  "test/api/schedules.test.ts",
  "test/api/servers.test.ts",
  "test/api/system.test.ts",
  // The harness's own check that spawned processes reach the same emulators.
  "test/unit/harness.test.ts",
];

export default defineConfig({
  test: {
    include: process.env.MBM_TEST_LOCALSTACK === "1" ? LOCALSTACK_SUITES : ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // Tests share one moto and one FerretDB; each test file uses its own table/bucket/database
    // names, so files can run in parallel on the 2 cores CI has.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
