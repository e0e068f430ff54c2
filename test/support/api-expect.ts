// Assertions and readers shared by the API tests (test/api): the error shape every refusal has, the
// 422 that names a field, a list read page by page, and the audit entries about a record.
import { expect } from "vitest";
import type { AuditEntry } from "#core/entities.ts";
import type { ApiWorld, Reply } from "./api-harness.ts";

/** `{ error: { code, message, details } }` with exactly those keys, that code and a non-empty message. */
export function expectError(reply: Reply, status: number, code: string) {
  expect(reply.status, reply.text).toBe(status);
  expect(Object.keys(reply.json ?? {}), reply.text).toEqual(["error"]);
  expect(Object.keys(reply.json.error).sort(), reply.text).toEqual(["code", "details", "message"]);
  expect(reply.json.error.code, reply.text).toBe(code);
  expect(reply.json.error.message, reply.text).toEqual(expect.any(String));
  expect(reply.json.error.message.length, reply.text).toBeGreaterThan(0);
}

/** A 422 `invalid` whose first detail names `field` (its message matching `message`), as does error.message. */
export function expectInvalid(reply: Reply, field: string, message?: RegExp) {
  expectError(reply, 422, "invalid");
  expect(reply.json.error.details[0].field, reply.text).toBe(field);
  expect(typeof reply.json.error.details[0].message).toBe("string");
  if (message) expect(reply.json.error.details[0].message).toMatch(message);
  expect(reply.json.error.message).toContain(field);
}

/** Every item of a list, page by page (`limit` each), checking order and that no item repeats. */
export async function allPages(api: ApiWorld, path: string, limit = 2) {
  const items: Array<Record<string, unknown> & { id: string }> = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const reply = await api.call("GET", `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json.items.length).toBeLessThanOrEqual(limit);
    items.push(...reply.json.items);
    cursor = reply.json.next_cursor;
    pages++;
    expect(pages, "a list that never ends").toBeLessThan(1000);
  } while (cursor);
  const ids = items.map((i) => i.id);
  expect(new Set(ids).size, "an item on two pages").toBe(ids.length);
  expect(ids, "newest first").toEqual([...ids].sort().reverse());
  return { items, pages };
}

/** The audit entries about `targetId` through GET /api/audit (newest first, `limit` at most). */
export async function auditOf(api: ApiWorld, targetId: string, limit = 100): Promise<AuditEntry[]> {
  const reply = await api.call("GET", `/api/audit?target_id=${targetId}&limit=${limit}`);
  expect(reply.status, reply.text).toBe(200);
  return reply.json.items;
}

/** The newest audit entry about `targetId` (undefined when there is none). */
export async function latestAudit(api: ApiWorld, targetId: string): Promise<AuditEntry | undefined> {
  return (await auditOf(api, targetId, 1))[0];
}
