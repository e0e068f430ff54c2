// The API on Lambda behind API Gateway (HTTP API, JWT authorizer): the same app as local mode, with
// the AWS adapters, the ECS runner and the EventBridge Scheduler (functions/composition.ts). Built on the
// first invocation, not on import, so importing reads no environment.
import { handle } from "hono/aws-lambda";
import { awsDepsOnce } from "#functions/composition.ts";
import { createLogger } from "#functions/logger.ts";
import { createApp } from "./app.ts";
import { lambdaJwtClaimsAuth } from "./auth.ts";

type LambdaHandler = ReturnType<typeof handle>;
let handleRequest: LambdaHandler | undefined;
const log = createLogger("api");
const deps = awsDepsOnce(log);

function build(): LambdaHandler {
  const { downloads, ...core } = deps();
  if (!downloads) throw new Error("the AWS adapters must provide download links");
  return handle(createApp({ ...core, downloads, authenticate: lambdaJwtClaimsAuth(), log }));
}

export const handler: LambdaHandler = (event, context) => {
  handleRequest ??= build();
  return handleRequest(event, context);
};
