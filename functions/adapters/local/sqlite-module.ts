// Loads node:sqlite, which Node 24 still marks experimental: loading it prints "ExperimentalWarning:
// SQLite is an experimental feature..." once per process, in the server's and every task's output,
// where it reads like a fault. Only that warning is dropped (by type and text), only while the
// module loads; every other warning goes through. The module is loaded on first use
// (getBuiltinModule) with the filter in place: a static import would load it before our code runs.
type Sqlite = typeof import("node:sqlite");

const SQLITE_WARNING = "SQLite is an experimental feature";

let sqlite: Sqlite | undefined;

/** Loads the module with its one warning filtered out; the filter is gone again afterwards. */
export function loadSqlite(): Sqlite {
  if (sqlite) return sqlite;
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const first = rest[0];
    const type = typeof first === "string" ? first : (first as { type?: string } | undefined)?.type;
    const text = typeof warning === "string" ? warning : warning.message;
    if (type === "ExperimentalWarning" && text.startsWith(SQLITE_WARNING)) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    sqlite = process.getBuiltinModule("node:sqlite");
  } finally {
    process.emitWarning = emitWarning;
  }
  return sqlite;
}
