// The API on Lambda behind API Gateway (HTTP API, JWT authorizer): the same app as local mode, with
// the AWS adapters. Built on the first invocation, not on import, so importing reads no environment.
import { handle } from "hono/aws-lambda";
import { LogEventBus } from "#adapters/log/log-event-bus.ts";
import { MongoDriverInspector } from "#adapters/mongo-driver-inspector.ts";
import { buildAdapters, parseEnv } from "#functions/config.ts";
import { createLogger } from "#functions/logger.ts";
import { createApp } from "./app.ts";
import { lambdaJwtClaimsAuth } from "./auth.ts";

type LambdaHandler = ReturnType<typeof handle>;
let handleRequest: LambdaHandler | undefined;

function build(): LambdaHandler {
  const config = parseEnv();
  if (config.MBM_ADAPTERS !== "aws") throw new Error("the Lambda handler needs MBM_ADAPTERS=aws");
  const { downloads, ...adapters } = buildAdapters(config);
  if (!downloads) throw new Error("the AWS adapters must provide download links");
  const app = createApp({
    ...adapters,
    downloads,
    inspector: new MongoDriverInspector({ timeoutMs: 5_000 }),
    // The ECS runner and the EventBridge Scheduler adapter arrive with dispatch (issue 4); until
    // then jobs wait queued and schedules are stored without firing, and health says so.
    runner: null,
    scheduler: null,
    alerts: { bus: new LogEventBus(createLogger("events")), notifiers: [], webhook: null },
    authenticate: lambdaJwtClaimsAuth(),
    log: createLogger("api"),
  });
  return handle(app);
}

export const handler: LambdaHandler = (event, context) => {
  handleRequest ??= build();
  return handleRequest(event, context);
};
