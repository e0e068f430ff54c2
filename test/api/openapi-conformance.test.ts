// The served /api/openapi.json against the app itself: for every operation, requests generated from
// the document (json-schema-faker, fixed seeds), some valid by it and some made invalid by one
// mutation (both checked with ajv against the document, so the generator's slips do not count).
// Every reply must be a response the operation lists, with a body its schema accepts; no 5xx except
// the documented 502 (a MongoDB host that does not answer); valid requests are not refused as
// invalid (400/422) and invalid ones are. Local store, with the test FerretDB registered so ids exist.
//
// Left to the document's prose, not generated: `cursor` (opaque, "the previous page's next_cursor":
// only its character set is checkable) and what `format: "cron"` adds to the pattern (ascending
// ranges, a date that matches): the cron generator below keeps ranges ascending, and ajv checks
// the format with the API's own validateCron.
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import { createGeneratorSync, registerFormat } from "json-schema-faker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateCron } from "#core/cron.ts";
import { type ApiWorld, addTestServer, apiWorld } from "#test/support/api-harness.ts";

type Schema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: "path" | "query";
  required?: boolean;
  schema: Schema;
  "x-requires"?: unknown;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: { "application/json": { schema: Schema } } };
  responses: Record<string, { content?: { "application/json"?: { schema: Schema } } }>;
}
type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components: { responses: Record<string, { content: { "application/json": { schema: Schema } } }> };
};

const SEED = 1302;
/** Valid and invalid requests per operation; fewer where each one dials a MongoDB host. */
const PER_OPERATION = 16;
const DIALS = new Set([
  "POST /api/servers/probe-databases",
  "POST /api/servers/{id}/test",
  "GET /api/servers/{id}/databases",
  "POST /api/databases/sync",
  "POST /api/settings/webhook/test",
]);

// A cron expression's numbers within each field's range, ranges ascending (what the pattern cannot say).
const CRON_FIELDS: Array<[number, number]> = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];
registerFormat("cron", (random) =>
  CRON_FIELDS.map(([min, max]) => {
    const kind = random.int(0, 3);
    if (kind === 0) return "*";
    if (kind === 1) return `*/${random.int(1, max)}`;
    const from = random.int(min, Math.min(max, 28));
    if (kind === 2) return String(from);
    return `${from}-${random.int(from, Math.min(max, 28))}`;
  }).join(" "),
);

const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
// ajv-formats is CommonJS: its plugin is both module.exports and its `default`.
ajvFormats.default(ajv);
ajv.addFormat("cron", {
  type: "string",
  validate: (v: string) => {
    try {
      validateCron(v);
      return true;
    } catch {
      return false;
    }
  },
});
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
function validates(schema: Schema, value: unknown): boolean {
  const key = JSON.stringify(schema);
  let check = compiled.get(key);
  if (!check) {
    check = ajv.compile(schema);
    compiled.set(key, check);
  }
  return check(value) as boolean;
}

/** One value the document accepts for `schema`, or undefined after a few tries. */
function validSample(schema: Schema, seed: number): unknown {
  for (let attempt = 0; attempt < 20; attempt++) {
    let value: unknown;
    try {
      value = createGeneratorSync({ seed: seed * 100 + attempt, maxDefaultItems: 2 }).generate(
        schema as never,
      );
    } catch {
      continue; // the generator gives up on some combinations (minProperties with a closed object)
    }
    if (validates(schema, value)) return value;
  }
  return undefined;
}

/**
 * The same value with one thing the document forbids, or undefined when no mutation applies. In a
 * query everything is a string on the wire, so only mutations that stay wrong as text are used.
 */
function invalidSample(schema: Schema, valid: unknown, seed: number, inQuery = false): unknown {
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const candidates: Array<Record<string, unknown> | unknown[]> = [];
  if (schema.type === "object" && valid && typeof valid === "object" && !Array.isArray(valid)) {
    // OpenAPI cannot close a query to other parameters, so an unknown one is not invalid by it.
    if (!inQuery) candidates.push({ ...valid, unexpected_field: 1 });
    for (const [name, prop] of Object.entries(props)) {
      if (!inQuery) candidates.push({ ...valid, [name]: { nested: true } });
      if (typeof prop.maxLength === "number")
        candidates.push({ ...valid, [name]: "x".repeat(prop.maxLength + 1) });
      if (typeof prop.pattern === "string") candidates.push({ ...valid, [name]: "bad\u0001value" });
      if (typeof prop.maximum === "number") candidates.push({ ...valid, [name]: prop.maximum + 1 });
      if (Array.isArray(prop.enum) || prop.type === "integer" || prop.type === "number") {
        candidates.push({ ...valid, [name]: "not-one-of-them" });
      }
    }
    if (!inQuery) candidates.push([]);
  }
  const bad = candidates.filter((c) => !validates(schema, c));
  return bad.length > 0 ? bad[seed % bad.length] : undefined;
}

/** Query parameters: each an object property of a query schema, as strings on the wire. */
function querySchema(params: Parameter[]): Schema {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  const dependentRequired: Record<string, string[]> = {};
  for (const p of params) {
    if (p.in !== "query" || p.name === "cursor") continue;
    properties[p.name] = p.schema;
    if (p.required) required.push(p.name);
    // A parameter that needs another (the document's `x-requires`).
    const needs = p["x-requires"] ?? p.schema["x-requires"];
    if (typeof needs === "string") dependentRequired[p.name] = [needs];
  }
  return { type: "object", properties, required, dependentRequired, additionalProperties: false };
}

function queryString(values: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : "";
}

describe("the API keeps to its OpenAPI document (generated requests, local store)", () => {
  let api: ApiWorld;
  let doc: Doc;
  let serverId: string;

  beforeAll(async () => {
    api = await apiWorld("local");
    serverId = (await addTestServer(api)).id;
    const reply = await api.call("GET", "/api/openapi.json");
    expect(reply.status).toBe(200);
    doc = reply.json;
  });
  afterAll(async () => {
    await api?.close();
  });

  it("every operation: valid requests are not refused as invalid, invalid ones are, replies are documented", async () => {
    const problems: string[] = [];
    let sent = 0;
    // Changing and deleting the registered server last, so the others find it as it was.
    const rank = (method: string, path: string) =>
      method === "delete" ? 2 : method === "put" && path === "/api/servers/{id}" ? 1 : 0;
    const operations = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })))
      .sort((a, b) => rank(a.method, a.path) - rank(b.method, b.path));
    for (const { path, method, op } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      const params = op.parameters ?? [];
      const bodySchema = op.requestBody?.content["application/json"].schema;
      const qSchema = querySchema(params);
      const count = DIALS.has(where) ? 2 : PER_OPERATION;
      for (let i = 0; i < count; i++) {
        const seed = SEED + sent;
        const valid = i % 2 === 0;
        const query = validSample(qSchema, seed) as Record<string, unknown> | undefined;
        const body = bodySchema ? validSample(bodySchema, seed) : undefined;
        if (query === undefined || (bodySchema && body === undefined)) {
          problems.push(`${where}: the generator found no valid request (seed ${seed})`);
          continue;
        }
        let sendQuery: Record<string, unknown> = query;
        let sendBody = body;
        let id = path.startsWith("/api/servers/") ? serverId : `no-such-${seed}`;
        // Each change of a server starts from a host/port record: what is allowed next depends on how
        // the record is given (a connection_string server takes no port alone), which no schema says.
        if (method === "put" && path === "/api/servers/{id}")
          id = (await addTestServer(api, `put ${seed}`)).id;
        if (!valid) {
          // One thing wrong: the body if there is one, else the query, else the path's id.
          const badBody = bodySchema ? invalidSample(bodySchema, body, seed) : undefined;
          const badQuery = invalidSample(qSchema, query, seed, true);
          if (path.includes("{id}") && i % 4 === 1) id = "x".repeat(65);
          else if (badBody !== undefined) sendBody = badBody;
          else if (badQuery !== undefined) sendQuery = badQuery as Record<string, unknown>;
          else if (path.includes("{id}")) id = "x".repeat(65);
          else continue;
        }
        const url = path.replace("{id}", encodeURIComponent(id)) + queryString(sendQuery);
        const reply = await api.call(
          method.toUpperCase(),
          url,
          sendBody === undefined ? {} : { body: sendBody },
        );
        sent++;
        const seen = `${where} ${valid ? "valid" : "invalid"} ${url} ${JSON.stringify(sendBody)} -> ${reply.status} ${reply.text.slice(0, 300)}`;
        const documented = op.responses[String(reply.status)];
        if (!documented) {
          problems.push(`undocumented status: ${seen}`);
          continue;
        }
        if (
          reply.status >= 500 &&
          reply.status !== 502 &&
          !(path === "/api/health" && reply.status === 503)
        ) {
          problems.push(`server error: ${seen}`);
        }
        if (valid && (reply.status === 400 || reply.status === 422)) problems.push(`valid refused: ${seen}`);
        if (!valid && reply.status !== 400 && reply.status !== 422)
          problems.push(`invalid accepted: ${seen}`);
        const schema = documented.content?.["application/json"]?.schema;
        if (schema && !validates(schema, reply.json)) {
          problems.push(
            `body off its schema (${ajv.errorsText(compiled.get(JSON.stringify(schema))?.errors)}): ${seen}`,
          );
        }
      }
    }
    expect(problems).toEqual([]);
    expect(sent).toBeGreaterThan(operations.length * 2);
  }, 120_000);

  it("states the rules the validators enforce, with patterns every JSON Schema tool can use", () => {
    const text = JSON.stringify(doc);
    // Patterns are unflagged ECMA-262 that also compile in unicode mode (ajv's), without lookbehind.
    const patterns = [...text.matchAll(/"pattern":("(?:[^"\\]|\\.)*")/g)].map(
      (m) => JSON.parse(m[1] as string) as string,
    );
    expect(patterns.length).toBeGreaterThan(20);
    for (const pattern of patterns) {
      expect(() => new RegExp(pattern, "u"), pattern).not.toThrow();
      expect(pattern, pattern).not.toMatch(/\(\?<[=!]/);
    }
    const body = (path: string, method: string) =>
      doc.paths[path]?.[method]?.requestBody?.content["application/json"].schema as Schema;
    const servers = body("/api/servers", "post");
    expect(servers.oneOf).toEqual([{ required: ["host"] }, { required: ["connection_string"] }]);
    const props = servers.properties as Record<string, Schema>;
    expect(validates(props.name as Schema, "ok name")).toBe(true);
    for (const bad of ["   ", "tab\there", "nul\u0000", "c1\u0085", "del\u007f"]) {
      expect(validates(props.name as Schema, bad), JSON.stringify(bad)).toBe(false);
    }
    expect(validates(props.options as Schema, { readPreference: "secondary" })).toBe(true);
    expect(validates(props.options as Schema, { proxyPassword: "x" })).toBe(false);
    expect(validates(props.options as Schema, { "no spaces": "x" })).toBe(false);
    for (const [path, method] of [
      ["/api/servers/{id}", "put"],
      ["/api/schedules/{id}", "put"],
      ["/api/backups/{id}", "patch"],
      ["/api/settings", "put"],
    ] as const) {
      expect(body(path, method).minProperties, `${method} ${path}`).toBe(1);
      expect(validates(body(path, method), {}), `${method} ${path} {}`).toBe(false);
    }
    const cron = (body("/api/schedules", "post").properties as Record<string, Schema>)
      .cron_expression as Schema;
    const cronPattern = new RegExp(((cron.allOf as Schema[])[0] as Schema).pattern as string);
    for (const good of ["0 2 * * *", "*/15 0-6 1,15 * 1-5", " 30 23 31 12 7 "])
      expect(good).toMatch(cronPattern);
    for (const bad of [
      "0 2 * *",
      "0 2 * * * *",
      "60 * * * *",
      "0 24 * * *",
      "0 0 0 * *",
      "0 0 * 13 *",
      "@daily",
    ]) {
      expect(bad).not.toMatch(cronPattern);
    }
    const backups = doc.paths["/api/backups"]?.get?.parameters?.find((p) => p.name === "cursor");
    expect(backups?.schema.pattern).toBe("^[A-Za-z0-9_-]+$");
  });

  it("an unsupported method on a known path is 405 with Allow (JSON error), not 404", async () => {
    const methodNotAllowed =
      doc.components.responses.MethodNotAllowed?.content["application/json"].schema ?? {};
    expect(methodNotAllowed).toHaveProperty("properties.error");
    for (const [path, item] of Object.entries(doc.paths)) {
      const url = path.replace("{id}", serverId);
      const methods = Object.keys(item).map((m) => m.toUpperCase());
      const unsupported = ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) => !methods.includes(m));
      for (const method of unsupported) {
        // `/api/databases/sync` is also an `{id}` of `/api/databases/{id}`: Allow names both paths' methods.
        const served = Object.entries(doc.paths)
          .filter(([other]) => new RegExp(`^${other.replace(/\{id\}/g, "[^/]+")}$`).test(url))
          .flatMap(([, otherItem]) => Object.keys(otherItem).map((m) => m.toUpperCase()));
        if (served.includes(method)) continue;
        const reply = await api.call(method, url, method === "GET" ? {} : { body: {} });
        const seen = `${method} ${url} -> ${reply.status} ${reply.text}`;
        expect(reply.status, seen).toBe(405);
        expect(reply.json.error.code, seen).toBe("method_not_allowed");
        expect(validates(methodNotAllowed, reply.json), seen).toBe(true);
        const expected = [...new Set([...served, ...(served.includes("GET") ? ["HEAD"] : [])])].sort();
        const allow = (reply.headers.get("allow") ?? "").split(", ").sort();
        expect(allow, seen).toEqual(expected);
      }
    }
    expect((await api.call("GET", "/api/no-such-thing")).status).toBe(404);
    expect((await api.call("DELETE", "/api/no-such-thing")).status).toBe(404);
  });
});
