// API Gateway's HTTP API in front of the API app, as infra/app-stack.ts sets it up, for tests that
// sign in through a real OpenID provider: CORS for the console's origin (answered before any
// authorizer, preflights included), then the JWT authorizer on /api/*: the bearer token must be a
// JWT signed by a key of the issuer's JWKS (found through its discovery document), from that
// issuer, unexpired, and for the audience: `aud`, or `client_id` when there is no `aud` (Cognito's
// access tokens have none). Otherwise 401 {"message":"Unauthorized"}, as API Gateway answers. A
// verified request reaches the app with the claims in its Lambda event, flattened to strings as
// API Gateway flattens them ("[operators viewers]"), where lambdaJwtClaimsAuth reads them: the
// same code path as on AWS.
import { Hono } from "hono";
import { cors } from "hono/cors";
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";

export interface GatewayRequest {
  method: string;
  path: string;
  /** The bearer token sent, if any. */
  token: string | null;
  /** Whether the authorizer let it through. */
  verified: boolean;
  /** Why it did not, when it did not. */
  refusal?: string;
}

export interface JwtGatewayOptions {
  /** The API app: Hono's fetch, given the Lambda-style env as its second argument. */
  app: { fetch(request: Request, env: unknown): Response | Promise<Response> };
  issuer: string;
  audience: string;
  /** The console's origin (corsPreflight.allowOrigins). */
  allowOrigin: string;
}

export interface JwtGateway {
  fetch(request: Request): Response | Promise<Response>;
  /** Every /api request, in the order the authorizer decided on them. */
  requests: GatewayRequest[];
}

export function jwtGateway(options: JwtGatewayOptions): JwtGateway {
  const requests: GatewayRequest[] = [];
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  // API Gateway finds the keys through the issuer's discovery document, once.
  const jwks = async () => {
    if (!keys) {
      const response = await fetch(`${options.issuer}/.well-known/openid-configuration`);
      const discovery = (await response.json()) as { jwks_uri?: unknown };
      if (typeof discovery.jwks_uri !== "string") throw new Error("the issuer publishes no jwks_uri");
      keys = createRemoteJWKSet(new URL(discovery.jwks_uri));
    }
    return keys;
  };
  const verify = async (token: string): Promise<JWTPayload> => {
    const { payload } = await jwtVerify(token, await jwks(), { issuer: options.issuer });
    const audiences = payload.aud === undefined ? [payload.client_id] : [payload.aud].flat();
    if (!audiences.includes(options.audience)) throw new Error("the token is not for this API's audience");
    return payload;
  };

  const gateway = new Hono();
  gateway.use(
    "*",
    cors({
      origin: options.allowOrigin,
      allowHeaders: ["authorization", "content-type"],
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
      maxAge: 3600,
    }),
  );
  gateway.all("/api/*", async (c) => {
    const token = /^Bearer (\S+)$/.exec(c.req.header("authorization") ?? "")?.[1] ?? null;
    const seen = { method: c.req.method, path: c.req.path, token };
    let claims: JWTPayload;
    try {
      if (!token) throw new Error("no bearer token");
      claims = await verify(token);
    } catch (error) {
      requests.push({
        ...seen,
        verified: false,
        refusal: error instanceof Error ? error.message : String(error),
      });
      c.header("www-authenticate", 'Bearer error="invalid_token"');
      return c.json({ message: "Unauthorized" }, 401);
    }
    // Recorded once decided, so a test never sees a request still being checked.
    requests.push({ ...seen, verified: true });
    const flattened = Object.fromEntries(
      Object.entries(claims).map(([name, value]) => [name, flatten(value)]),
    );
    const event = { requestContext: { authorizer: { jwt: { claims: flattened, scopes: null } } } };
    return options.app.fetch(c.req.raw, { event });
  });
  gateway.notFound((c) => c.json({ message: "Not Found" }, 404));
  return { fetch: gateway.fetch, requests };
}

/** A claim as API Gateway hands it to Lambda: a string, arrays as "[a b]". */
function flatten(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return `[${value.join(" ")}]`;
  return JSON.stringify(value);
}
