// The same name rules the API applies (core/entities.ts DatabaseName, core/inputs.ts
// CollectionName), checked in the browser so a typo is caught before anything is sent.

import { isActive as isActiveStatus } from "../../../../functions/core/state-machine.ts";
import type { Api } from "../../lib/api.ts";
import { allDatabasesOf } from "../../lib/list-all.ts";
import type { Backup } from "../../lib/types.ts";

const FORBIDDEN_IN_DATABASE = /[/\\. "$*<>:|?\0]/;

/** Why `name` cannot be a MongoDB database name, or null when it can. */
export function databaseNameProblem(name: string): string | null {
  if (name.length === 0) return "Enter a database name.";
  if (name.length > 63) return `At most 63 characters (this one has ${name.length}).`;
  const bad = FORBIDDEN_IN_DATABASE.exec(name)?.[0];
  if (bad !== undefined) {
    const shown = bad === " " ? "a space" : bad === "\0" ? "a NUL character" : `"${bad}"`;
    return `${shown} is not allowed: a database name has none of / \\ . space " $ * < > : | ?`;
  }
  return null;
}

/** "a, b ,c" -> ["a", "b", "c"]: trimmed, blanks and repeats dropped. */
export function parseCollectionList(text: string): string[] {
  return [
    ...new Set(
      text
        .split(",")
        .map((part) => part.trim())
        .filter(Boolean),
    ),
  ];
}

/** Why these collection names cannot be restored, or null when they can. */
export function collectionsProblem(names: string[]): string | null {
  for (const name of names) {
    if (name.length > 255) return `"${name.slice(0, 30)}…" is longer than 255 characters.`;
    if (name.includes("$")) return `"${name}" is not a valid collection name (it contains "$").`;
    if (name.startsWith("system.")) return `"${name}": system collections are not restored.`;
  }
  return null;
}

/** The default target: never the source name, so the default never overwrites. */
export function restoredName(database: string): string {
  return `${database}_restored`;
}

/**
 * The database names on a server right now: read live from the server; when that fails, from the
 * managed databases the last sync found (not vanished), which is the best guess left.
 */
export async function existingDatabaseNames(api: Api, serverId: string): Promise<string[]> {
  try {
    const live = await api.get("/api/servers/{id}/databases", { params: { id: serverId } });
    return live.items.map((d) => d.name);
  } catch {
    const known = await allDatabasesOf(api, serverId);
    return known.filter((d) => !d.vanished_at).map((d) => d.name);
  }
}

export function isActive(job: { status: Backup["status"] }): boolean {
  return isActiveStatus(job.status);
}
