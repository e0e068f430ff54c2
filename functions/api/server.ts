// Local mode's server: the same API app on 127.0.0.1 with the embedded adapters, a child-process job
// runner, an in-process cron ticker, housekeeping and retention timers, events to the log and the
// settings' webhook, signed download links, and the web console at `/`.
import { Readable } from "node:stream";
import { type ServerType, serve } from "@hono/node-server";
import type { ChildProcessJobRunner } from "#adapters/local/child-process-job-runner.ts";
import type { CronTicker } from "#adapters/local/cron-ticker.ts";
import { claimDataDir, type DataDirClaim } from "#adapters/local/data-dir-claim.ts";
import { downloadRoutePrefix, SignedLinkDownloads } from "#adapters/local/signed-link-downloads.ts";
import type { LocalDatabase } from "#adapters/local/sqlite-database.ts";
import { NotFoundError } from "#core/errors.ts";
import { loopbackCidrs } from "#core/outbound-policy.ts";
import { type CoreDeps, listAll } from "#core/use-cases/deps.ts";
import { housekeeping } from "#core/use-cases/housekeeping.ts";
import { recoverJobs } from "#core/use-cases/job-recovery.ts";
import { runRetention } from "#core/use-cases/retention.ts";
import { toolVersion } from "#engine/mongo-tools.ts";
import { composeLocal, localTaskAlive } from "#functions/composition.ts";
import { logLevel } from "#functions/config.ts";
import { createLogger, type Logger } from "#functions/logger.ts";
import { type App, createApp } from "./app.ts";
import { bearerTokenAuth } from "./auth.ts";
import { serveConsole } from "./console-assets.ts";
import { errorResponse } from "./errors.ts";

export interface LocalServerOptions {
  port: number;
  host?: string;
  dataDir: string;
  /** The operator's bearer token; `viewerToken` (optional) may only read. */
  token: string;
  viewerToken?: string | undefined;
  /** base64 of 32 bytes for the secrets file; default a 0600 key file in the data dir. */
  secretKey?: string | undefined;
  tools: { mongodump: string; mongorestore: string };
  serverSelectionTimeoutSeconds?: number;
  log?: Logger;
}

export interface LocalServer {
  url: string;
  app: App;
  deps: CoreDeps;
  /** Stops the jobs (recorded failed), then the HTTP server. */
  close(): Promise<void>;
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const host = options.host ?? "127.0.0.1";
  const url = `http://${host}:${options.port}`;
  const log = options.log ?? createLogger("local");
  const taskEnv: Record<string, string> = {
    MBM_ADAPTERS: "local",
    MBM_DATA_DIR: options.dataDir,
    MBM_MONGODUMP: options.tools.mongodump,
    MBM_MONGORESTORE: options.tools.mongorestore,
    MBM_SERVER_SELECTION_TIMEOUT_S: String(options.serverSelectionTimeoutSeconds ?? 30),
    MBM_LOG_LEVEL: logLevel(),
    // Local mode's MongoDB servers (its demo among them) run on this machine: loopback is admitted
    // for them, never for webhooks (local mode's own API on 127.0.0.1 is what those must not reach).
    MBM_MONGODB_ALLOWLIST: loopbackCidrs.join(","),
    ...(options.secretKey ? { MBM_SECRET_KEY: options.secretKey } : {}),
  };
  // One composition (functions/composition.ts): the task environment makes the runner a child
  // process per job and the scheduler an in-process cron ticker.
  const { deps, runner, ticker, database } = composeLocal(taskEnv, { log });
  // Before anything runs: a second server on this data dir is refused here (DataDirInUseError). The
  // first open of the database happens here too, with the migration of an older data dir.
  const claim = database ? claimDataDir(database, options.dataDir) : undefined;
  try {
    return await startClaimed(options, { deps, runner, ticker, log, url, host, claim, database });
  } catch (error) {
    claim?.release();
    throw error;
  }
}

interface Started {
  deps: CoreDeps;
  runner: ChildProcessJobRunner;
  ticker: CronTicker;
  log: Logger;
  url: string;
  host: string;
  claim: DataDirClaim | undefined;
  database: LocalDatabase | undefined;
}

async function startClaimed(
  options: LocalServerOptions,
  { deps, runner, ticker, log, url, host, claim, database }: Started,
): Promise<LocalServer> {
  const recovered = await recoverJobs(deps, localTaskAlive);
  for (const job of recovered.failed) log.warn(job, "job left running by a stopped task: recorded failed");
  for (const error of recovered.errors) log.error({ error }, "job recovery");
  ticker.start(await listAll((f, p) => deps.store.schedules.list(f, p), {}));
  const timers = startBackgroundWork(deps, log);

  const downloads = new SignedLinkDownloads({ baseUrl: url });
  const app = createApp({
    ...deps,
    authenticate: bearerTokenAuth({ operator: options.token, viewer: options.viewerToken }),
    downloads,
    healthProbes: Object.fromEntries(
      Object.entries(options.tools).map(([name, path]) => [
        name,
        async () => ({ ok: true, detail: `${name} ${await toolVersion(path)}` }),
      ]),
    ),
    log,
  });
  app.get(`${downloadRoutePrefix}:token`, async (c) => {
    const grant = downloads.verify(c.req.param("token"));
    if (!grant)
      return errorResponse(c, 403, "this download link is invalid or has expired: ask the API for a new one");
    try {
      const { info, body } = await deps.blobs.download(grant.blobKey);
      return new Response(Readable.toWeb(body) as ReadableStream, {
        headers: {
          "content-type": "application/octet-stream",
          "content-length": String(info.size),
          "content-disposition": `attachment; filename="${grant.fileName.replace(/[^\w.-]/g, "_")}"`,
        },
      });
    } catch (error) {
      if (error instanceof NotFoundError) return errorResponse(c, 404, "the archive no longer exists");
      throw error;
    }
  });

  serveConsole(app);

  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: host }, () => resolve(s));
    s.once("error", reject);
  });
  log.info({ url }, "local mode listening");

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      for (const timer of timers) clearInterval(timer);
      await ticker.stop();
      await runner.shutdown();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      claim?.release();
      database?.close();
    })();
    return closing;
  };
  return { url, app, deps, close };
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * Housekeeping every minute (reaper, stale schedules, dispatch) and retention a minute after start,
 * then daily. Local mode may run only while someone works, so retention does not wait for a fixed
 * hour; a run is idempotent. The timers do not keep the process alive.
 */
function startBackgroundWork(deps: CoreDeps, log: Logger): NodeJS.Timeout[] {
  const every = (ms: number, what: string, work: () => Promise<unknown>) => {
    const timer = setInterval(() => {
      work().catch((err: unknown) => log.error({ err }, `${what} failed`));
    }, ms);
    timer.unref();
    return timer;
  };
  const retention = async () => {
    const result = await runRetention(deps);
    if (result.deleted.length > 0 || result.skipped.length > 0) {
      log.info({ deleted: result.deleted.length, skipped: result.skipped }, "retention run done");
    }
  };
  const first = setTimeout(() => {
    retention().catch((err: unknown) => log.error({ err }, "retention failed"));
  }, MINUTE);
  first.unref();
  return [
    first,
    every(MINUTE, "housekeeping", async () => {
      const result = await housekeeping(deps);
      if (result.reaped.length > 0 || result.errors.length > 0) log.warn(result, "housekeeping");
    }),
    every(DAY, "retention", retention),
  ];
}
