// The console's API types (scripts/api-types.ts): the mapping of the document's schemas to
// TypeScript, and every documented operation present.
import { describe, expect, it } from "vitest";
import { apiDocument, type OpenApiDocument, typeOf, typesFromDocument } from "../../scripts/api-types.ts";

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

describe("the API's own document", () => {
  it("has an entry for every documented operation", async () => {
    const document = await apiDocument();
    const text = typesFromDocument(document);
    const methods = ["get", "put", "post", "delete", "patch"];
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      methods.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations.length).toBeGreaterThan(30);
    for (const operation of operations) expect(text).toContain(`  ${JSON.stringify(operation)}: {`);
  });
});
