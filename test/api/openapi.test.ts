// GET /api/openapi.json over both stores: behind authentication, and in step with the app: every
// route Hono serves is documented with its method and every documented operation is served, each
// with its 401 and 422 replies; request bodies are closed (additionalProperties: false).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiWorld, apiWorld } from "#test/support/api-harness.ts";

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"] as const;

interface Operation {
  responses: Record<string, unknown>;
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  parameters?: Array<{ in: string; name: string }>;
  security?: unknown;
}
interface JsonSchema {
  type?: string;
  $ref?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  required?: string[];
  [key: string]: unknown;
}
interface Document {
  openapi: string;
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  components?: { schemas?: Record<string, JsonSchema>; securitySchemes?: Record<string, unknown> };
  security?: unknown;
}

/** "GET /api/servers/{id}" for each operation of the document. */
function documentedOperations(doc: Document): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`),
  );
}

describe.each(["local", "aws"] as const)("OpenAPI document (%s)", (kind) => {
  let api: ApiWorld;
  let doc: Document;

  beforeAll(async () => {
    api = await apiWorld(kind);
    const reply = await api.call("GET", "/api/openapi.json", { as: "viewer" });
    expect(reply.status, reply.text).toBe(200);
    doc = reply.json;
  });
  afterAll(async () => {
    await api?.close();
  });

  it("needs a token (401 without), served to viewers and operators alike", async () => {
    const anonymous = await api.call("GET", "/api/openapi.json", { as: "nobody" });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error).toMatchObject({ code: "unauthenticated" });
    expect(anonymous.text).not.toContain('"paths"');
    const operator = await api.call("GET", "/api/openapi.json");
    expect(operator.status).toBe(200);
    expect(operator.headers.get("content-type")).toMatch(/^application\/json/);
    expect(operator.json).toEqual(doc);
  });

  it("is an OpenAPI 3 document that requires the bearer scheme", () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.components?.securitySchemes?.bearer).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("documents every route the app serves, and serves every documented operation", () => {
    const served = new Set(
      api.app.routes
        .filter((r) => r.method !== "ALL" && r.path !== "/api/openapi.json")
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
    );
    const documented = documentedOperations(doc);
    expect(new Set(documented).size).toBe(documented.length);
    expect([...served].sort()).toEqual([...documented].sort());
    // The resources this API promises are all there.
    for (const op of [
      "GET /api/servers",
      "POST /api/servers",
      "POST /api/servers/probe-databases",
      "GET /api/servers/{id}",
      "PUT /api/servers/{id}",
      "DELETE /api/servers/{id}",
      "POST /api/servers/{id}/test",
      "GET /api/servers/{id}/databases",
      "GET /api/databases",
      "POST /api/databases/sync",
      "GET /api/databases/{id}",
      "PATCH /api/databases/{id}",
      "DELETE /api/databases/{id}",
      "GET /api/schedules",
      "POST /api/schedules",
      "GET /api/schedules/{id}",
      "PUT /api/schedules/{id}",
      "DELETE /api/schedules/{id}",
      "POST /api/schedules/{id}/toggle",
      "GET /api/health",
      "GET /api/stats",
      "GET /api/settings",
      "PUT /api/settings",
      "GET /api/audit",
    ]) {
      expect(documented).toContain(op);
    }
  });

  it("every operation lists its 401 and 422 replies (error bodies), a success reply, and its path parameters", () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const where = `${method.toUpperCase()} ${path}`;
        expect(Object.keys(op.responses), where).toEqual(expect.arrayContaining(["401", "422"]));
        const successes = Object.keys(op.responses).filter((s) => /^2\d\d$/.test(s));
        expect(successes, where).toHaveLength(1);
        for (const status of ["401", "422"]) {
          const schema = (op.responses[status] as { content: { "application/json": { schema: JsonSchema } } })
            .content["application/json"].schema;
          expect(JSON.stringify(schema), `${where} ${status}`).toContain('"error"');
        }
        for (const name of path.match(/\{(\w+)\}/g) ?? []) {
          const param = name.slice(1, -1);
          expect(op.parameters ?? [], where).toContainEqual(
            expect.objectContaining({ in: "path", name: param }),
          );
        }
      }
    }
    expect(Object.keys(doc.paths["/api/servers"]?.post?.responses ?? {})).toContain("201");
    expect(Object.keys(doc.paths["/api/schedules"]?.post?.responses ?? {})).toContain("201");
  });

  it("request bodies reject unknown fields (additionalProperties: false), POST /api/servers first", () => {
    const resolve = (schema: JsonSchema): JsonSchema => {
      if (!schema.$ref) return schema;
      const name = schema.$ref.replace("#/components/schemas/", "");
      const target = doc.components?.schemas?.[name];
      expect(target, schema.$ref).toBeDefined();
      return resolve(target as JsonSchema);
    };
    const servers = doc.paths["/api/servers"]?.post?.requestBody;
    expect(servers?.required).toBe(true);
    const schema = resolve(servers?.content["application/json"]?.schema as JsonSchema);
    expect(schema.type).toBe("object");
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(["name"]);
    expect(Object.keys(schema.properties ?? {})).toEqual(
      expect.arrayContaining(["name", "host", "port", "password", "connection_string"]),
    );

    let bodies = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const body = item[method]?.requestBody;
        if (!body) continue;
        bodies++;
        const s = resolve(body.content["application/json"]?.schema as JsonSchema);
        expect(s.additionalProperties, `${method.toUpperCase()} ${path}`).toBe(false);
      }
    }
    expect(bodies).toBeGreaterThanOrEqual(10);
  });

  it("the API answers as documented: an unknown field in POST /api/servers is a 422 naming it", async () => {
    const reply = await api.call("POST", "/api/servers", { body: { name: "x", host: "h", extra: 1 } });
    expect(reply.status).toBe(422);
    expect(reply.json.error.details[0]).toMatchObject({ field: "extra" });
  });

  // JSON Schema patterns are ECMA-262 regexes without delimiters or flags. A pattern ending in "/u"
  // never matches, so a client validating against the document would refuse every valid name.
  it("every `pattern` is a bare regex that accepts a valid value", () => {
    const patterns = new Set<string>();
    JSON.stringify(doc, (key, value) => {
      if (key === "pattern" && typeof value === "string") patterns.add(value);
      return value;
    });
    expect(patterns.size).toBeGreaterThan(0);
    for (const pattern of patterns) {
      expect(pattern, pattern).not.toMatch(/\/[dgimsuvy]+$/);
      expect(() => new RegExp(pattern, "u"), pattern).not.toThrow();
    }
    const name = resolveProperty(doc, "/api/servers", "name");
    expect(new RegExp(name.pattern as string, "u").test("nightly backups")).toBe(true);
  });
});

function resolveProperty(doc: Document, path: string, property: string): JsonSchema {
  const schema = doc.paths[path]?.post?.requestBody?.content["application/json"]?.schema;
  const prop = schema?.properties?.[property];
  expect(prop, `${path} ${property}`).toBeDefined();
  return prop as JsonSchema;
}
