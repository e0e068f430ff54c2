// The restore drill's checks, after mongorestore exited 0: per collection, the restored document
// count against the one recorded at backup time, the indexes the archive's prelude lists against
// those found, and MongoDB's `validate`. A collection the archive and the record disagree about is a
// failure too. Pure judgement (judgeProof) is apart from the reading (readRestored), for unit tests.
import type { MongoClient } from "mongodb";
import { MongoServerError } from "mongodb";
import type { Backup, Verification } from "#core/entities.ts";
import type { ArchivePrelude } from "./archive/prelude.ts";

type CollectionProof = Verification["collections"][string];
export type Verdict = CollectionProof["valid"];

/** What the target holds for one collection after the restore; undefined when it does not exist. */
export interface RestoredCollection {
  count: number;
  indexes: string[];
  valid: Verdict;
}

/** Server error codes of a command the server does not have: CommandNotFound, CommandNotSupported, NotImplemented. */
const UNSUPPORTED = new Set([59, 115, 238]);

/** `validate`'s answer as a verdict. */
export function verdictOf(answer: { valid?: unknown }): Verdict {
  return answer.valid === true ? "valid" : "invalid";
}

/**
 * Whether `validate` means anything on this server. FerretDB v1 answers it with `valid: true`
 * without checking anything (its handler/msg_validate.go), so there it is "not supported by this
 * server", never a silent pass.
 */
async function validateSupported(client: MongoClient): Promise<boolean> {
  const info = await client
    .db("admin")
    .command({ buildInfo: 1 })
    .catch(() => ({}) as Record<string, unknown>);
  return !("ferretdbVersion" in info);
}

async function validateCollection(client: MongoClient, database: string, name: string): Promise<Verdict> {
  try {
    return verdictOf(await client.db(database).command({ validate: name }));
  } catch (error) {
    if (error instanceof MongoServerError && typeof error.code === "number" && UNSUPPORTED.has(error.code)) {
      return "not supported by this server";
    }
    if (error instanceof MongoServerError) return "invalid";
    throw error;
  }
}

/** Reads what the target's `database` holds for each of `names` (missing ones are left out). */
export async function readRestored(
  client: MongoClient,
  database: string,
  names: readonly string[],
): Promise<Map<string, RestoredCollection>> {
  const db = client.db(database);
  const present = new Set(
    (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name as string),
  );
  const supported = await validateSupported(client);
  const restored = new Map<string, RestoredCollection>();
  for (const name of names) {
    if (!present.has(name)) continue;
    const collection = db.collection(name);
    const count = await collection.countDocuments({});
    const indexes = (await collection.listIndexes().toArray()).map((i) => String(i.name)).sort();
    const valid = supported
      ? await validateCollection(client, database, name)
      : "not supported by this server";
    restored.set(name, { count, indexes, valid });
  }
  return restored;
}

/**
 * What the archive lists for the backup's database: each collection's index names, and the names it
 * lists as views (a view has no documents or indexes of its own, so a record naming one is no
 * disagreement). System collections are the server's and are left out.
 */
export interface Archived {
  collections: Map<string, string[]>;
  views: Set<string>;
}

export function archivedCollections(prelude: ArchivePrelude, database: string): Archived {
  const collections = new Map<string, string[]>();
  const views = new Set<string>();
  for (const c of prelude.collections) {
    if (c.db !== database || c.collection.startsWith("system.")) continue;
    if (c.type === "view") views.add(c.collection);
    else collections.set(c.collection, c.indexes.map((i) => i.name).sort());
  }
  return { collections, views };
}

/** The collections a drill checks: those the archive lists, and those the record lists (views aside). */
export function collectionNames(backup: Pick<Backup, "collections">, archived: Archived): string[] {
  const recorded = Object.keys(backup.collections ?? {}).filter(
    (name) => !archived.views.has(name) && !name.startsWith("system."),
  );
  return [...new Set([...recorded, ...archived.collections.keys()])].sort();
}

/**
 * The proof per collection and the problems that fail it (empty: passed). Pass: every collection
 * both in the archive and in the record, restored with the recorded count, every archived index
 * present, and no "invalid" verdict.
 */
export function judgeProof(
  backup: Pick<Backup, "collections">,
  archive: Archived,
  restored: Map<string, RestoredCollection>,
): { collections: Record<string, CollectionProof>; problems: string[] } {
  const collections: Record<string, CollectionProof> = {};
  const problems: string[] = [];
  const archived = archive.collections;
  for (const name of collectionNames(backup, archive)) {
    const expected = backup.collections?.[name] ?? null;
    const indexesExpected = archived.get(name) ?? [];
    const found = restored.get(name);
    collections[name] = {
      expected,
      restored: found?.count ?? null,
      indexes_expected: indexesExpected,
      indexes_restored: found?.indexes ?? [],
      valid: found?.valid ?? "not run",
    };
    if (!archived.has(name)) {
      problems.push(`collection ${name} is in the backup's record but not in its archive`);
    } else if (expected === null) {
      problems.push(`collection ${name} is in the archive but the backup recorded no document count for it`);
    }
    if (!found) {
      if (archived.has(name)) problems.push(`collection ${name} is missing from what was restored`);
      continue;
    }
    if (expected !== null && found.count !== expected) {
      problems.push(
        `collection ${name}: ${found.count} document(s) restored, ${expected} recorded at backup time`,
      );
    }
    const missing = indexesExpected.filter((i) => !found.indexes.includes(i));
    if (missing.length > 0) {
      problems.push(`collection ${name}: index(es) ${missing.join(", ")} missing after the restore`);
    }
    if (found.valid === "invalid") problems.push(`collection ${name}: validate found it invalid`);
  }
  return { collections, problems };
}
