// Every page of a list, for the short lists a form chooses from (servers, a server's databases).
import type { Api, Page } from "../../lib/api.ts";

const MAX_PAGES = 20; // 2,000 items: far more than a select can usefully offer

export async function listAll<T>(api: Api, path: string, query: Record<string, string> = {}): Promise<T[]> {
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
