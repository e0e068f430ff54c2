// Calls of routes other branches are adding (issue 16: import, restore the latest), typed by the
// shapes agreed with them until the OpenAPI document states them; then these become plain typed
// `api.post` calls and this file goes.
import type { Api } from "./api.ts";
import type { Backup, Restore } from "./types.ts";

interface UncheckedPost {
  post(path: string, options: { body: unknown }): Promise<unknown>;
}
const unchecked = (api: Api) => api as unknown as UncheckedPost;

export interface ImportBody {
  server_id: string;
  database: string;
  source_key: string;
  name?: string;
  notes?: string;
}

/** POST /api/backups/import: 202 with the queued backup (`trigger: "import"`). */
export async function importDump(api: Api, body: ImportBody): Promise<Backup> {
  return (await unchecked(api).post("/api/backups/import", { body })) as Backup;
}

export interface RestoreLatestBody {
  server_id: string;
  database: string;
  target_server_id?: string;
  target_database?: string;
  drop?: boolean;
  /** Only a backup whose newest drill passed. */
  verified?: boolean;
}

/** POST /api/restore by server and database: the newest completed (or proven) backup's restore. */
export async function restoreLatest(api: Api, body: RestoreLatestBody): Promise<Restore> {
  return (await unchecked(api).post("/api/restore", { body })) as Restore;
}
