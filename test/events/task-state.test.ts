// The task-state function with real-shaped "ECS Task State Change" events (as EventBridge delivers
// them, from the ECS documentation's examples), on the DynamoDB store (moto), with the ECS runner on
// moto for the dispatch that follows and a real HTTP server receiving the webhook.
import { DescribeTasksCommand, ECSClient } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EcsJobRunner } from "#adapters/aws/ecs-job-runner.ts";
import type { Backup, Server } from "#core/entities.ts";
import type { CoreDeps } from "#core/use-cases/deps.ts";
import { taskStateHandler } from "#functions/events/task-state.ts";
import { createLogger } from "#functions/logger.ts";
import { coreDepsOf, quietAlerts } from "#test/support/core-deps.ts";
import { awsWorld, type EngineWorld } from "#test/support/engine-harness.ts";
import { awsClientConfig, uniqueName } from "#test/support/env.ts";
import { makeBackup, makeDrill, makeRestore, makeServer, makeSettings } from "#test/support/fixtures.ts";
import { createEcsCluster, defaultNetwork } from "#test/support/moto-ecs.ts";
import { startWebhookServer, type WebhookServer } from "#test/support/webhook-server.ts";

const ACCOUNT = "123456789012";
const cluster = uniqueName("mbm-events");
const family = uniqueName("mbm-task");
const ecs = new ECSClient(awsClientConfig("ecs"));
const quiet = createLogger("test", { level: "silent" });

let world: EngineWorld;
let deps: CoreDeps;
let hook: WebhookServer;
let server: Server;
let handle: ReturnType<typeof taskStateHandler>;

const taskArn = () =>
  `arn:aws:ecs:us-east-1:${ACCOUNT}:task/${cluster}/${crypto.randomUUID().replaceAll("-", "")}`;

/** A STOPPED event shaped like ECS's (fields we do not read included, as AWS sends them). */
function stoppedEvent(
  arn: string,
  command: string[] | null,
  o: {
    stoppedReason?: string;
    stopCode?: string;
    exitCode?: number;
    reason?: string;
    lastStatus?: string;
  } = {},
) {
  const status = o.lastStatus ?? "STOPPED";
  return {
    version: "0",
    id: crypto.randomUUID(),
    "detail-type": "ECS Task State Change",
    source: "aws.ecs",
    account: ACCOUNT,
    time: "2026-11-22T10:15:02Z",
    region: "us-east-1",
    resources: [arn],
    detail: {
      attachments: [{ id: crypto.randomUUID(), type: "eni", status: "DELETED", details: [] }],
      availabilityZone: "us-east-1a",
      clusterArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/${cluster}`,
      connectivity: "CONNECTED",
      containers: [
        {
          containerArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:container/${crypto.randomUUID()}`,
          lastStatus: status,
          name: "task",
          image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/mbm-task:latest",
          taskArn: arn,
          ...(o.exitCode !== undefined ? { exitCode: o.exitCode } : {}),
          ...(o.reason ? { reason: o.reason } : {}),
          networkInterfaces: [{ attachmentId: crypto.randomUUID(), privateIpv4Address: "10.0.1.23" }],
          cpu: "0",
          memory: "512",
        },
      ],
      cpu: "256",
      createdAt: "2026-11-22T10:12:01.123Z",
      desiredStatus: "STOPPED",
      enableExecuteCommand: false,
      group: `family:${family}`,
      launchType: "FARGATE",
      lastStatus: status,
      memory: "512",
      overrides: { containerOverrides: command ? [{ name: "task", command }] : [{ name: "task" }] },
      platformVersion: "1.4.0",
      ...(status === "STOPPED"
        ? {
            stoppedAt: "2026-11-22T10:15:01.456Z",
            stoppedReason: o.stoppedReason ?? "Essential container in task exited",
            stopCode: o.stopCode ?? "EssentialContainerExited",
            stoppingAt: "2026-11-22T10:14:50.789Z",
          }
        : {}),
      startedBy: command ? `mbm-${command[0]}` : "ecs-svc/1234567890",
      taskArn: arn,
      taskDefinitionArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/${family}:1`,
      updatedAt: "2026-11-22T10:15:02.000Z",
      version: 5,
    },
  };
}

async function runningBackup(arn: string, extra: Partial<Backup> = {}): Promise<Backup> {
  return await world.store.backups.create(
    makeBackup({
      server_id: server.id,
      database: "shop",
      status: "running",
      started_at: new Date().toISOString(),
      runner_ref: arn,
      ...extra,
    }),
  );
}

beforeAll(async () => {
  world = await awsWorld();
  hook = await startWebhookServer();
  const { subnet, securityGroup } = await defaultNetwork();
  await createEcsCluster(ecs, cluster, family);
  deps = coreDepsOf(world, {
    runner: new EcsJobRunner({
      client: ecs,
      cluster,
      taskDefinition: family,
      containerName: "task",
      subnets: [subnet],
      securityGroups: [securityGroup],
      assignPublicIp: false,
    }),
    alerts: quietAlerts({ webhook: true }),
  });
  server = await world.store.servers.create(makeServer({ name: "prod" }));
  // One backup at a time per server, so a dispatch after a stop is visible.
  await world.store.settings.put(
    makeSettings({
      concurrency: { per_server: 1, total: 10 },
      webhook_url: hook.url,
      outbound_allowlist: ["127.0.0.1/32"],
    }),
  );
  handle = taskStateHandler(() => deps, quiet);
});

afterAll(async () => {
  await hook.close();
});

beforeEach(() => {
  hook.deliveries.length = 0;
});

describe("task-state function", () => {
  it("fails a running backup whose task stopped, with ECS's reason and exit code, announces it, and dispatches the next", async () => {
    const arn = taskArn();
    const backup = await runningBackup(arn);
    const waiting = await world.store.backups.create(
      makeBackup({ server_id: server.id, database: "crm", status: "queued" }),
    );

    const result = await handle(
      stoppedEvent(arn, ["backup", backup.id], {
        stoppedReason: "OutOfMemoryError: Container killed due to memory usage",
        stopCode: "EssentialContainerExited",
        exitCode: 137,
      }),
    );

    expect(result).toEqual({ job: { kind: "backup", id: backup.id }, failed: true });
    const failed = await world.store.backups.get(backup.id);
    expect(failed?.status).toBe("failed");
    expect(failed?.error).toBe(
      "the task stopped: OutOfMemoryError: Container killed due to memory usage; exit code 137",
    );
    expect(failed?.finished_at).not.toBeNull();

    const [delivery] = await hook.waitFor(1);
    expect(delivery?.body.event).toBe("BackupFailed");
    expect(delivery?.body.detail).toMatchObject({
      backup_id: backup.id,
      status: "failed",
      error: failed?.error,
    });
    expect(String(delivery?.body.text)).toContain("OutOfMemoryError");

    // The slot freed by the dead task went to the queued backup: RunTask on the cluster.
    const next = await world.store.backups.get(waiting.id);
    expect(next?.runner_ref).toMatch(/^arn:aws:ecs:us-east-1:\d{12}:task\//);
    const described = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [next!.runner_ref!] }));
    expect(described.tasks?.[0]?.overrides?.containerOverrides?.[0]?.command).toEqual(["backup", waiting.id]);
    await world.store.backups.transition(waiting.id, "cancelled", { finished_at: new Date().toISOString() });
  });

  it("delivered twice, fails the job once and announces it once", async () => {
    const arn = taskArn();
    const backup = await runningBackup(arn);
    const event = stoppedEvent(arn, ["backup", backup.id], { exitCode: 1 });
    expect((await handle(event)).failed).toBe(true);
    expect((await handle(event)).failed).toBe(false);
    await hook.waitFor(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(hook.deliveries).toHaveLength(1);
    expect((await world.store.backups.get(backup.id))?.error).toBe(
      "the task stopped: Essential container in task exited; exit code 1",
    );
  });

  it("fails a queued restore whose task never started (image pull), saying there was no exit code", async () => {
    const arn = taskArn();
    const source = await world.store.backups.create(
      makeBackup({ server_id: server.id, database: "shop", status: "completed" }),
    );
    const restore = await world.store.restores.create(
      makeRestore({
        backup_id: source.id,
        source_server_id: server.id,
        source_database: "shop",
        target_server_id: server.id,
        target_database: "shop_copy",
        status: "queued",
        runner_ref: arn,
      }),
    );
    await handle(
      stoppedEvent(arn, ["restore", restore.id], {
        stoppedReason:
          "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref",
        stopCode: "TaskFailedToStart",
      }),
    );
    const failed = await world.store.restores.get(restore.id);
    expect(failed?.status).toBe("failed");
    expect(failed?.error).toBe(
      "the task stopped: CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref; no exit code (the container never ran or was killed)",
    );
    const [delivery] = await hook.waitFor(1);
    expect(delivery?.body.event).toBe("RestoreFailed");
  });

  it("fails a running drill whose task died, puts the failed proof on the backup, alerts, and dispatches the next drill", async () => {
    const arn = taskArn();
    const backup = await world.store.backups.create(
      makeBackup({ server_id: server.id, database: "shop", status: "completed" }),
    );
    const drill = await world.store.drills.create(
      makeDrill({
        backup_id: backup.id,
        server_id: server.id,
        database: "shop",
        status: "running",
        started_at: new Date().toISOString(),
        runner_ref: arn,
      }),
    );
    const waiting = await world.store.drills.create(
      makeDrill({ backup_id: backup.id, server_id: server.id, database: "shop", status: "queued" }),
    );
    const result = await handle(
      stoppedEvent(arn, ["verify", drill.id], {
        stoppedReason: "OutOfMemoryError: Container killed due to memory usage",
        exitCode: 137,
      }),
    );
    expect(result).toEqual({ job: { kind: "verify", id: drill.id }, failed: true });
    const failed = await world.store.drills.get(drill.id);
    expect(failed).toMatchObject({
      status: "failed",
      error: "the task stopped: OutOfMemoryError: Container killed due to memory usage; exit code 137",
      result: { status: "failed", drill_id: drill.id, target: "ephemeral", collections: {} },
    });
    expect((await world.store.backups.get(backup.id))?.verification).toEqual(failed?.result);
    const [delivery] = await hook.waitFor(1);
    expect(delivery?.body.event).toBe("BackupVerificationFailed");
    expect(delivery?.body.detail).toMatchObject({
      drill_id: drill.id,
      backup_id: backup.id,
      status: "failed",
    });
    // The queued drill got the freed slot: RunTask with the verify command.
    const next = await world.store.drills.get(waiting.id);
    expect(next?.runner_ref).toMatch(/^arn:aws:ecs:us-east-1:\d{12}:task\//);
    const described = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [next!.runner_ref!] }));
    expect(described.tasks?.[0]?.overrides?.containerOverrides?.[0]?.command).toEqual(["verify", waiting.id]);
    await world.store.drills.transition(waiting.id, "cancelled", { finished_at: new Date().toISOString() });
  });

  it("leaves alone: a job that already ended, a task still running, another service's task, an older task of a re-dispatched job", async () => {
    const done = await world.store.backups.create(
      makeBackup({ server_id: server.id, database: "shop", status: "completed", runner_ref: taskArn() }),
    );
    const arnDone = done.runner_ref!;
    expect((await handle(stoppedEvent(arnDone, ["backup", done.id], { exitCode: 0 }))).failed).toBe(false);
    expect((await world.store.backups.get(done.id))?.status).toBe("completed");

    const arnRunning = taskArn();
    const running = await runningBackup(arnRunning);
    const notStopped = stoppedEvent(arnRunning, ["backup", running.id], { lastStatus: "RUNNING" });
    expect((await handle(notStopped)).failed).toBe(false);
    expect((await handle(stoppedEvent(taskArn(), null))).job).toBeNull();
    // The record names another task (the job was handed over again since): this stop is stale.
    expect((await handle(stoppedEvent(taskArn(), ["backup", running.id], { exitCode: 1 }))).failed).toBe(
      false,
    );
    expect((await world.store.backups.get(running.id))?.status).toBe("running");

    expect((await handle({ "detail-type": "Something else", source: "aws.ec2", detail: {} })).job).toBeNull();
    await new Promise((r) => setTimeout(r, 200));
    expect(hook.deliveries).toHaveLength(0);
    await world.store.backups.transition(running.id, "cancelled", { finished_at: new Date().toISOString() });
  });
});
