// The console's API types, generated from the API's own OpenAPI document (createApp's
// /api/openapi.json, built in-process: no server, no AWS, no database). `npm run typecheck` runs this
// before `tsc`, so renaming a route or a field fails the console's type check.
//   node scripts/api-types.ts            writes web/src/lib/api-types.gen.ts (git-ignored)
//   node scripts/api-types.ts --stdout   prints it
// Why not openapi-typescript: its generator is built on TypeScript 5's compiler API (a peer dependency
// on typescript ^5), which TypeScript 7 no longer has; npm refuses the pair. The OpenAPI subset the
// zod schemas produce is small, so the mapping below is too; what it does not know it types `unknown`.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type ApiDeps, createApp } from "#functions/api/app.ts";

export const generatedFile = join(import.meta.dirname, "..", "web/src/lib/api-types.gen.ts");

/** The parts of an OpenAPI 3.0/3.1 document the console's types come from. */
export interface JsonSchema {
  type?: string | string[];
  $ref?: string;
  nullable?: boolean;
  enum?: unknown[];
  const?: unknown;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  /** Validation-only keywords (minLength, pattern, ...): no part of the type. */
  [keyword: string]: unknown;
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: JsonSchema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

const METHODS = ["get", "put", "post", "delete", "patch"] as const;
const JSON_TYPE = "application/json";

const key = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));
const refName = (ref: string) => ref.replace(/^#\/components\/schemas\//, "").replace(/[^\w$]/g, "_");
const union = (types: string[]) => [...new Set(types)].join(" | ") || "never";

/** A JSON schema as a TypeScript type. Validation-only keywords (lengths, patterns) carry no type. */
export function typeOf(schema: JsonSchema | undefined, indent = ""): string {
  if (!schema) return "unknown";
  const nullable = schema.nullable === true;
  const withNull = (type: string) => (nullable && type !== "unknown" ? union([type, "null"]) : type);
  if (schema.$ref) return withNull(refName(schema.$ref));
  if (schema.const !== undefined) return withNull(JSON.stringify(schema.const));
  if (schema.enum) {
    const values = nullable && !schema.enum.includes(null) ? [...schema.enum, null] : schema.enum;
    return union(values.map((value) => JSON.stringify(value)));
  }
  // Combinators beside the schema's own type (an object with `oneOf: [{ required }]`) narrow it; a
  // branch that types nothing (`required`, `not` alone) constrains values, not the type, so an
  // alternative among such branches, or such an allOf part, adds nothing to it.
  const parts: string[] = [];
  const own = ownTypeOf(schema, indent);
  if (own !== "unknown") parts.push(own);
  const alternatives = (schema.oneOf ?? schema.anyOf)?.map((s) => typeOf(s, indent));
  if (alternatives && !alternatives.includes("unknown")) parts.push(union(alternatives.map((t) => `(${t})`)));
  for (const t of (schema.allOf ?? []).map((s) => typeOf(s, indent))) {
    if (t !== "unknown") parts.push(t);
  }
  if (parts.length === 0) return "unknown";
  return withNull(parts.length === 1 ? (parts[0] ?? "unknown") : parts.map((t) => `(${t})`).join(" & "));
}

/** The type that `type`/`properties` alone say; "unknown" when they say nothing. */
function ownTypeOf(schema: JsonSchema, indent: string): string {
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0) return schema.properties ? objectOf(schema, indent) : "unknown";
  return union(
    types.map((type) => {
      switch (type) {
        case "string":
          return "string";
        case "integer":
        case "number":
          return "number";
        case "boolean":
          return "boolean";
        case "null":
          return "null";
        case "array":
          return `(${typeOf(schema.items, indent)})[]`;
        case "object":
          return objectOf(schema, indent);
        default:
          return "unknown";
      }
    }),
  );
}

function objectOf(schema: JsonSchema, indent: string): string {
  const inner = `${indent}  `;
  const required = new Set(schema.required ?? []);
  const lines = Object.entries(schema.properties ?? {}).map(
    ([name, property]) => `${inner}${key(name)}${required.has(name) ? "" : "?"}: ${typeOf(property, inner)};`,
  );
  const extra = schema.additionalProperties;
  if (extra === true || (extra && typeof extra === "object")) {
    lines.push(`${inner}[key: string]: ${extra === true ? "unknown" : typeOf(extra, inner)};`);
  } else if (lines.length === 0) {
    return extra === false ? "Record<string, never>" : "Record<string, unknown>";
  }
  return `{\n${lines.join("\n")}\n${indent}}`;
}

/** Parameters of one place (path or query) as an object type; `{}` when there are none. */
function parametersOf(operation: Operation, place: "path" | "query", indent: string): string {
  const inner = `${indent}  `;
  const lines = (operation.parameters ?? [])
    .filter((p) => p.in === place)
    .map((p) => `${inner}${key(p.name)}${p.required ? "" : "?"}: ${typeOf(p.schema, inner)};`);
  return lines.length ? `{\n${lines.join("\n")}\n${indent}}` : "{}";
}

function bodyOf(operation: Operation, indent: string): string {
  const body = operation.requestBody;
  const schema = body?.content?.[JSON_TYPE]?.schema;
  if (!body || !schema) return "undefined";
  const type = typeOf(schema, indent);
  return body.required ? type : union([type, "undefined"]);
}

/** What a success answers: the union of the 2xx JSON replies (`undefined` for one without a body). */
function replyOf(operation: Operation, indent: string): string {
  const successes = Object.entries(operation.responses ?? {}).filter(([status]) => /^2\d\d$/.test(status));
  return union(
    successes.map(([, response]) => {
      const schema = response.content?.[JSON_TYPE]?.schema;
      return schema ? typeOf(schema, indent) : "undefined";
    }),
  );
}

/** The whole generated module: one entry per operation, keyed "METHOD /path/{param}". */
export function typesFromDocument(document: OpenApiDocument): string {
  const out = [
    "// Generated by scripts/api-types.ts from the API's OpenAPI document: do not edit.",
    "// `npm run typecheck` regenerates it; see the README's console section.",
    "",
  ];
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
    out.push(`export type ${refName(`#/components/schemas/${name}`)} = ${typeOf(schema)};`, "");
  }
  out.push("export interface Operations {");
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as Operation | undefined;
      if (!operation) continue;
      const indent = "    ";
      out.push(
        `  ${JSON.stringify(`${method.toUpperCase()} ${path}`)}: {`,
        `    params: ${parametersOf(operation, "path", indent)};`,
        `    query: ${parametersOf(operation, "query", indent)};`,
        `    body: ${bodyOf(operation, indent)};`,
        `    reply: ${replyOf(operation, indent)};`,
        "  };",
      );
    }
  }
  out.push("}", "");
  return out.join("\n");
}

/**
 * The document exactly as the app serves it. Nothing but authentication is wired: building the
 * document runs no handler, and one that did would throw "not wired" rather than touch anything.
 */
export async function apiDocument(): Promise<OpenApiDocument> {
  const unwired = new Proxy(
    {},
    {
      get: (_target, property) => {
        throw new Error(`scripts/api-types.ts: ${String(property)} is not wired`);
      },
    },
  );
  const deps = {
    store: unwired,
    secrets: unwired,
    blobs: unwired,
    inspector: unwired,
    alerts: unwired,
    downloads: unwired,
    log: unwired,
    runner: null,
    scheduler: null,
    authenticate: () => ({ id: "api-types", role: "viewer" }),
  } as unknown as ApiDeps; // the unwired proxies stand for every port: none is called
  const reply = await createApp(deps).request("/api/openapi.json");
  if (reply.status !== 200)
    throw new Error(`GET /api/openapi.json answered ${reply.status}: ${await reply.text()}`);
  return (await reply.json()) as OpenApiDocument;
}

if (import.meta.main) {
  const text = typesFromDocument(await apiDocument());
  if (process.argv.includes("--stdout")) {
    process.stdout.write(text);
  } else {
    // Unchanged text is not rewritten, so nothing that watches mtimes sees a change.
    const current = await readFile(generatedFile, "utf8").catch(() => "");
    if (current !== text) await writeFile(generatedFile, text);
  }
}
