// The one-time move of a data dir made by an earlier version (metadata/*.json and secrets.json.enc,
// the JSON-file stores) into the SQLite database. It runs when the database opens, in two steps:
//
// 1. Inside the opening transaction: every collection, the settings and the sealed secrets (copied
//    as they are: same key, same server id as associated data, so nothing is decrypted) are inserted,
//    the row counts are checked against the files, and a row in `migrations` records the date and a
//    SHA-256 of each file. A crash or an error before COMMIT leaves the database as it was and the
//    files in place, so the next start repeats the import from the start.
// 2. After COMMIT: the files are renamed beside themselves under a dated name
//    (metadata.json-migrated-<date>, secrets.json.enc.migrated-<date>). A crash between COMMIT and a
//    rename leaves a file the recorded hash matches: the next start only renames it.
//
// A data dir whose JSON files differ from what was imported (someone went back to the old version
// and wrote with it, then upgraded again without removing the database), or whose database already
// holds data of its own, is refused with a message saying what to do: merging two histories is not
// something to guess.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { z } from "zod";
import { countersOf } from "#core/backup-counters.ts";
import type { Backup } from "#core/entities.ts";
import { type EntitySpec, entitySpecs } from "../metadata-rules.ts";
import { syncDirSync } from "./fs-durable.ts";
import { collectionTable, documentText, replaceCounterRows } from "./sqlite-metadata-store.ts";
import { writeSealedSecret } from "./sqlite-secret-store.ts";

const MIGRATION = "json-files";

/** Where the JSON-file stores kept their data, relative to the data dir. */
export const legacyMetadataDir = "metadata";
export const legacySecretsFile = "secrets.json.enc";

const SealedEntry = z.object({ iv: z.base64(), tag: z.base64(), ciphertext: z.base64() });
const SecretsFile = z.object({ version: z.literal(1), entries: z.record(z.string(), SealedEntry) });

/** What a finished import recorded: its date and the hash of each file it read. */
interface MigrationRecord {
  at: string;
  files: Record<string, string>;
}

/** The legacy files present in `dataDir`, by their path relative to it. */
function legacyFiles(dataDir: string): string[] {
  const files: string[] = [];
  const metadata = join(dataDir, legacyMetadataDir);
  if (existsSync(metadata) && statSync(metadata).isDirectory()) {
    for (const name of readdirSync(metadata).sort()) {
      if (name.endsWith(".json")) files.push(join(legacyMetadataDir, name));
    }
  }
  if (existsSync(join(dataDir, legacySecretsFile))) files.push(legacySecretsFile);
  return files;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // No `cause`: a syntax error quotes the file, and the secrets file is one of them.
    throw new Error(`migrating the data dir: ${path} is not valid JSON`);
  }
}

function readRecord(db: DatabaseSync): MigrationRecord | undefined {
  const row = db.prepare("SELECT at, files FROM migrations WHERE name = ?").get(MIGRATION);
  return row
    ? { at: String(row.at), files: JSON.parse(String(row.files)) as MigrationRecord["files"] }
    : undefined;
}

/** Throws when a present legacy file is not the one the recorded import read. */
function checkAgainstRecord(
  dataDir: string,
  files: string[],
  texts: Map<string, string>,
  record: MigrationRecord,
) {
  const changed = files.filter((file) => record.files[file] !== sha256(texts.get(file) ?? ""));
  if (changed.length > 0) {
    throw new Error(
      `data dir ${dataDir}: its SQLite database was migrated from JSON files on ${record.at}, but ${changed.join(", ")} ` +
        "differ from what was imported then. Keep one of the two: remove metadata.sqlite (and its -wal, -shm files) to import " +
        "the JSON files again, or move the JSON files away to keep the database.",
    );
  }
}

/**
 * Step 1, inside the opening transaction: imports the legacy files unless a recorded import read
 * exactly these files. Returns the counts imported, or undefined when there was nothing to import.
 */
export function importJsonDataDir(db: DatabaseSync, dataDir: string): Record<string, number> | undefined {
  db.exec(
    "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY NOT NULL, at TEXT NOT NULL, files TEXT NOT NULL)",
  );
  const files = legacyFiles(dataDir);
  if (files.length === 0) return undefined;
  const texts = new Map(files.map((file) => [file, readFileSync(join(dataDir, file), "utf8")]));
  const record = readRecord(db);
  if (record) {
    checkAgainstRecord(dataDir, files, texts, record);
    return undefined;
  }
  const specs = Object.values(entitySpecs) as EntitySpec<{ id: string }>[];
  for (const spec of specs) {
    const row = db.prepare(`SELECT COUNT(*) AS n FROM ${collectionTable(spec)}`).get();
    if (Number(row?.n) > 0) {
      throw new Error(
        `data dir ${dataDir} holds both a SQLite database with data and the JSON files of an earlier version. ` +
          "Keep one of the two: remove metadata.sqlite (and its -wal, -shm files) to import the JSON files, or move " +
          `${legacyMetadataDir}/ and ${legacySecretsFile} away to keep the database.`,
      );
    }
  }

  const counts: Record<string, number> = {};
  for (const spec of specs) {
    const file = join(legacyMetadataDir, `${spec.collection}.json`);
    const text = texts.get(file);
    if (text === undefined) continue;
    const items = (parseJson(file, text) as { items?: unknown } | null)?.items;
    if (!Array.isArray(items)) throw new Error(`migrating the data dir: ${file} has no items array`);
    const insert = db.prepare(`INSERT INTO ${collectionTable(spec)} (id, version, doc) VALUES (?, 1, ?)`);
    for (const item of items as { id?: unknown }[]) {
      if (typeof item?.id !== "string")
        throw new Error(`migrating the data dir: an item of ${file} has no id`);
      insert.run(item.id, documentText(item));
    }
    const stored = Number(db.prepare(`SELECT COUNT(*) AS n FROM ${collectionTable(spec)}`).get()?.n);
    if (stored !== items.length) {
      throw new Error(`migrating the data dir: ${file} has ${items.length} items, ${stored} were stored`);
    }
    counts[spec.collection] = stored;
    // The dashboard's counters, which the JSON files did not keep: counted from what was imported.
    if (spec.collection === "backups") replaceCounterRows(db, countersOf(items as Backup[]));
  }
  const settingsFile = join(legacyMetadataDir, "settings.json");
  const settings = texts.get(settingsFile);
  if (settings !== undefined) {
    db.prepare("INSERT INTO settings (key, doc) VALUES ('settings', ?)").run(
      documentText(parseJson(settingsFile, settings)),
    );
    counts.settings = 1;
  }
  const secrets = texts.get(legacySecretsFile);
  if (secrets !== undefined) {
    const parsed = SecretsFile.safeParse(parseJson(legacySecretsFile, secrets));
    if (!parsed.success)
      throw new Error(`migrating the data dir: ${legacySecretsFile} has an unexpected shape`);
    const entries = Object.entries(parsed.data.entries);
    for (const [serverId, entry] of entries) {
      writeSealedSecret(db, serverId, {
        iv: Buffer.from(entry.iv, "base64"),
        tag: Buffer.from(entry.tag, "base64"),
        ciphertext: Buffer.from(entry.ciphertext, "base64"),
      });
    }
    const stored = Number(db.prepare("SELECT COUNT(*) AS n FROM secrets").get()?.n);
    if (stored !== entries.length) {
      throw new Error(
        `migrating the data dir: ${legacySecretsFile} has ${entries.length} entries, ${stored} were stored`,
      );
    }
    counts.secrets = stored;
  }
  const hashes = Object.fromEntries(files.map((file) => [file, sha256(texts.get(file) ?? "")]));
  db.prepare("INSERT INTO migrations (name, at, files) VALUES (?, ?, ?)").run(
    MIGRATION,
    new Date().toISOString(),
    JSON.stringify(hashes),
  );
  return counts;
}

/** Step 2, after COMMIT: renames the imported files out of the way; returns their new names. */
export function setAsideJsonDataDir(db: DatabaseSync, dataDir: string): string[] {
  if (legacyFiles(dataDir).length === 0) return [];
  const record = readRecord(db);
  if (!record) return [];
  const stamp = record.at.replace(/[:.]/g, "-");
  const renamed: string[] = [];
  for (const name of [legacyMetadataDir, legacySecretsFile]) {
    const from = join(dataDir, name);
    if (!existsSync(from)) continue;
    const to = join(
      dataDir,
      name === legacyMetadataDir ? `${name}.json-migrated-${stamp}` : `${name}.migrated-${stamp}`,
    );
    renameSync(from, to);
    renamed.push(to);
  }
  syncDirSync(dataDir);
  return renamed;
}
