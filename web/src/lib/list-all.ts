// Every page of a list, for the short lists a page names things from or a form chooses from
// (servers, a server's databases). One page of 100 would silently drop the 101st server.
import type { Api, Page } from "./api.ts";
import type { ManagedDatabase, Server } from "./types.ts";

const MAX_PAGES = 20; // 2,000 items: far more than a select can usefully offer

export async function listAll<T>(
  api: Api,
  path: string,
  query: Record<string, string | undefined> = {},
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page: Page<T> = await api.get<Page<T>>(path, { ...query, limit: 100, cursor });
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

export const allServers = (api: Api) => listAll<Server>(api, "/api/servers");

/** A server's managed databases (disabled and vanished ones too); none without a server. */
export const allDatabasesOf = (api: Api, serverId: string) =>
  serverId ? listAll<ManagedDatabase>(api, "/api/databases", { server_id: serverId }) : Promise.resolve([]);
