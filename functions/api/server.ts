// Local mode's server: the same API app on 127.0.0.1 with the embedded adapters, a child-process job
// runner, an in-process cron ticker, housekeeping and retention timers, events to the log and the
// settings' webhook, signed download links, and the web console at `/`.
import { Readable } from "node:stream";
import { type ServerType, serve } from "@hono/node-server";
import {
  ChildProcessJobRunner,
  type JobExit,
  processAlive,
} from "#adapters/local/child-process-job-runner.ts";
import { CronTicker } from "#adapters/local/cron-ticker.ts";
import { downloadRoutePrefix, SignedLinkDownloads } from "#adapters/local/signed-link-downloads.ts";
import { MongoDriverInspector } from "#adapters/mongo-driver-inspector.ts";
import type { JobStatus } from "#core/entities.ts";
import { NotFoundError } from "#core/errors.ts";
import { loopbackCidrs } from "#core/outbound-policy.ts";
import type { JobRef, PageRequest } from "#core/ports.ts";
import { type CoreDeps, listAll } from "#core/use-cases/deps.ts";
import { dispatch } from "#core/use-cases/dispatch.ts";
import { fanOutSchedule } from "#core/use-cases/fan-out.ts";
import { housekeeping } from "#core/use-cases/housekeeping.ts";
import { failAndAnnounce, startJob, taskEnded } from "#core/use-cases/jobs.ts";
import { runRetention } from "#core/use-cases/retention.ts";
import { toolVersion } from "#engine/mongo-tools.ts";
import { buildAdapters, EngineEnv } from "#functions/config.ts";
import { createLogger, type Logger } from "#functions/logger.ts";
import { buildAlerts } from "#functions/wiring.ts";
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

/**
 * What local mode does when a task process ends: if it died without recording its job's end, the job
 * is failed and announced (as the task-state function does on AWS); then the next queued backup may
 * start. Only the task the record names can fail it: two dispatches racing may start a second task
 * for one job, which finds it claimed and exits 2, and must not fail the job its twin is running.
 * `deps` is a getter because the runner that calls this is itself one of the deps.
 */
export function onTaskExit(deps: () => CoreDeps, log: Logger): (job: JobRef, exit: JobExit) => void {
  return (job, exit) => {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    taskEnded(deps(), job, `the task ${how} before recording the job's end`, exit.runnerRef)
      .then(() => dispatch(deps()))
      .catch((err: unknown) => log.error({ err }, "handling a task's end failed"));
  };
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
    MBM_LOG_LEVEL: process.env.MBM_LOG_LEVEL ?? "info",
    // Local mode's MongoDB servers (its demo among them) run on this machine: loopback is admitted
    // for them, never for webhooks (local mode's own API on 127.0.0.1 is what those must not reach).
    MBM_MONGODB_ALLOWLIST: loopbackCidrs.join(","),
    ...(options.secretKey ? { MBM_SECRET_KEY: options.secretKey } : {}),
  };
  const config = EngineEnv.parse(taskEnv);
  const adapters = buildAdapters(config);
  const runner = new ChildProcessJobRunner({
    env: taskEnv,
    log: log.child({ component: "runner" }),
    onExit: onTaskExit(() => deps, log),
  });
  // Schedules fire from an in-process ticker; fan-out is idempotent per (schedule, minute).
  const ticker = new CronTicker({
    fire: (scheduleId, minute) => fanOutSchedule(deps, scheduleId, minute),
    log: log.child({ component: "scheduler" }),
  });
  const deps: CoreDeps = {
    ...adapters,
    inspector: new MongoDriverInspector({ timeoutMs: 5_000, allowlist: config.MBM_MONGODB_ALLOWLIST }),
    runner,
    scheduler: ticker,
    alerts: buildAlerts(config, log.child({ component: "events" })),
  };
  await reconcileJobs(deps, log);
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
      const { info, body } = await adapters.blobs.download(grant.blobKey);
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
    })();
    return closing;
  };
  return { url, app, deps, close };
}

/**
 * On start: a job left `running` by a local task that no longer exists (the server was killed, or
 * a task was) is recorded failed. A queued job handed to a task that died before claiming it is
 * handed over again. A task still alive (tasks outlive a killed server: they run in their own
 * process group) is left to finish and record itself. Then queued restores start and the
 * dispatcher starts queued backups within its limits.
 */
async function reconcileJobs(deps: CoreDeps, log: Logger): Promise<void> {
  const backups = (f: { status: JobStatus }, p: PageRequest) => deps.store.backups.list(f, p);
  const restores = (f: { status: JobStatus }, p: PageRequest) => deps.store.restores.list(f, p);
  const taskAlive = (ref: string | null) => {
    const pid = Number(/^local:(\d+)$/.exec(ref ?? "")?.[1]);
    return Boolean(pid) && processAlive(pid);
  };
  for (const [kind, list] of [
    ["backup", backups],
    ["restore", restores],
  ] as const) {
    type Job = { id: string; runner_ref: string | null };
    const jobs = kind === "backup" ? deps.store.backups : deps.store.restores;
    for (const job of await listAll<Job, { status: JobStatus }>(list, { status: "running" })) {
      if (taskAlive(job.runner_ref)) continue;
      // If it finished meanwhile, that outcome stands (false).
      const failed = await failAndAnnounce(
        deps,
        { kind, id: job.id },
        "local mode stopped before the job finished",
      ).catch((err: unknown) => {
        log.error({ err, kind, id: job.id }, "could not record a job left running by a stopped task");
        return false;
      });
      if (failed) log.warn({ kind, id: job.id }, "job left running by a stopped task: recorded failed");
    }
    const queued = await listAll<Job, { status: JobStatus }>(list, { status: "queued" });
    for (const job of queued.reverse()) {
      if (taskAlive(job.runner_ref)) continue;
      if (job.runner_ref) await jobs.update(job.id, { runner_ref: null });
      // Restores are not rationed: someone is waiting for each one.
      if (kind === "restore") await startJob(deps, { kind, id: job.id });
    }
  }
  await dispatch(deps);
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
