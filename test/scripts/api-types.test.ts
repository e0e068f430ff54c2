// The console's API types (scripts/api-types.ts): the mapping of the document's schemas to
// TypeScript, every documented operation present, and the point of it all: a route or a response
// field renamed in the API makes the console fail `tsc`. That last check type-checks a copy of web/
// (the real core beside it) against types generated from a renamed document.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiDocument, type OpenApiDocument, typeOf, typesFromDocument } from "../../scripts/api-types.ts";

const root = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

describe("typeOf: a JSON schema as a TypeScript type", () => {
  it("maps the keywords the zod schemas produce", () => {
    expect(typeOf({ type: "string" })).toBe("string");
    expect(typeOf({ type: "integer", minimum: 1 })).toBe("number");
    expect(typeOf({ type: "string", nullable: true })).toBe("string | null");
    expect(typeOf({ type: ["string", "null"] })).toBe("string | null");
    expect(typeOf({ type: "string", nullable: true, enum: ["a", "b", null] })).toBe('"a" | "b" | null');
    expect(typeOf({ const: "x" })).toBe('"x"');
    expect(typeOf({ type: "array", items: { type: "boolean" } })).toBe("(boolean)[]");
    expect(typeOf({ oneOf: [{ type: "string" }, { type: "number" }] })).toBe("(string) | (number)");
    expect(typeOf({ allOf: [{ $ref: "#/components/schemas/A" }, { $ref: "#/components/schemas/B" }] })).toBe(
      "(A) & (B)",
    );
    expect(typeOf({})).toBe("unknown");
    expect(typeOf({ nullable: true })).toBe("unknown");
  });

  it("keeps a schema's own type beside combinators that only require or forbid fields", () => {
    // As the server bodies say "host or connection_string" and "PLAIN needs tls: true".
    const body = {
      type: "object",
      properties: { host: { type: "string" }, tls: { type: "boolean" } },
      oneOf: [{ required: ["host"] }, { required: ["connection_string"] }],
      allOf: [
        {
          anyOf: [
            { not: { required: ["auth_mechanism"] } },
            { required: ["tls"], properties: { tls: { const: true } } },
          ],
        },
      ],
    };
    expect(typeOf(body)).toBe("{\n  host?: string;\n  tls?: boolean;\n}");
    expect(typeOf({ type: "string", allOf: [{ $ref: "#/components/schemas/A" }] })).toBe("(string) & (A)");
  });

  it("marks what `required` leaves out as optional, and keeps open and closed objects apart", () => {
    expect(
      typeOf({
        type: "object",
        properties: { id: { type: "string" }, "odd-name": { type: "number" } },
        required: ["id"],
      }),
    ).toBe('{\n  id: string;\n  "odd-name"?: number;\n}');
    expect(typeOf({ type: "object", additionalProperties: { type: "string" } })).toBe(
      "{\n  [key: string]: string;\n}",
    );
    expect(typeOf({ type: "object" })).toBe("Record<string, unknown>");
    expect(typeOf({ type: "object", additionalProperties: false })).toBe("Record<string, never>");
  });
});

describe("typesFromDocument", () => {
  const document: OpenApiDocument = {
    paths: {
      "/api/things/{id}": {
        parameters: [],
        get: {
          parameters: [
            { name: "id", in: "path", required: true, schema: { type: "string" } },
            { name: "full", in: "query", schema: { type: "string", enum: ["true", "false"] } },
          ],
          responses: {
            200: { content: { "application/json": { schema: { $ref: "#/components/schemas/Thing" } } } },
            202: { content: { "application/json": { schema: { type: "string" } } } },
            404: { content: { "application/json": { schema: { type: "number" } } } },
          },
        },
        delete: { responses: { 204: { description: "gone" } } },
      },
      "/api/things": {
        post: {
          requestBody: { content: { "application/json": { schema: { type: "object", properties: {} } } } },
          responses: { 201: { content: { "application/json": { schema: { type: "boolean" } } } } },
        },
      },
    },
    components: { schemas: { Thing: { type: "object", properties: { id: { type: "string" } } } } },
  };
  const text = typesFromDocument(document);

  it("keys each operation by method and documented path, with its parameters, body and 2xx replies", () => {
    expect(text).toContain("export type Thing = {\n  id?: string;\n};");
    expect(text).toContain(
      [
        '  "GET /api/things/{id}": {',
        "    params: {\n      id: string;\n    };",
        '    query: {\n      full?: "true" | "false";\n    };',
        "    body: undefined;",
        "    reply: Thing | string;", // 2xx only: the 404's number is no reply
        "  };",
      ].join("\n"),
    );
    expect(text).toContain('  "DELETE /api/things/{id}": {\n    params: {};\n    query: {};');
    expect(text).toContain("    reply: undefined;"); // 204: no body
    expect(text).toContain("    body: Record<string, unknown> | undefined;"); // not required
  });
});

describe("the console against the API's own document", () => {
  let document: OpenApiDocument;
  let copy: string;

  beforeAll(async () => {
    document = await apiDocument();
    // A copy of web/ beside the real core, so a generated file can be swapped without touching the tree.
    copy = mkdtempSync(join(tmpdir(), "mbm-api-types-"));
    cpSync(join(root, "web/src"), join(copy, "web/src"), { recursive: true });
    cpSync(join(root, "web/tsconfig.json"), join(copy, "web/tsconfig.json"));
    cpSync(join(root, "tsconfig.json"), join(copy, "tsconfig.json"));
    for (const linked of ["functions", "node_modules", "package.json"]) {
      symlinkSync(join(root, linked), join(copy, linked));
    }
    mkdirSync(join(copy, "web/src/lib"), { recursive: true });
  });
  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  /** `tsc` over the copy with types generated from `doc`: its exit code and what it printed. */
  async function typecheckAgainst(doc: OpenApiDocument): Promise<{ code: number; output: string }> {
    writeFileSync(join(copy, "web/src/lib/api-types.gen.ts"), typesFromDocument(doc));
    const tsc = join(root, "node_modules/.bin/tsc");
    try {
      const { stdout, stderr } = await run(tsc, ["--noEmit", "-p", join(copy, "web/tsconfig.json")]);
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
    }
  }

  it("has an entry for every documented operation", () => {
    const text = typesFromDocument(document);
    const methods = ["get", "put", "post", "delete", "patch"];
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      methods.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations.length).toBeGreaterThan(30);
    for (const operation of operations) expect(text).toContain(`  ${JSON.stringify(operation)}: {`);
  });

  it("type-checks as the document stands", async () => {
    const result = await typecheckAgainst(document);
    expect(result.output).toBe("");
    expect(result.code).toBe(0);
  });

  it("fails `tsc` when a response field or a route is renamed in the API", async () => {
    const renamed = structuredClone(document) as OpenApiDocument & {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    // The download reply's `url` becomes `href` (the Backups page follows `link.url`) ...
    const download = renamed.paths["/api/backups/{id}/download"]?.get;
    const reply = JSON.stringify(download?.responses["200"]);
    expect(reply, "the download reply names url").toContain('"url"');
    if (download) download.responses["200"] = JSON.parse(reply.replace('"url"', '"href"'));
    // ... and POST /api/backups/{id}/cancel moves to /api/backups/{id}/stop.
    const cancel = renamed.paths["/api/backups/{id}/cancel"];
    expect(cancel, "the cancel route is documented").toBeDefined();
    if (cancel) renamed.paths["/api/backups/{id}/stop"] = cancel;
    delete renamed.paths["/api/backups/{id}/cancel"];

    const result = await typecheckAgainst(renamed);
    expect(result.code, result.output).not.toBe(0);
    expect(result.output).toMatch(/web\/src\/pages\/backups\.tsx\(\d+,\d+\): error TS\d+: Property 'url'/);
    expect(result.output).toMatch(
      /web\/src\/pages\/backups\.tsx\(\d+,\d+\): error TS\d+: .*\/api\/backups\/\{id\}\/cancel/,
    );
  });
});
