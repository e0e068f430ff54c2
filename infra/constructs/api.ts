// The HTTP API and sign-in: the Cognito hosted UI's domain and the console's app client (in this
// stack, not the pool's: the client names the console's URL, which lives here), the API function,
// and API Gateway's HTTP API with the Cognito JWT authorizer on every route.
import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as cognito from "aws-cdk-lib/aws-cognito";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as cr from "aws-cdk-lib/custom-resources";
import type { Construct } from "constructs";
import { functionEntries } from "../function-bundle.ts";
import { grantArchives, grantSecrets } from "../grants.ts";
import { acknowledge } from "../nag.ts";
import type { DeploymentNames } from "../names.ts";
import type { FunctionFactory } from "./app-function.ts";
import { AppPart } from "./part.ts";
import type { Scheduling } from "./scheduling.ts";
import type { Task } from "./task.ts";

export interface ApiProps {
  readonly names: DeploymentNames;
  readonly userPool: cognito.IUserPool;
  /** The console's origin (https://...): the sign-in's callback and the API's one CORS origin. */
  readonly consoleUrl: string;
  readonly functions: FunctionFactory;
  readonly task: Task;
  readonly scheduling: Scheduling;
  readonly logRetention: logs.RetentionDays;
}

export class Api extends AppPart {
  readonly function: lambda.Function;
  readonly client: cognito.UserPoolClient;
  /** The API's base URL, without a trailing slash. */
  readonly url: string;
  /** The hosted UI's base URL (https://<prefix>.auth.<region>.amazoncognito.com). */
  readonly signInUrl: string;
  /** The user pool's issuer's origin (https://cognito-idp.<region>.amazonaws.com). */
  readonly issuerOrigin: string;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { task, scheduling } = props;
    this.function = props.functions.create(
      this,
      "Api",
      functionEntries.api,
      { ...task.runnerEnvironment, ...scheduling.environment },
      { memory: 1024, timeout: 29, inVpc: true },
    );
    task.grantRun(this.function);
    scheduling.grantManageSchedules(this.function);
    grantSecrets(this.function, stack, props.names.secretPrefix, "manage");
    grantArchives(this.function, stack, props.names, { read: true, delete: true });

    const domain = new cognito.UserPoolDomain(this, "SignIn", {
      userPool: props.userPool,
      cognitoDomain: { domainPrefix: props.names.signInDomainPrefix(stack.account, stack.region) },
    });
    this.signInUrl = domain.baseUrl();
    this.client = new cognito.UserPoolClient(this, "ConsoleClient", {
      userPool: props.userPool,
      generateSecret: false,
      preventUserExistenceErrors: true,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [`${props.consoleUrl}/`],
        logoutUrls: [`${props.consoleUrl}/`],
      },
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });

    const httpApi = new apigw.HttpApi(this, "HttpApi", {
      apiName: props.names.httpApi,
      description: "mongo-backup-manager API",
      // CORS is set by ApiCors below, after the console's distribution exists.
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, "ApiAccessLogs", {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = new apigw.HttpStage(this, "ApiStage", {
      httpApi,
      stageName: "$default",
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: "$context.requestId",
            ip: "$context.identity.sourceIp",
            user: "$context.authorizer.claims.sub",
            method: "$context.httpMethod",
            path: "$context.path",
            status: "$context.status",
            latency: "$context.responseLatency",
            error: "$context.authorizer.error",
          }),
        ),
      },
    });
    this.issuerOrigin = `https://cognito-idp.${stack.region}.amazonaws.com`;
    const authorizer = new HttpJwtAuthorizer("Cognito", `${this.issuerOrigin}/${props.userPool.userPoolId}`, {
      jwtAudience: [this.client.userPoolClientId],
    });
    // Every route is behind the authorizer, health included; CORS preflights are answered by
    // API Gateway itself (ApiCors below) before any route.
    httpApi.addRoutes({
      path: "/api/{proxy+}",
      methods: [
        apigw.HttpMethod.GET,
        apigw.HttpMethod.POST,
        apigw.HttpMethod.PUT,
        apigw.HttpMethod.PATCH,
        apigw.HttpMethod.DELETE,
      ],
      integration: new HttpLambdaIntegration("ApiIntegration", this.function),
      authorizer,
    });
    this.url = stage.url.replace(/\/$/, "");

    // The API's CORS origin is the console's distribution, and the distribution's CSP names the
    // API's origin exactly: declared on the HttpApi, that is a CloudFormation cycle (API -> distribution
    // -> its response headers policy -> API). So the API is created without CORS, and this call sets
    // the same configuration corsPreflight would, once both exist. API Gateway answers preflights
    // (OPTIONS) itself from it, before any route, as before.
    const cors = {
      AllowOrigins: [props.consoleUrl],
      AllowHeaders: ["authorization", "content-type"],
      AllowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
      MaxAge: Duration.hours(1).toSeconds(),
    };
    const setCors: cr.AwsSdkCall = {
      service: "ApiGatewayV2",
      action: "UpdateApi",
      parameters: { ApiId: httpApi.apiId, CorsConfiguration: cors },
      physicalResourceId: cr.PhysicalResourceId.of(`${httpApi.apiId}-cors`),
    };
    new cr.AwsCustomResource(this, "ApiCors", {
      onCreate: setCors,
      onUpdate: setCors,
      installLatestAwsSdk: false,
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ["apigateway:PATCH"],
          resources: [
            stack.formatArn({
              service: "apigateway",
              account: "",
              resource: "/apis",
              resourceName: httpApi.apiId,
            }),
          ],
        }),
      ]),
    });
    const provider = stack.node.tryFindChild(
      `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replaceAll("-", "")}`,
    );
    if (provider) {
      acknowledge(
        provider,
        "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "The CDK's AwsCustomResource function (it sets the API's CORS) writes its own logs.",
      );
      acknowledge(
        provider,
        "AwsSolutions::AwsSolutions-L1",
        "The CDK's AwsCustomResource function; its runtime is chosen by aws-cdk-lib.",
      );
    }
  }
}
