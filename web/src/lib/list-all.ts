// Every page of a list, for the short lists a page names things from or a form chooses from
// (servers, a server's databases). One page of 100 would silently drop the 101st server.
import type { Api, Page } from "./api.ts";
import type { ManagedDatabase, Server } from "./types.ts";

const MAX_PAGES = 20; // 2,000 items: far more than a select can usefully offer

/** Calls `page(cursor)` until the last page; each call asks for the largest page the API gives. */
export async function listAll<T>(page: (cursor: string | null) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < MAX_PAGES; i++) {
    const reply: Page<T> = await page(cursor);
    items.push(...reply.items);
    cursor = reply.next_cursor;
    if (!cursor) break;
  }
  return items;
}

export const allServers = (api: Api): Promise<Server[]> =>
  listAll((cursor) => api.get("/api/servers", { query: { limit: 100, cursor } }));

/** A server's managed databases (disabled and vanished ones too); none without a server. */
export const allDatabasesOf = (api: Api, serverId: string): Promise<ManagedDatabase[]> =>
  serverId
    ? listAll((cursor) => api.get("/api/databases", { query: { server_id: serverId, limit: 100, cursor } }))
    : Promise.resolve([]);
