// The ECS job runner against moto (RunTask, DescribeTasks, StopTask), plus stubbed answers for what
// moto never produces, and the task metadata helper against a local HTTP server.
//
// What moto 5.2.5 does not do, so these tests cannot check it:
// - clientToken is ignored: two RunTasks with one token run two tasks (AWS returns the first task
//   for 24 hours). The tests check that a retried start sends the same token, and the
//   ConflictException path with a stub.
// - RunTask never answers `failures` (placement, capacity) for Fargate: stubbed below.
// - assignPublicIp is not kept anywhere visible; subnets and security groups are (the ENI).
// - A FARGATE_SPOT task has launchType "" (AWS: FARGATE), and the provider need not be on the cluster.
// - StopTask of an unknown task is an HTTP 500 (AWS: InvalidParameterException); reason length is
//   not limited (AWS: 255). DescribeTasks of an unknown ARN has no `failures` (AWS: MISSING).
// - Each DescribeTasks moves a running task one lifecycle step towards STOPPED, desiredStatus stays
//   RUNNING: lastStatus is only checked after a stop.
// - A container needs its own `memory` (AWS Fargate accepts the task-level memory alone).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  ConflictException,
  DescribeTasksCommand,
  ECSClient,
  type RunTaskCommandInput,
  type StopTaskCommandInput,
  type Task,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EcsJobRunner, type EcsJobRunnerOptions, taskArnFromMetadata } from "#adapters/aws/ecs-job-runner.ts";
import { ownRunnerRef } from "#engine/own-runner-ref.ts";
import { createLogger } from "#functions/logger.ts";
import { awsClientConfig, uniqueName } from "#test/support/env.ts";
import { createEcsCluster, defaultNetwork, ec2, xmlValues } from "#test/support/moto-ecs.ts";

const quiet = createLogger("test", { level: "silent" });

const cluster = uniqueName("mbm-jobs");
const family = uniqueName("mbm-task");
const client = new ECSClient(awsClientConfig("ecs"));
/** Every command input the runner sends, in order. */
const sent: { command: string; input: Record<string, unknown> }[] = [];
client.middlewareStack.add(
  (next, context) => (args) => {
    sent.push({ command: context.commandName ?? "", input: args.input as Record<string, unknown> });
    return next(args);
  },
  { step: "initialize", name: "recordInputs" },
);
const lastInput = <T>(command: string) => sent.findLast((s) => s.command === command)?.input as T;

let subnet: string;
let securityGroup: string;
let options: EcsJobRunnerOptions;

async function describeTask(arn: string): Promise<Task> {
  const res = await client.send(new DescribeTasksCommand({ cluster, tasks: [arn], include: ["TAGS"] }));
  expect(res.tasks).toHaveLength(1);
  return res.tasks![0]!;
}

const jobId = () => crypto.randomUUID();
const stub = (send: () => Promise<unknown>) => ({ ...options, client: { send } as unknown as ECSClient });

beforeAll(async () => {
  ({ subnet, securityGroup } = await defaultNetwork());
  await createEcsCluster(client, cluster, family);
  options = {
    client,
    cluster,
    taskDefinition: family,
    containerName: "task",
    subnets: [subnet],
    securityGroups: [securityGroup],
    assignPublicIp: false,
    tags: { app: "mongo-backup-manager" },
  };
});

describe("EcsJobRunner.start", () => {
  it("runs one Fargate task whose command is the job's kind and id, and nothing else", async () => {
    const id = jobId();
    const { runnerRef } = await new EcsJobRunner(options).start({ kind: "backup", id });
    expect(runnerRef).toMatch(/^arn:aws:ecs:us-east-1:\d{12}:task\//);

    const task = await describeTask(runnerRef);
    expect(task.taskArn).toBe(runnerRef);
    expect(task.clusterArn).toMatch(new RegExp(`:cluster/${cluster}$`));
    expect(task.taskDefinitionArn).toMatch(new RegExp(`:task-definition/${family}:1$`));
    expect(task.launchType).toBe("FARGATE");
    expect(task.startedBy).toBe("mbm-backup");
    // Exactly this: no environment, environmentFiles, secrets, role or resource override.
    expect(task.overrides).toEqual({ containerOverrides: [{ name: "task", command: ["backup", id] }] });
    expect(task.tags).toEqual(
      expect.arrayContaining([
        { key: "job_kind", value: "backup" },
        { key: "job_id", value: id },
        { key: "app", value: "mongo-backup-manager" },
      ]),
    );
    expect(task.tags).toHaveLength(3);
    // The network configuration shows as the task's ENI: its subnet and security group.
    const eni = task.attachments?.[0]?.details ?? [];
    expect(eni.find((d) => d.name === "subnetId")?.value).toBe(subnet);
    const eniId = eni.find((d) => d.name === "networkInterfaceId")?.value ?? "";
    const enis = await ec2("DescribeNetworkInterfaces", { "NetworkInterfaceId.1": eniId });
    expect(xmlValues(enis, "groupId")).toContain(securityGroup);

    // What was sent, whole: every field is listed, so a new one (an env override...) fails here.
    const input = lastInput<RunTaskCommandInput>("RunTaskCommand");
    expect(input).toEqual({
      cluster,
      taskDefinition: family,
      count: 1,
      launchType: "FARGATE",
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: [subnet],
          securityGroups: [securityGroup],
          assignPublicIp: "DISABLED",
        },
      },
      overrides: { containerOverrides: [{ name: "task", command: ["backup", id] }] },
      startedBy: "mbm-backup",
      tags: [
        { key: "app", value: "mongo-backup-manager" },
        { key: "job_kind", value: "backup" },
        { key: "job_id", value: id },
      ],
      propagateTags: "TASK_DEFINITION",
      enableExecuteCommand: false,
      clientToken: `backup-${id}`,
    });
  });

  it("uses the capacity provider instead of the launch type, and a public IP when asked", async () => {
    const id = jobId();
    const runner = new EcsJobRunner({ ...options, capacityProvider: "FARGATE_SPOT", assignPublicIp: true });
    const { runnerRef } = await runner.start({ kind: "restore", id });
    const input = lastInput<RunTaskCommandInput>("RunTaskCommand");
    expect(input.launchType).toBeUndefined();
    expect(input.capacityProviderStrategy).toEqual([{ capacityProvider: "FARGATE_SPOT", weight: 1 }]);
    expect(input.networkConfiguration?.awsvpcConfiguration?.assignPublicIp).toBe("ENABLED");
    const task = await describeTask(runnerRef);
    expect(task.capacityProviderName).toBe("FARGATE_SPOT");
    expect(task.startedBy).toBe("mbm-restore");
    expect(task.overrides?.containerOverrides).toEqual([{ name: "task", command: ["restore", id] }]);
  });

  it("sends the same client token when a start is retried", async () => {
    const id = jobId();
    const runner = new EcsJobRunner(options);
    await runner.start({ kind: "backup", id });
    const first = lastInput<RunTaskCommandInput>("RunTaskCommand").clientToken;
    await runner.start({ kind: "backup", id }); // moto runs a second task here; AWS would not
    expect(lastInput<RunTaskCommandInput>("RunTaskCommand").clientToken).toBe(first);
    expect(first!.length).toBeLessThanOrEqual(64);
  });

  it("answers the existing task when ECS reports the token in use (ConflictException)", async () => {
    const existing = "arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef";
    const runner = new EcsJobRunner(
      stub(async () => {
        throw new ConflictException({ message: "token in use", $metadata: {}, resourceIds: [existing] });
      }),
    );
    await expect(runner.start({ kind: "backup", id: jobId() })).resolves.toEqual({ runnerRef: existing });
  });

  it("rejects naming the task definition when it does not exist", async () => {
    const runner = new EcsJobRunner({ ...options, taskDefinition: `${family}-missing` });
    await expect(runner.start({ kind: "backup", id: jobId() })).rejects.toThrow(
      new RegExp(`task definition ${family}-missing\\).*ClientException`),
    );
  });

  it("rejects with the failure reason when ECS places no task", async () => {
    const failed = new EcsJobRunner(
      stub(async () => ({
        tasks: [],
        failures: [{ arn: "arn:aws:ecs:us-east-1:1:container-instance/x", reason: "RESOURCE:MEMORY" }],
      })),
    );
    const id = jobId();
    await expect(failed.start({ kind: "backup", id })).rejects.toThrow(
      `ECS could not start the backup task of job ${id} (cluster ${cluster}, task definition ${family}): RESOURCE:MEMORY`,
    );
    const empty = new EcsJobRunner(stub(async () => ({ tasks: [], failures: [] })));
    await expect(empty.start({ kind: "restore", id })).rejects.toThrow(/RunTask returned no task/);
  });

  it("refuses an id that could not be a job id, before calling ECS", async () => {
    const before = sent.length;
    await expect(new EcsJobRunner(options).start({ kind: "backup", id: "a b" })).rejects.toThrow(
      /invalid backup id/,
    );
    expect(sent.length).toBe(before);
  });
});

describe("EcsJobRunner.stop", () => {
  it("stops the task with the reason, cut to ECS's 255 characters", async () => {
    const runner = new EcsJobRunner(options);
    const { runnerRef } = await runner.start({ kind: "backup", id: jobId() });
    await runner.stop(runnerRef, "cancelled by alice");
    let task = await describeTask(runnerRef);
    expect(task.desiredStatus).toBe("STOPPED");
    expect(task.lastStatus).toBe("STOPPED");
    expect(task.stoppedReason).toBe("cancelled by alice");

    const long = `cancelled: ${"é".repeat(300)}`;
    await runner.stop(runnerRef, long); // already stopped: not an error
    expect(lastInput<StopTaskCommandInput>("StopTaskCommand").reason).toBe(long.slice(0, 255));
    task = await describeTask(runnerRef);
    expect(task.stoppedReason).toHaveLength(255);
  });

  it("resolves for a task ECS does not know, and for a ref that is no task ARN", async () => {
    const runner = new EcsJobRunner(options);
    await expect(
      runner.stop("arn:aws:ecs:us-east-1:123456789012:task/nope/0123456789abcdef0123456789abcdef", "gone"),
    ).resolves.toBeUndefined();
    const before = sent.length;
    await expect(runner.stop("local:1234", "wrong runner")).resolves.toBeUndefined();
    expect(sent.length).toBe(before);
  });

  it("rejects when the cluster does not exist (a configuration error, not a stopped task)", async () => {
    const runner = new EcsJobRunner({ ...options, cluster: `${cluster}-missing` });
    await expect(
      runner.stop("arn:aws:ecs:us-east-1:123456789012:task/x/0123456789abcdef0123456789abcdef", "r"),
    ).rejects.toThrow(/ECS StopTask of .* failed: ClusterNotFoundException/);
  });
});

describe("taskArnFromMetadata", () => {
  const arn = "arn:aws:ecs:us-west-2:111122223333:task/default/cd189a933e5849daa93386466019ab50";
  // The shape of `${ECS_CONTAINER_METADATA_URI_V4}/task` on Fargate (AWS's documented example, trimmed).
  const taskMetadata = {
    Cluster: "arn:aws:ecs:us-west-2:111122223333:cluster/default",
    TaskARN: arn,
    Family: "curltest",
    Revision: "26",
    DesiredStatus: "RUNNING",
    KnownStatus: "RUNNING",
    Limits: { CPU: 0.25, Memory: 512 },
    PullStartedAt: "2020-10-08T20:47:16.053330955Z",
    PullStoppedAt: "2020-10-08T20:47:19.592684631Z",
    AvailabilityZone: "us-west-2a",
    Containers: [
      {
        DockerId: "e9028f8d5d8e4f258373e7b93ce9a3c3-2495160603",
        Name: "curl",
        Labels: { "com.amazonaws.ecs.task-arn": arn, "com.amazonaws.ecs.container-name": "curl" },
        DesiredStatus: "RUNNING",
        KnownStatus: "RUNNING",
        Type: "NORMAL",
        Networks: [{ NetworkMode: "awsvpc", IPv4Addresses: ["10.0.0.108"] }],
      },
    ],
    LaunchType: "FARGATE",
    ClockDrift: {
      ClockErrorBound: 0.446931,
      ReferenceTimestamp: "2020-10-08T20:47:56Z",
      ClockSynchronizationStatus: "SYNCHRONIZED",
    },
    EphemeralStorageMetrics: { Utilized: 261, Reserved: 20496 },
  };
  let server: Server;
  let base: string;
  let answer: { status: number; body: unknown } = { status: 200, body: taskMetadata };
  const paths: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      paths.push(req.url ?? "");
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v4/e9028f8d5d8e4f258373e7b93ce9a3c3-2495160603`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it("reads TaskARN from the task metadata endpoint", async () => {
    answer = { status: 200, body: taskMetadata };
    await expect(taskArnFromMetadata(base)).resolves.toBe(arn);
    expect(paths.at(-1)).toMatch(/^\/v4\/[^/]+\/task$/);
  });

  it("off ECS the task names its own process, without fetching anything", async () => {
    const fetchNothing = (() => Promise.reject(new Error("fetched"))) as typeof fetch;
    await expect(ownRunnerRef({}, quiet, { pid: 4321, fetch: fetchNothing })).resolves.toBe("local:4321");
    await expect(ownRunnerRef({ MBM_RUNNER_REF: "local:7" }, quiet, { fetch: fetchNothing })).resolves.toBe(
      "local:7",
    );
  });

  it("on ECS the task names its ARN, or nothing when the endpoint fails", async () => {
    answer = { status: 200, body: taskMetadata };
    await expect(ownRunnerRef({ ECS_CONTAINER_METADATA_URI_V4: base }, quiet)).resolves.toBe(arn);
    answer = { status: 500, body: { error: "internal" } };
    await expect(ownRunnerRef({ ECS_CONTAINER_METADATA_URI_V4: base }, quiet)).resolves.toBeUndefined();
  });

  it("rejects when the endpoint fails or has no task ARN", async () => {
    answer = { status: 500, body: { error: "internal" } };
    await expect(taskArnFromMetadata(base)).rejects.toThrow(/HTTP 500/);
    answer = { status: 200, body: { ...taskMetadata, TaskARN: undefined } };
    await expect(taskArnFromMetadata(base)).rejects.toThrow(/no valid TaskARN/);
  });
});
