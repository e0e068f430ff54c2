// What must outlive any deployment of the code: the key, the metadata table, the backup bucket and
// the user pool. Retained when the stack is deleted (README, "Teardown"), and kept apart from the
// stateless compute so that replacing or deleting that stack can never touch a backup.
import { Duration, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import * as cognito from "aws-cdk-lib/aws-cognito";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as kms from "aws-cdk-lib/aws-kms";
import * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";
import { metadataTableDefinition } from "#adapters/aws/dynamodb-metadata-store.ts";
import { acknowledge } from "./nag.ts";
import type { DeploymentNames } from "./names.ts";

export interface DataStackProps extends StackProps {
  /** The deployment's physical names (its stage's). */
  readonly names: DeploymentNames;
  /** Object Lock in governance mode for this many days: backups nobody can delete early. 0 = off. */
  readonly objectLockDays: number;
}

export class DataStack extends Stack {
  readonly key: kms.Key;
  readonly table: dynamodb.Table;
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly userPool: cognito.UserPool;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);

    this.key = new kms.Key(this, "Key", {
      description: "mongo-backup-manager: backups, metadata, secrets, logs and messages",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // The same keys and indexes the adapter and its tests use (metadataTableDefinition).
    const attr = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    const key = (role: "HASH" | "RANGE") =>
      metadataTableDefinition.KeySchema.find((k) => k.KeyType === role)!.AttributeName!;
    this.table = new dynamodb.Table(this, "Metadata", {
      // Named (per stage) so the IAM statements of the other stack stay readable and their nag findings stable.
      tableName: props.names.table,
      partitionKey: attr(key("HASH")),
      sortKey: attr(key("RANGE")),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const gsi of metadataTableDefinition.GlobalSecondaryIndexes) {
      const [hash, range] = gsi.KeySchema!;
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.IndexName!,
        partitionKey: attr(hash!.AttributeName!),
        sortKey: attr(range!.AttributeName!),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    this.accessLogs = new s3.Bucket(this, "AccessLogs", {
      // Server access logs cannot be delivered to a KMS-encrypted bucket: S3-managed keys here.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.accessLogs,
      "AwsSolutions-S1",
      "This is the access-log bucket; logging it to itself would loop.",
    );

    this.bucket = new s3.Bucket(this, "Backups", {
      bucketName: props.names.bucket(this.account, this.region),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: "backups/",
      objectLockEnabled: props.objectLockDays > 0,
      ...(props.objectLockDays > 0
        ? {
            objectLockDefaultRetention: s3.ObjectLockRetention.governance(
              Duration.days(props.objectLockDays),
            ),
          }
        : {}),
      lifecycleRules: [
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
        // Retention deletes the current version; the noncurrent one goes a week later (a grace
        // period to undo a mistaken delete), never earlier than Object Lock allows.
        { noncurrentVersionExpiration: Duration.days(Math.max(7, props.objectLockDays + 1)) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.userPool = new cognito.UserPool(this, "Users", {
      selfSignUpEnabled: false,
      signInAliases: { email: true, username: true },
      passwordPolicy: {
        minLength: 12,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { sms: false, otp: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new cognito.CfnUserPoolGroup(this, "Operators", {
      userPoolId: this.userPool.userPoolId,
      groupName: "operators",
      description: "May change things: servers, backups, schedules, restores, settings",
    });
    new cognito.CfnUserPoolGroup(this, "Viewers", {
      userPoolId: this.userPool.userPoolId,
      groupName: "viewers",
      description: "May read everything and download backups",
    });
    acknowledge(
      this.userPool,
      "AwsSolutions-COG2",
      "MFA is offered (TOTP) but left to each organisation to require; README says how.",
    );
  }
}
