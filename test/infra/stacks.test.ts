// The CDK app synthesized as `npx cdk synth` does it (functions bundled, task image staged, cdk-nag's
// AWS Solutions checks applied), with no AWS credentials, then its templates checked for what the
// deployment promises: private buckets, PITR, the JWT authorizer on every route, least-privilege IAM,
// no secrets in any environment, and the alarms.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as s3 from "aws-cdk-lib/aws-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { consoleContentSecurityPolicy } from "#functions/api/console-policy.ts";
import { repoRoot } from "#test/support/engine-harness.ts";
import { scratchDir } from "#test/support/env.ts";
import { buildApp } from "../../infra/app.ts";

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

let data: Template;
let service: Template;
let outdir: string;
let defaultApp: ReturnType<typeof buildApp>;

function synth(context: Record<string, string> = {}) {
  outdir = scratchDir("cdk-");
  const built = buildApp(new App({ outdir, context }));
  built.app.synth(); // cdk-nag errors (unacknowledged findings) make this throw
  return built;
}

beforeAll(() => {
  const built = synth();
  defaultApp = built;
  data = Template.fromStack(built.data);
  service = Template.fromStack(built.service);
}, 120_000);

const all = (t: Template): Resources => t.toJSON().Resources as Resources;
const ofType = (t: Template, type: string) => Object.entries(all(t)).filter(([, r]) => r.Type === type);
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => JSON.stringify(s.Resource);
const statementsOf = (t: Template) =>
  ofType(t, "AWS::IAM::Policy").flatMap(([id, r]) =>
    ((r.Properties!.PolicyDocument as { Statement: Statement[] }).Statement ?? []).map((s) => ({ id, s })),
  );

describe("the CDK app", () => {
  it("`npx cdk synth` succeeds with no AWS credentials in the environment", () => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_") && !k.startsWith("CDK_")),
    );
    const out = scratchDir("cdk-cli-");
    const run = spawnSync("npx", ["cdk", "synth", "--quiet", "--no-notices", "--output", out], {
      cwd: repoRoot,
      env: { ...env, HOME: scratchDir("home-") }, // no ~/.aws either
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`.slice(-3000)).toBe(0);
    expect(run.stdout + run.stderr).toContain("Successfully synthesized");
    expect(existsSync(join(out, "MongoBackupApp.template.json"))).toBe(true);
  }, 180_000);

  it("synthesizes with cdk-nag applied, and nag does fail an unacknowledged finding", () => {
    expect(ofType(service, "AWS::Lambda::Function").length).toBeGreaterThanOrEqual(5);
    const { app } = buildApp(new App({ outdir: scratchDir("cdk-nag-") }));
    const careless = new Stack(app, "Careless");
    new s3.Bucket(careless, "Open", { enforceSSL: false });
    expect(() => app.synth()).toThrow(/AwsSolutions-S1|AwsSolutions-S10/);
  });

  it("keeps every bucket private, TLS-only; the backup bucket KMS-encrypted, versioned, aborting stale uploads", () => {
    for (const t of [data, service]) {
      for (const [, bucket] of ofType(t, "AWS::S3::Bucket")) {
        expect(bucket.Properties?.PublicAccessBlockConfiguration).toEqual({
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        });
      }
      for (const [, policy] of ofType(t, "AWS::S3::BucketPolicy")) {
        const statements = (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement;
        expect(
          statements.some(
            (s) => s.Effect === "Deny" && JSON.stringify(s.Condition).includes("aws:SecureTransport"),
          ),
        ).toBe(true);
        // Nothing is granted to everyone: "*" in either of its spellings.
        const toEveryone = (p: unknown) => p === "*" || JSON.stringify(p) === '{"AWS":"*"}';
        const granted = statements.filter((s) => s.Effect === "Allow");
        expect(granted.filter((s) => toEveryone((s as { Principal?: unknown }).Principal))).toEqual([]);
      }
    }
    data.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: "aws:kms" }) }),
        ],
      },
      VersioningConfiguration: { Status: "Enabled" },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        ]),
      },
    });
  });

  it("retains the stateful resources and turns point-in-time recovery on", () => {
    data.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        BillingMode: "PAY_PER_REQUEST",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    });
    for (const type of ["AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Cognito::UserPool"]) {
      for (const [id] of ofType(data, type))
        expect(data.toJSON().Resources[id].DeletionPolicy, id).toBe("Retain");
    }
    data.hasResourceProperties("AWS::Cognito::UserPool", {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    });
  });

  it("puts the Cognito JWT authorizer on every route, health included, and CORS for the console only", () => {
    const routes = ofType(service, "AWS::ApiGatewayV2::Route");
    expect(routes.length).toBeGreaterThan(0);
    for (const [id, route] of routes) {
      expect(route.Properties?.AuthorizationType, id).toBe("JWT");
      expect(route.Properties?.AuthorizerId, id).toBeDefined();
    }
    expect(routes.map(([, r]) => r.Properties?.RouteKey)).toContain("GET /api/{proxy+}");
    service.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "JWT",
      JwtConfiguration: Match.objectLike({ Audience: Match.anyValue(), Issuer: Match.anyValue() }),
    });
    // CORS: the console's distribution only, set once both exist (infra/constructs/api.ts, ApiCors).
    const api = ofType(service, "AWS::ApiGatewayV2::Api")[0]![1];
    expect(api.Properties?.CorsConfiguration).toBeUndefined();
    const corsCalls = ofType(service, "Custom::AWS").map(([, r]) => JSON.stringify(r.Properties?.Create));
    expect(corsCalls).toHaveLength(1);
    expect(corsCalls[0]).toContain("UpdateApi");
    expect(corsCalls[0]).toMatch(
      /AllowOrigins\\":\[\\"https:\/\/",\{"Fn::GetAtt":\["ConsoleDistribution[0-9A-F]+","DomainName"\]\},"\\"\]/,
    );
    service.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: Match.anyValue() }),
    });
  });

  it("serves the console from CloudFront with the console's one security policy: its files only, HSTS, no framing", () => {
    const policies = ofType(service, "AWS::CloudFront::ResponseHeadersPolicy");
    expect(policies).toHaveLength(1);
    const config = policies[0]![1].Properties!.ResponseHeadersPolicyConfig as {
      SecurityHeadersConfig: Record<string, Record<string, unknown>>;
    };
    const headers = config.SecurityHeadersConfig;
    // The same text local mode and the tests' stand-in send, with exactly the deployment's API, its
    // hosted UI and its issuer as the other origins (CloudFormation fills in the ids).
    const csp = JSON.stringify(headers.ContentSecurityPolicy!.ContentSecurityPolicy);
    const api = ofType(service, "AWS::ApiGatewayV2::Api")[0]![0];
    const domain = ofType(service, "AWS::Cognito::UserPoolDomain")[0]![0];
    const region = '{"Ref":"AWS::Region"}';
    const origins = [
      `https://",{"Ref":"${api}"},".execute-api.",${region},".",{"Ref":"AWS::URLSuffix"},"`,
      `https://",{"Ref":"${domain}"},".auth.",${region},".amazoncognito.com`,
      `https://cognito-idp.",${region},".amazonaws.com`,
    ].join(" ");
    expect(csp).toContain(`connect-src 'self' ${origins}; `);
    expect(csp).toContain(`form-action 'self' ${origins}"`);
    expect(csp).not.toMatch(/https:[ ;"]/); // no bare scheme
    const text = consoleContentSecurityPolicy(["https://api.example", "https://auth.example"]);
    for (const fixed of text.split("; ").filter((d) => !/^(connect-src|form-action) /.test(d)))
      expect(csp).toContain(fixed);
    expect(csp).not.toContain("unsafe-eval");
    expect(headers.FrameOptions).toMatchObject({ FrameOption: "DENY" });
    expect(headers.StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: 31_536_000 });
  });

  it("keeps the logical ids the app stack had before it was split into constructs", () => {
    // A new logical id replaces the resource: named ones would collide with their old names, log
    // groups would lose their logs, the distribution its URL (constructs/part.ts keeps them).
    const before = [
      "FlowLogs16C1943A",
      "Vpc8378EB38",
      "EventsD32975C2",
      "Alerts91F83244",
      "ClusterEB0386A7",
      "Task79114B6B",
      "TaskLogs5C7CDF8E",
      "Schedules29FB02FD",
      "ScheduleDeadLetters0406ECBC",
      "FanOutLogs6368F6BF",
      "FanOut4A9AB6BC",
      "ApiLogs3D05D88B",
      "ApiF70053CD",
      "TaskStateLogs7A53A6E7",
      "TaskStateFB9ED7CE",
      "HousekeepingLogs276FB43B",
      "Housekeeping4D78E60A",
      "RetentionLogs1E9642DA",
      "Retention8BFB5E80",
      "ConsoleAssets8400950A",
      "ConsoleDistribution022D3262",
      "SignIn1BF1EF28",
      "ConsoleClient4D43B885",
      "HttpApiF5A9A8A7",
      "ApiAccessLogsE9DF007D",
    ];
    expect(before.filter((id) => !(id in all(service)))).toEqual([]);
    expect(Object.keys(service.toJSON().Parameters ?? {})).toContain("AlertEmail");
  });

  it("has no IAM statement with a wildcard action in the product's own roles, and none with `*` anywhere", () => {
    for (const { id, s } of [...statementsOf(data), ...statementsOf(service)]) {
      for (const action of actionsOf(s)) {
        expect(action === "*" || action.endsWith(":*"), `${id}: ${action}`).toBe(false);
        if (!id.startsWith("CustomCDKBucketDeployment")) expect(action, id).not.toContain("*");
      }
    }
  });

  it("limits the task role to its table, the backups/ prefix, reads of imports/, the servers' secrets, the key, the bus and the topic", () => {
    const taskPolicies = statementsOf(service).filter(({ id }) => id.startsWith("TaskTaskRole"));
    expect(taskPolicies.length).toBeGreaterThan(0);
    const importStatements = taskPolicies.filter(({ s }) => /\/imports\/\*"/.test(resourcesOf(s)));
    // Exactly one statement reaches imports/, and it only reads (GetObject also authorises HeadObject).
    expect(importStatements).toHaveLength(1);
    expect(actionsOf(importStatements[0]!.s)).toEqual(["s3:GetObject"]);
    expect(resourcesOf(importStatements[0]!.s)).not.toMatch(/backups/);
    for (const { s } of taskPolicies) {
      const resources = resourcesOf(s);
      for (const action of actionsOf(s)) {
        const service_ = action.split(":")[0];
        if (service_ === "s3") expect(resources).toMatch(/\/(backups|imports)\/\*"/);
        if (service_ === "secretsmanager") {
          expect(action).toBe("secretsmanager:GetSecretValue");
          expect(resources).toContain("secret:mbm/servers/*");
        }
        if (service_ === "dynamodb") expect(resources).toContain("table/mongo-backup-manager-metadata");
        expect(["s3", "secretsmanager", "dynamodb", "kms", "events", "sns"]).toContain(service_);
      }
    }
  });

  it("configures each function with the runner and scheduler its use cases call (functions/wiring.ts)", () => {
    const envOf = (prefix: string) => {
      const found = ofType(service, "AWS::Lambda::Function").filter(([id]) => id.startsWith(prefix));
      expect(found, prefix).toHaveLength(1);
      return Object.keys((found[0]![1].Properties!.Environment as { Variables: object }).Variables);
    };
    const runner = ["MBM_ECS_CLUSTER", "MBM_TASK_DEFINITION", "MBM_TASK_SUBNETS", "MBM_TASK_SECURITY_GROUPS"];
    const scheduler = ["MBM_SCHEDULE_GROUP", "MBM_FAN_OUT_FUNCTION_ARN", "MBM_SCHEDULER_ROLE_ARN"];
    const alerts = ["MBM_EVENT_BUS_NAME", "MBM_ALERT_TOPIC_ARN", "MBM_TABLE_NAME"];
    // Fan-out removes an orphaned timer, so it needs the scheduler too.
    for (const name of ["Api", "FanOut"])
      expect(envOf(name)).toEqual(expect.arrayContaining([...runner, ...scheduler, ...alerts]));
    for (const name of ["TaskState", "Housekeeping"])
      expect(envOf(name)).toEqual(expect.arrayContaining([...runner, ...alerts]));
    expect(envOf("Retention")).toEqual(expect.arrayContaining(alerts));
  });

  it("passes no secret-looking value in any container's or function's environment", () => {
    const secretName = /PASSWORD|PASSWD|SECRET(?!_PREFIX)|TOKEN|PRIVATE|CREDENTIAL|API_KEY/i;
    const envs: Array<[string, Record<string, unknown>]> = [];
    for (const [id, fn] of ofType(service, "AWS::Lambda::Function")) {
      envs.push([
        id,
        (fn.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables ?? {},
      ]);
    }
    for (const [id, task] of ofType(service, "AWS::ECS::TaskDefinition")) {
      for (const c of task.Properties!.ContainerDefinitions as Array<{
        Environment?: Array<{ Name: string; Value: unknown }>;
        Secrets?: unknown;
      }>) {
        envs.push([id, Object.fromEntries((c.Environment ?? []).map((e) => [e.Name, e.Value]))]);
      }
    }
    expect(envs.length).toBeGreaterThanOrEqual(6);
    for (const [id, env] of envs) {
      for (const [name, value] of Object.entries(env)) {
        expect(secretName.test(name), `${id}: ${name}`).toBe(false);
        if (typeof value === "string")
          expect(value, `${id}: ${name}`).not.toMatch(/^[A-Za-z0-9+/]{32,}={0,2}$/);
      }
    }
  });

  it("builds the task image from its staged context: the Dockerfile and main.ts's bundle, nothing else", () => {
    const manifest = JSON.parse(readFileSync(join(outdir, "MongoBackupApp.assets.json"), "utf8")) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile?: string } }>;
    };
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    const dir = join(outdir, images[0]!.source.directory);
    expect(images[0]!.source.dockerFile ?? "Dockerfile").toBe("Dockerfile");
    expect(readdirSync(dir).sort()).toEqual(["Dockerfile", "task"]);
    expect(readFileSync(join(dir, "Dockerfile"), "utf8")).toBe(
      readFileSync(join(repoRoot, "task-image/Dockerfile"), "utf8"),
    );
    expect(existsSync(join(dir, "task/main.mjs"))).toBe(true);
    const files = readdirSync(join(dir, "task"), { recursive: true }).map(String);
    expect(files.filter((f) => !/^(main|chunks\/[\w-]+)\.mjs(\.map)?$/.test(f) && f !== "chunks")).toEqual(
      [],
    );
  });

  it("runs the task with a read-only root filesystem and only /tmp writable, on ARM64 Fargate", () => {
    service.hasResourceProperties("AWS::ECS::TaskDefinition", {
      RequiresCompatibilities: ["FARGATE"],
      RuntimePlatform: { CpuArchitecture: "ARM64", OperatingSystemFamily: "LINUX" },
      ContainerDefinitions: [
        Match.objectLike({
          ReadonlyRootFilesystem: true,
          MountPoints: [{ ContainerPath: "/tmp", ReadOnly: false, SourceVolume: "tmp" }],
        }),
      ],
    });
    service.hasResourceProperties("AWS::ECS::Cluster", {
      ClusterSettings: [{ Name: "containerInsights", Value: "enabled" }],
    });
  });

  it("has alarms on failed backups, stale schedules, every function's errors and the dead-letter queue", () => {
    const alarms = ofType(service, "AWS::CloudWatch::Alarm").map(([, a]) => a.Properties ?? {});
    const described = alarms.map((a) => String(a.AlarmDescription));
    expect(described).toEqual(
      expect.arrayContaining([
        "BackupFailed events in the last 5 minutes",
        "ScheduleStale events in the last 5 minutes",
        "The Api function failed",
        "The FanOut function failed",
        "The TaskState function failed",
        "The Housekeeping function failed",
        "The Retention function failed",
        "A schedule firing failed every retry and is in the dead-letter queue",
      ]),
    );
    service.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: Match.objectLike({ "detail-type": ["ECS Task State Change"] }),
    });
    service.hasResourceProperties("AWS::Scheduler::ScheduleGroup", Match.anyValue());
  });

  it("with a VPC of yours: tasks in its subnets without public IPs, the API function inside it", () => {
    const { service: inVpc } = synth({
      vpcId: "vpc-0123456789abcdef0",
      availabilityZones: "eu-west-1a,eu-west-1b",
      subnetIds: "subnet-0aaa,subnet-0bbb",
    });
    const t = Template.fromStack(inVpc);
    const fns = ofType(t, "AWS::Lambda::Function").filter(([id]) => id.startsWith("Api"));
    expect(fns).toHaveLength(1);
    const api = fns[0]![1].Properties!;
    expect((api.VpcConfig as { SubnetIds: string[] }).SubnetIds).toEqual(["subnet-0aaa", "subnet-0bbb"]);
    const env = (api.Environment as { Variables: Record<string, string> }).Variables;
    expect(env.MBM_TASK_SUBNETS).toBe("subnet-0aaa,subnet-0bbb");
    expect(env.MBM_TASK_ASSIGN_PUBLIC_IP).toBe("false");
    expect(ofType(t, "AWS::EC2::VPC")).toHaveLength(0);
    expect(ofType(service, "AWS::EC2::NatGateway")).toHaveLength(0); // the default: no NAT cost
  }, 120_000);
});

// Two stages side by side in one account and region, and the default: every physical name differs.
describe("stages (-c stage=<name>)", () => {
  type Named = { stack: string; id: string; key: string; value: string };
  // Properties that name a resource in the account and region (or globally); names scoped inside
  // another resource (an API's stage, a pool's group, an inline policy) cannot collide.
  const nameKeys = new Set([
    "StackName",
    "TableName",
    "BucketName",
    "ClusterName",
    "FunctionName",
    "LogGroupName",
    "AlarmName",
    "QueueName",
    "TopicName",
    "RoleName",
    "UserPoolName",
    "Domain",
    "Family",
    "Name",
  ]);
  const scoped = new Set(["AWS::ApiGatewayV2::Authorizer Name"]);
  const physicalNames = (built: ReturnType<typeof synth>): Named[] => {
    const named: Named[] = [];
    for (const stack of [built.data, built.service]) {
      named.push({ stack: stack.stackName, id: "(stack)", key: "StackName", value: stack.stackName });
      for (const [id, r] of Object.entries(all(Template.fromStack(stack)))) {
        for (const [key, value] of Object.entries(r.Properties ?? {})) {
          // A reference names nothing itself: it points at a resource whose own name is checked.
          const reference =
            typeof value === "object" && value !== null && ("Ref" in value || "Fn::GetAtt" in value);
          if (!nameKeys.has(key) || reference || scoped.has(`${r.Type} ${key}`)) continue;
          named.push({ stack: stack.stackName, id, key, value: JSON.stringify(value) });
        }
        const env = (r.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables;
        if (env?.MBM_SECRET_PREFIX)
          named.push({
            stack: stack.stackName,
            id,
            key: "MBM_SECRET_PREFIX",
            value: String(env.MBM_SECRET_PREFIX),
          });
      }
    }
    return named;
  };
  it("gives two stages and the default no physical name in common", () => {
    const stages = { staging: synth({ stage: "staging" }), prod: synth({ stage: "prod" }) };
    const defaults = physicalNames(defaultApp);
    const named: Record<"default" | "staging" | "prod", Named[]> = {
      default: defaults,
      staging: physicalNames(stages.staging),
      prod: physicalNames(stages.prod),
    };
    const kinds = (list: Named[]) => new Set(list.map((n) => n.key));
    for (const key of [
      "StackName",
      "TableName",
      "BucketName",
      "ClusterName",
      "Name",
      "FunctionName",
      "Domain",
      "MBM_SECRET_PREFIX",
    ]) {
      expect(kinds(named.default), key).toContain(key);
    }
    const entries = Object.entries(named);
    for (const [a, listA] of entries) {
      for (const [b, listB] of entries) {
        if (a >= b) continue;
        const valuesB = new Set(listB.map((n) => n.value));
        const shared = listA.filter((n) => valuesB.has(n.value));
        expect(shared, `${a} and ${b} share`).toEqual([]);
      }
      // Names no resource sets are generated from the stack's name, which differs too.
    }
    // No stage keeps today's names: the default deployment's are exactly as before stages.
    const values = named.default.map((n) => n.value).join("\n");
    for (const name of [
      "MongoBackupData",
      "MongoBackupApp",
      '"mongo-backup-manager-metadata"',
      '"mongo-backup-manager"',
      "mbm/servers/",
    ])
      expect(values).toContain(name);
    expect(named.staging.map((n) => n.value).join("\n")).toContain("mbm/staging/servers/");
  }, 240_000);

  it("synthesizes under cdk-nag for a bootstrap with its own qualifier (no acknowledgement names the default's)", () => {
    // A hard-coded cdk-hnb659fds asset bucket in an acknowledgement would leave the finding open here.
    expect(() => synth({ stage: "qa", "@aws-cdk/core:bootstrapQualifier": "mbmqa1234" })).not.toThrow();
  }, 120_000);

  it("refuses a stage name that would not make valid names", () => {
    for (const stage of ["Prod", "a_b", "x".repeat(13), "my-aws", "-a"])
      expect(() => buildApp(new App({ outdir: scratchDir("cdk-bad-"), context: { stage } })), stage).toThrow(
        /stage/,
      );
  });
});
