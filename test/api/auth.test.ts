// AWS authentication: API Gateway's JWT authorizer verifies the Cognito token and passes its claims
// in the Lambda event; lambdaJwtClaimsAuth reads them (hono/aws-lambda hands the event to the app
// as c.env.event). Checked with app.request's third argument (c.env), and end to end through
// hono/aws-lambda's handle() with an API Gateway HTTP API (v2) event.
import { type ApiGatewayRequestContextV2, handle, type LambdaContext } from "hono/aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "#functions/api/app.ts";
import { createApp } from "#functions/api/app.ts";
import { groupsOf, lambdaJwtClaimsAuth } from "#functions/api/auth.ts";
import { createLogger } from "#functions/logger.ts";
import { type ApiWorld, apiWorld } from "#test/support/api-harness.ts";

type Claims = Record<string, string | number | boolean | string[]>;

const operatorClaims: Claims = {
  sub: "5f1c0b1e-0000-4000-8000-000000000001",
  "cognito:username": "alice",
  "cognito:groups": "[operators viewers]",
  email: "alice@example.com",
  token_use: "access",
};
const viewerClaims: Claims = { sub: "s-2", "cognito:username": "bob", "cognito:groups": "[viewers]" };
const noGroupClaims: Claims = { sub: "s-3", username: "carol" };

/** c.env as hono/aws-lambda builds it: the raw event (with the authorizer's claims) and more. */
const envWith = (claims: Claims) => ({
  event: { requestContext: { authorizer: { jwt: { claims, scopes: null } } } },
});

describe("groupsOf", () => {
  it.each([
    ["an array", ["operators", "viewers"], ["operators", "viewers"]],
    ["an array with non-strings", ["operators", 7, null], ["operators"]],
    ["API Gateway's flattened string", "[operators viewers]", ["operators", "viewers"]],
    ["one group in brackets", "[viewers]", ["viewers"]],
    ["a JSON array string", '["operators","viewers"]', ["operators", "viewers"]],
    ["a JSON array string with spaces around", '  ["a", "b"] ', ["a", "b"]],
    ["a plain string", "operators", ["operators"]],
    ["a comma is part of a name, not a separator", "[operators,viewers]", ["operators,viewers"]],
    ["commas and spaces", "a,b, c", ["a,b,", "c"]],
    ["tabs and newlines separate", "[a\tb\nc]", ["a", "b", "c"]],
    ["empty brackets", "[]", []],
    ["an empty string", "", []],
    ["broken JSON", '["operators",', []],
    ["JSON with a non-string", '["operators", 1]', []],
    ["a number", 42, []],
    ["null", null, []],
    ["undefined", undefined, []],
    ["an object", { operators: true }, []],
  ])("%s", (_label, claim, expected) => {
    expect(groupsOf(claim)).toEqual(expected);
  });
});

describe.each(["local", "aws"] as const)("lambdaJwtClaimsAuth in the app (%s)", (kind) => {
  let api: ApiWorld;
  let app: App;

  beforeAll(async () => {
    api = await apiWorld(kind);
    app = createApp({
      ...api.deps,
      authenticate: lambdaJwtClaimsAuth(),
      downloads: { link: async () => ({ url: "http://127.0.0.1:1/", expires_at: new Date().toISOString() }) },
      log: createLogger("auth-test", { level: "silent" }),
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  const get = (path: string, env?: unknown) => app.request(path, {}, env);
  const post = (path: string, body: unknown, env?: unknown) =>
    app.request(
      path,
      { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
      env,
    );
  const newServer = (name: string) => ({ name, host: "db.example.internal", port: 27017 });

  async function errorCode(res: Response): Promise<string> {
    const body = (await res.json()) as { error: { code: string } };
    return body.error.code;
  }

  it('"[operators viewers]": may change things, audited under the Cognito user name', async () => {
    const res = await post("/api/servers", newServer("by alice"), envWith(operatorClaims));
    expect(res.status).toBe(201);
    const server = (await res.json()) as { id: string };
    const audit = await get(`/api/audit?target_id=${server.id}`, envWith(operatorClaims));
    expect(audit.status).toBe(200);
    const { items } = (await audit.json()) as { items: unknown[] };
    expect(items).toEqual([
      expect.objectContaining({
        actor: "alice",
        action: "server.create",
        target_id: server.id,
        outcome: "success",
      }),
    ]);
    const list = await get("/api/servers", envWith(operatorClaims));
    expect(list.status).toBe(200);
  });

  it("groups as a real array work too; the name falls back to username, email, then sub", async () => {
    const cases: Array<[Claims, string]> = [
      [{ username: "dave", "cognito:groups": ["operators"] }, "dave"],
      [{ email: "erin@example.com", "cognito:groups": '["operators"]' }, "erin@example.com"],
      [{ sub: "sub-only", "cognito:groups": "operators" }, "sub-only"],
    ];
    for (const [claims, actor] of cases) {
      const res = await post("/api/servers", newServer(`by ${actor}`), envWith(claims));
      expect(res.status, actor).toBe(201);
      const { id } = (await res.json()) as { id: string };
      const audit = await get(`/api/audit?target_id=${id}`, envWith(claims));
      expect(((await audit.json()) as { items: Array<{ actor: string }> }).items[0]?.actor).toBe(actor);
    }
  });

  it('"[viewers]": reads (200) but may not change anything (403)', async () => {
    const before = await api.snapshot();
    expect((await get("/api/servers", envWith(viewerClaims))).status).toBe(200);
    expect((await get("/api/settings", envWith(viewerClaims))).status).toBe(200);
    const res = await post("/api/servers", newServer("by bob"), envWith(viewerClaims));
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("forbidden");
    expect(body.error.message).toContain("bob");
    const put = await app.request(
      "/api/settings",
      { method: "PUT", headers: { "content-type": "application/json" }, body: '{"keep_last":2}' },
      envWith(viewerClaims),
    );
    expect(put.status).toBe(403);
    expect(await api.snapshot()).toEqual(before);
  });

  it("in neither group (no claim, or names that only look like ours): 403 on every route, /api/me included", async () => {
    const lookalikes = [
      "[operators-admins xoperators]",
      "[not-operators]",
      "[operators,viewers]",
      "[operatorsX viewersX]",
      "[Operators VIEWERS]",
      '["operators,viewers"]',
      ["operators ", " viewers"],
      "[]",
      "",
    ];
    const before = await api.snapshot();
    for (const claims of [
      noGroupClaims,
      ...lookalikes.map((groups) => ({ ...noGroupClaims, "cognito:groups": groups })),
    ]) {
      const label = JSON.stringify(claims["cognito:groups"] ?? "no claim");
      for (const path of ["/api/me", "/api/servers", "/api/backups", "/api/settings", "/api/openapi.json"]) {
        const res = await get(path, envWith(claims));
        expect(res.status, `${label} GET ${path}`).toBe(403);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe("forbidden");
        expect(body.error.message).toContain(
          "ask an administrator to add you to the operators or viewers group",
        );
        expect(body.error.message).toContain("carol");
      }
      const res = await post("/api/servers", newServer("by carol"), envWith(claims));
      expect(res.status, label).toBe(403);
    }
    expect(await api.snapshot()).toEqual(before);
  });

  it("exact members: operators (alone or with others) change things, viewers (alone) read", async () => {
    const cases: Array<[Claims["cognito:groups"], "operator" | "viewer"]> = [
      ["[operators]", "operator"],
      ["[not-operators operators]", "operator"],
      ['["viewers","operators"]', "operator"],
      ["[viewers]", "viewer"],
      ["[operators,viewers viewers]", "viewer"],
      [["viewers"], "viewer"],
    ];
    for (const [groups, role] of cases) {
      const claims = { ...noGroupClaims, "cognito:groups": groups };
      const me = await get("/api/me", envWith(claims));
      expect(me.status, JSON.stringify(groups)).toBe(200);
      expect(await me.json()).toEqual({ id: "carol", role });
    }
  });

  it("no event, no authorizer, no claims or no name in them: 401", async () => {
    const before = await api.snapshot();
    const anonymous: Array<[string, unknown]> = [
      ["no env", undefined],
      ["env without event", {}],
      ["event without requestContext", { event: {} }],
      ["no authorizer", { event: { requestContext: {} } }],
      ["an IAM authorizer", { event: { requestContext: { authorizer: { iam: { userArn: "arn" } } } } }],
      ["claims not an object", { event: { requestContext: { authorizer: { jwt: { claims: "alice" } } } } }],
      ["claims without a name", envWith({ "cognito:groups": "[operators]", scope: "x" })],
      ["an empty user name", envWith({ "cognito:username": "", "cognito:groups": "[operators]" })],
    ];
    for (const [label, env] of anonymous) {
      const read = await get("/api/servers", env);
      expect(read.status, label).toBe(401);
      expect(await errorCode(read)).toBe("unauthenticated");
      expect(read.headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect((await post("/api/servers", newServer("anon"), env)).status, label).toBe(401);
    }
    // A bearer header is not what AWS mode trusts: without verified claims it is still no one.
    const forged = await app.request("/api/servers", { headers: { authorization: "Bearer anything" } });
    expect(forged.status).toBe(401);
    expect((await get("/api/openapi.json")).status).toBe(401);
    expect(await api.snapshot()).toEqual(before);
  });

  describe("through hono/aws-lambda handle() with API Gateway v2 events", () => {
    const lambdaContext = {
      awsRequestId: "req-1",
      functionName: "mbm-api",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:mbm-api",
      memoryLimitInMB: "512",
      logGroupName: "/aws/lambda/mbm-api",
      logStreamName: "stream",
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => 30_000,
    } as unknown as LambdaContext;

    function event(
      method: string,
      path: string,
      options: { claims?: Claims; body?: unknown; query?: string; base64?: boolean } = {},
    ) {
      const text = options.body === undefined ? null : JSON.stringify(options.body);
      const requestContext: ApiGatewayRequestContextV2 = {
        accountId: "123456789012",
        apiId: "abc123",
        authentication: null,
        authorizer: options.claims ? { jwt: { claims: options.claims, scopes: null } } : {},
        domainName: "abc123.execute-api.us-east-1.amazonaws.com",
        domainPrefix: "abc123",
        http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "vitest" },
        requestId: "req-1",
        routeKey: "$default",
        stage: "$default",
        time: "22/Nov/2026:08:00:00 +0000",
        timeEpoch: Date.now(),
      };
      return {
        version: "2.0",
        routeKey: "$default",
        rawPath: path,
        rawQueryString: options.query ?? "",
        headers: {
          host: "abc123.execute-api.us-east-1.amazonaws.com",
          ...(text ? { "content-type": "application/json" } : {}),
        },
        requestContext,
        body: text && options.base64 ? Buffer.from(text).toString("base64") : text,
        isBase64Encoded: Boolean(text && options.base64),
      };
    }

    it("operator claims: POST creates (201), GET lists it (200)", async () => {
      const lambda = handle(app);
      const created = await lambda(
        event("POST", "/api/servers", {
          claims: operatorClaims,
          body: newServer("via lambda"),
          base64: true,
        }),
        lambdaContext,
      );
      expect(created.statusCode, created.body).toBe(201);
      expect(created.headers?.["content-type"]).toMatch(/^application\/json/);
      const server = JSON.parse(created.body) as { id: string; name: string };
      expect(server.name).toBe("via lambda");

      const listed = await lambda(
        event("GET", "/api/audit", { claims: viewerClaims, query: `target_id=${server.id}&limit=5` }),
        lambdaContext,
      );
      expect(listed.statusCode, listed.body).toBe(200);
      const { items } = JSON.parse(listed.body) as { items: Array<{ actor: string; action: string }> };
      expect(items).toEqual([expect.objectContaining({ actor: "alice", action: "server.create" })]);
    });

    it("viewer claims: GET 200, POST 403; no authorizer: 401", async () => {
      const lambda = handle(app);
      const read = await lambda(event("GET", "/api/servers", { claims: viewerClaims }), lambdaContext);
      expect(read.statusCode).toBe(200);
      expect(JSON.parse(read.body)).toMatchObject({ items: expect.any(Array), next_cursor: null });
      const write = await lambda(
        event("POST", "/api/servers", { claims: viewerClaims, body: newServer("by bob") }),
        lambdaContext,
      );
      expect(write.statusCode).toBe(403);
      expect(JSON.parse(write.body).error.code).toBe("forbidden");
      const anonymous = await lambda(event("GET", "/api/servers"), lambdaContext);
      expect(anonymous.statusCode).toBe(401);
      expect(JSON.parse(anonymous.body).error.code).toBe("unauthenticated");
    });
  });
});
