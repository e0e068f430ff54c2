// The web console: a private bucket behind CloudFront (origin access control, SPA fallback,
// security headers), deployed with a runtime config.json that tells the console where the API and
// the sign-in are. `cdk synth` builds the console first (infra/app.ts); a placeholder page stands in only when
// web/build is absent (a synth from code that skipped the build).
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  BOOTSTRAP_QUALIFIER_CONTEXT,
  type CfnElement,
  DefaultStackSynthesizer,
  Duration,
  Lazy,
  RemovalPolicy,
  Stack,
} from "aws-cdk-lib";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as deploy from "aws-cdk-lib/aws-s3-deployment";
import { Construct } from "constructs";
import { consoleContentSecurityPolicy } from "#functions/api/console-policy.ts";
import { printed } from "../grants.ts";
import { acknowledge } from "../nag.ts";

export interface ConsoleHostingProps {
  readonly accessLogs: s3.IBucket;
  /** The console's build output; a placeholder page when it does not exist. */
  readonly buildDir: string;
}

export class ConsoleHosting extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly url: string;
  readonly #bucket: s3.Bucket;
  readonly #buildDir: string;
  readonly #connectTo: string[] = [];

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    this.#buildDir = props.buildDir;
    this.#bucket = new s3.Bucket(this, "Assets", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: "console/",
      // Rebuilt from the repository on every deploy: nothing in it is worth keeping.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    const headers = new cloudfront.ResponseHeadersPolicy(this, "Headers", {
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          // The console talks to its API and Cognito only (allowConnections), loads nothing else.
          contentSecurityPolicy: Lazy.string({
            produce: () => consoleContentSecurityPolicy(this.#connectTo),
          }),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });
    this.distribution = new cloudfront.Distribution(this, "Distribution", {
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.#bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: headers,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      },
      defaultRootObject: "index.html",
      // SPA fallback: a deep link (/backups/123) is the app's route, not an object.
      errorResponses: [403, 404].map((httpStatus) => ({
        httpStatus,
        responseHttpStatus: 200,
        responsePagePath: "/index.html",
        ttl: Duration.seconds(0),
      })),
      enableLogging: true,
      logBucket: props.accessLogs,
      logFilePrefix: "cloudfront/",
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
    });
    this.url = `https://${this.distribution.distributionDomainName}`;
    acknowledge(
      this.distribution,
      "AwsSolutions-CFR1",
      "Operators sign in with Cognito; restricting countries is the organisation's choice.",
    );
    acknowledge(
      this.distribution,
      "AwsSolutions-CFR2",
      "A static console behind sign-in; WAF is optional and costs a fixed fee.",
    );
    acknowledge(
      this.distribution,
      "AwsSolutions-CFR4",
      "The default *.cloudfront.net certificate allows TLSv1 at the viewer; a custom domain sets TLS 1.2.",
    );
  }

  /** Origins the console may fetch from and submit to, beside its own (its API, the sign-in). */
  allowConnections(...origins: string[]): void {
    this.#connectTo.push(...origins);
  }

  /** Deploys the build (or the placeholder) and `config.json` with the deployment's values. */
  deploy(config: Record<string, string>): void {
    const built = existsSync(join(this.#buildDir, "index.html"));
    const sources = built
      ? [deploy.Source.asset(this.#buildDir)]
      : [
          deploy.Source.data(
            "index.html",
            '<!doctype html><html lang="en"><meta charset="utf-8"><title>mongo-backup-manager</title>' +
              "<p>The console is not built yet. The API is at the URL in config.json.</p></html>",
          ),
        ];
    new deploy.BucketDeployment(this, "Deploy", {
      destinationBucket: this.#bucket,
      sources: [...sources, deploy.Source.jsonData("config.json", config)],
      distribution: this.distribution,
      distributionPaths: ["/index.html", "/config.json"],
      prune: true,
      memoryLimit: 512,
    });
    this.#acknowledgeDeployment();
  }

  /** The CDK's BucketDeployment function (one per stack, at the stack's root): its nag findings. */
  #acknowledgeDeployment(): void {
    const stack = Stack.of(this);
    const { account, region } = printed(stack);
    // The asset bucket of the bootstrap this stack is synthesized for (its qualifier, not the default's).
    const qualifier =
      stack.synthesizer.bootstrapQualifier ??
      (stack.node.tryGetContext(BOOTSTRAP_QUALIFIER_CONTEXT) as string | undefined) ??
      DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    const assets = this.#bucket.node.defaultChild as CfnElement;
    const basicRole =
      "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]";
    for (const child of stack.node.children) {
      if (!child.node.id.startsWith("Custom::CDKBucketDeployment")) continue;
      acknowledge(child, basicRole, "The CDK's BucketDeployment function writes its own logs.");
      acknowledge(
        child,
        "AwsSolutions::AwsSolutions-L1",
        "The CDK's BucketDeployment function; its runtime is chosen by aws-cdk-lib.",
      );
      for (const finding of [
        "Action::s3:GetBucket*",
        "Action::s3:GetObject*",
        "Action::s3:List*",
        "Action::s3:Abort*",
        "Action::s3:DeleteObject*",
        "Resource::*",
        `Resource::arn:<AWS::Partition>:s3:::cdk-${qualifier}-assets-${account}-${region}/*`,
        `Resource::<${stack.resolve(assets.logicalId) as string}.Arn>/*`,
      ]) {
        acknowledge(
          child,
          `AwsSolutions::AwsSolutions-IAM5[${finding}]`,
          "The CDK's BucketDeployment copies the console build from the CDK asset bucket into the console bucket.",
        );
      }
    }
  }
}
