// IAM grants written out action by action. The CDK's grant helpers add wildcard actions
// (`s3:GetObject*`, `kms:ReEncrypt*`); these name exactly the calls the adapters make, so a review
// can match each action to a line of functions/adapters/aws. ARNs are built from the resources'
// names (names.ts), and where a resource part must be a wildcard (ids made at run time), the cdk-nag
// finding is acknowledged right here, with the reason.
import { ArnFormat, Aws, type Stack, Token } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type { IConstruct } from "constructs";
import { acknowledge } from "./nag.ts";
import type { DeploymentNames } from "./names.ts";

const BACKUP_PREFIX = "backups/";
/** Dumps made elsewhere, put here to be imported (core/ports.ts IMPORT_PREFIX). */
const IMPORT_PREFIX = "imports/";

type Grantee = iam.IGrantable & IConstruct;

/** How cdk-nag prints the stack's region and account: pseudo parameters, or the values when known. */
export function printed(stack: Stack): { region: string; account: string } {
  return {
    region: Token.isUnresolved(stack.region) ? "<AWS::Region>" : stack.region,
    account: Token.isUnresolved(stack.account) ? "<AWS::AccountId>" : stack.account,
  };
}

/** How cdk-nag prints an ARN built by formatArn in this stack. */
export function nagArn(stack: Stack, service: string, rest: string): string {
  const { region, account } = printed(stack);
  return `arn:<AWS::Partition>:${service}:${service === "s3" ? "::" : `${region}:${account}:`}${rest}`;
}

function allow(
  grantee: Grantee,
  actions: string[],
  resources: string[],
  conditions?: Record<string, unknown>,
) {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions, resources, ...(conditions ? { conditions } : {}) }),
  );
}

function wildcard(grantee: Grantee, printed: string, reason: string) {
  acknowledge(grantee, `AwsSolutions::AwsSolutions-IAM5[Resource::${printed}]`, reason);
}

/** Items of the metadata table and its indexes (dynamodb-metadata-store.ts: Get, Put, Delete, Query). */
export function grantTable(grantee: Grantee, stack: Stack, tableName: string): void {
  const table = stack.formatArn({ service: "dynamodb", resource: "table", resourceName: tableName });
  allow(
    grantee,
    ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"],
    [table, `${table}/index/*`],
  );
  wildcard(
    grantee,
    nagArn(stack, "dynamodb", `table/${tableName}/index/*`),
    "The table's six indexes (gsi1-gsi6), all queried by list paths.",
  );
}

/** The key that encrypts the table, bucket, secrets, topic and queue. */
export function grantKey(grantee: Grantee, keyArn: string): void {
  allow(grantee, ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"], [keyArn]);
}

/** Archives under backups/ only (s3-blob-store.ts; a multipart upload is s3:PutObject). */
export function grantArchives(
  grantee: Grantee,
  stack: Stack,
  names: DeploymentNames,
  access: { read?: boolean; write?: boolean; delete?: boolean },
): void {
  const actions = [
    // GetObjectVersion: a restore reads exactly the version its backup recorded (GetObject VersionId).
    ...(access.read ? ["s3:GetObject", "s3:GetObjectVersion"] : []),
    ...(access.write ? ["s3:PutObject", "s3:AbortMultipartUpload"] : []),
    ...(access.delete ? ["s3:DeleteObject"] : []),
  ];
  const bucketName = names.bucket(stack.account, stack.region);
  const { account, region } = printed(stack);
  allow(grantee, actions, [`arn:${Aws.PARTITION}:s3:::${bucketName}/${BACKUP_PREFIX}*`]);
  wildcard(
    grantee,
    `arn:<AWS::Partition>:s3:::${names.bucket(account, region)}/${BACKUP_PREFIX}*`,
    "Archive keys are made per backup (backups/<server>/<database>/<id>...): the prefix is the scope.",
  );
}

/**
 * Reading the dumps under imports/ (an import task: S3BlobStore head and download). HeadObject is
 * authorised by s3:GetObject; without s3:ListBucket a missing key answers 403 rather than 404, which
 * the import reports as missing or unreadable. Nothing may be written or deleted there.
 */
export function grantImportReads(grantee: Grantee, stack: Stack, names: DeploymentNames): void {
  const bucketName = names.bucket(stack.account, stack.region);
  const { account, region } = printed(stack);
  allow(grantee, ["s3:GetObject"], [`arn:${Aws.PARTITION}:s3:::${bucketName}/${IMPORT_PREFIX}*`]);
  wildcard(
    grantee,
    `arn:<AWS::Partition>:s3:::${names.bucket(account, region)}/${IMPORT_PREFIX}*`,
    "Import sources are any keys people put under imports/: the prefix is the scope, read only.",
  );
}

/** The servers' secrets under the prefix (secrets-manager-secret-store.ts). */
export function grantSecrets(
  grantee: Grantee,
  stack: Stack,
  prefix: string,
  access: "read" | "manage",
): void {
  // Secret ARNs end in a random suffix (`-AbCdEf`), and there is one secret per server.
  const arn = stack.formatArn({
    service: "secretsmanager",
    resource: "secret",
    resourceName: `${prefix}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const actions =
    access === "read"
      ? ["secretsmanager:GetSecretValue"]
      : [
          "secretsmanager:GetSecretValue",
          "secretsmanager:DescribeSecret",
          "secretsmanager:CreateSecret",
          "secretsmanager:PutSecretValue",
          "secretsmanager:DeleteSecret",
          "secretsmanager:RestoreSecret",
        ];
  allow(grantee, actions, [arn]);
  wildcard(
    grantee,
    nagArn(stack, "secretsmanager", `secret:${prefix}*`),
    "One secret per server, created at run time under this prefix; nothing else is readable.",
  );
}
