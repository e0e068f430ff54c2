// The restore drill's throwaway server where no `mongod` exists (local mode, the tests): FerretDB on
// a PostgreSQL cluster made for it, both with their data under `--dir`, FerretDB on 127.0.0.1:`--port`
// without authentication (loopback only, as a throwaway mongod is). The drill's launcher starts it
// exactly as it starts `mongod` (MBM_DRILL_SERVER / MBM_DRILL_SERVER_ARGS), removes `--dir` after it
// exited, and stops it with SIGTERM, on which this stops FerretDB, then PostgreSQL, then exits.
//
//   node scripts/throwaway-ferretdb.ts --port <port> --dir <dir>
//
// Why a wrapper and not FerretDB's SQLite backend: the bootstrap builds FerretDB without it
// (ferretdb_no_sqlite), since compiling modernc.org/sqlite was most of FerretDB's build time, and
// the tests already run FerretDB on PostgreSQL; a throwaway PostgreSQL cluster starts in about 2 s
// here (initdb and the server; measured in README "Restore drills"), which the drill reports as the
// throwaway server's start-up, apart from the restore's own time.
import type { ChildProcess } from "node:child_process";
import { chmodSync, existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { preparePostgresCluster } from "./postgres-cluster.ts";
import { cacheDir, findTool, spawnServer, stopChild } from "./processes.ts";

function ferretDbBinary(): string {
  const cached = join(cacheDir(), "bin", "ferretdb");
  return existsSync(cached) ? cached : findTool("ferretdb");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: "string" }, dir: { type: "string" } },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535 || !values.dir) {
    throw new Error("usage: throwaway-ferretdb.ts --port <port> --dir <dir>");
  }
  const dir = values.dir;
  // As root PostgreSQL runs as the postgres user, which must pass through the launcher's private dir.
  if (process.getuid?.() === 0) chmodSync(dir, 0o711);
  const cluster = preparePostgresCluster({ dir: join(dir, "server"), durable: false, database: "ferretdb" });
  let ferret: ChildProcess | undefined;
  let stopping = false;
  const postgresStart = cluster.start();
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (ferret) await stopChild(ferret);
    await (await postgresStart.catch(() => undefined))?.stop();
    process.exit(code);
  };
  process.once("SIGTERM", () => void stop(0));
  process.once("SIGINT", () => void stop(0));
  const postgres = await postgresStart;
  if (stopping) return;
  ferret = spawnServer(
    ferretDbBinary(),
    [
      "--handler=postgresql",
      `--postgresql-url=${postgres.url}`,
      `--listen-addr=127.0.0.1:${port}`,
      "--telemetry=disable",
      "--debug-addr=-",
      "--log-level=error",
      "--state-dir",
      join(dir, "server"),
    ],
    "SIGTERM",
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  // FerretDB exiting by itself (a taken port, a bad flag) ends the throwaway server: the launcher
  // sees this process exit and reports its stderr.
  ferret.once("exit", (code, signal) => {
    if (!stopping) {
      process.stderr.write(`ferretdb exited with ${code ?? signal}\n`);
      void stop(1);
    }
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`throwaway ferretdb: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
