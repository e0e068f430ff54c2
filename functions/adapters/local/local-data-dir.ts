// Local mode's data dir as the stores see it: the one SQLite database (metadata.sqlite) with every
// schema in place (metadata, secrets, the server's claim) and, on its first open after an upgrade,
// the migration of an earlier version's JSON files (json-data-dir-migration.ts).
import { join, resolve } from "node:path";
import { createClaimSchema } from "./data-dir-claim.ts";
import { importJsonDataDir, setAsideJsonDataDir } from "./json-data-dir-migration.ts";
import { databaseFileName, LocalDatabase } from "./sqlite-database.ts";
import { createMetadataSchema } from "./sqlite-metadata-store.ts";
import { createSecretSchema } from "./sqlite-secret-store.ts";

export interface DataDirEvents {
  /** The JSON files of an earlier version were imported (counts by collection) and set aside. */
  migrated?(report: { counts: Record<string, number>; renamed: string[] }): void;
}

/** The database of `dataDir`, opened on first use. */
export function localDatabase(
  dataDir: string,
  options: DataDirEvents & { maxPageCount?: number } = {},
): LocalDatabase {
  const dir = resolve(dataDir);
  let counts: Record<string, number> | undefined;
  return new LocalDatabase({
    file: join(dir, databaseFileName),
    prepare: [
      createMetadataSchema,
      createSecretSchema,
      createClaimSchema,
      (db) => {
        counts = importJsonDataDir(db, dir);
      },
    ],
    afterOpen: [
      (db) => {
        const renamed = setAsideJsonDataDir(db, dir);
        if (counts) options.migrated?.({ counts, renamed });
        counts = undefined;
      },
    ],
    ...(options.maxPageCount !== undefined ? { maxPageCount: options.maxPageCount } : {}),
  });
}
