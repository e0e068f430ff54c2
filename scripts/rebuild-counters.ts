// npm run stats:rebuild: recounts every backup record and replaces the dashboard's backup counters
// (functions/core/backup-counters.ts) with the result. The store keeps the counters in the same
// write as each backup change, so this is only needed after a write made around the store (a table
// restored from a backup or an export, a hand edit). Writes made while it runs may be missed by the
// counters: run it when no job is running, and again if in doubt.
//   On AWS: with the functions' environment (MBM_ADAPTERS=aws, MBM_TABLE_NAME, AWS credentials).
//   Locally: DATA_DIR as `npm start` takes it (default .mbm-data in the repository).
import { join, resolve } from "node:path";
import { composeAdapters } from "#functions/composition.ts";
import { parseEnv } from "#functions/config.ts";

const repoRoot = resolve(import.meta.dirname, "..");
const env = process.env.MBM_ADAPTERS
  ? process.env
  : { MBM_ADAPTERS: "local", MBM_DATA_DIR: resolve(process.env.DATA_DIR ?? join(repoRoot, ".mbm-data")) };
const { store } = composeAdapters(parseEnv(env));
const started = performance.now();
const { backups, documents } = await store.counters.rebuild();
console.log(
  `recounted ${backups} backup(s) into ${documents} counter document(s) in ${Math.round(performance.now() - started)} ms`,
);
