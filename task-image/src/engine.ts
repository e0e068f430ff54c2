// What the backup and restore programs share: their dependencies and how a failure is recorded.

import { checkMongoHosts } from "#adapters/mongo-host-check.ts";
import type { JobStatus } from "#core/entities.ts";
import { ConflictError, errorMessage, PasswordNeededError, ValidationError } from "#core/errors.ts";
import type { DomainEvent } from "#core/events.ts";
import { Allowlist, OutboundRefusedError } from "#core/outbound-policy.ts";
import type { BlobStore, ImportSources, JobStore, MetadataStore, SecretStore } from "#core/ports.ts";
import { redact } from "#core/redact.ts";
import { announce } from "#core/use-cases/alerts.ts";
import type { Alerts } from "#core/use-cases/deps.ts";
import type { Logger } from "#functions/logger.ts";
import type { ToolPaths } from "./mongo-tools.ts";

/** The restore drill's throwaway server (drill-server.ts starts it). */
export interface DrillServerConfig {
  /** The server's binary (`mongod`). */
  binary: string;
  /** Its arguments; `{port}` and `{dbpath}` are replaced in each. */
  args: readonly string[];
  /** How long it has to accept connections. */
  startTimeoutMs: number;
}

export interface EngineDeps {
  store: MetadataStore;
  secrets: SecretStore;
  blobs: BlobStore;
  /** The dumps under imports/ an import reads (main.ts always sets it). */
  imports?: ImportSources | undefined;
  tools: ToolPaths;
  log: Logger;
  /** How long the tools look for a reachable server before failing, in seconds. */
  serverSelectionTimeoutSeconds: number;
  /** Recorded on the job: the ECS task ARN, or `local:<pid>`; undefined keeps the one recorded. */
  runnerRef: string | undefined;
  /** How often a running job's `progress` is written. Default 5000. */
  progressIntervalMs?: number;
  /** Where the job's outcome is announced (the task ends the job, so it announces it). */
  alerts?: Alerts | undefined;
  /**
   * CIDRs this deployment admits for MongoDB servers besides the settings' outbound_allowlist
   * (MBM_MONGODB_ALLOWLIST: local mode and the tests set loopback). Default none.
   */
  mongoAllowlist?: readonly string[] | undefined;
  /** The restore drill's throwaway server (MBM_DRILL_SERVER...); without it an ephemeral drill fails. */
  drillServer?: DrillServerConfig | undefined;
}

/**
 * JobFailedError unless the server's hosts resolve to addresses the outbound policy allows for
 * MongoDB (core/outbound-policy.ts). The tools resolve the names again themselves: a DNS answer
 * that changes between this check and their connection is the residual window (they take no
 * resolver of ours), narrowed to the moment between the two lookups.
 */
export async function checkServerAddresses(deps: EngineDeps, uri: string): Promise<void> {
  const settings = await deps.store.settings.get();
  const allowlist = new Allowlist([...(deps.mongoAllowlist ?? []), ...(settings?.outbound_allowlist ?? [])]);
  try {
    await checkMongoHosts(uri, allowlist);
  } catch (error) {
    if (error instanceof OutboundRefusedError)
      throw new JobFailedError(`the server's address is refused: ${error.message}`);
    // A name that does not resolve is left to the tool, whose error says so in its own words.
  }
}

/** Announces the outcome this task recorded; without alerts configured, nothing. */
export async function announceOutcome(deps: EngineDeps, event: DomainEvent | undefined): Promise<void> {
  if (deps.alerts) await announce({ store: deps.store, alerts: deps.alerts }, event);
}

type Progress = { bytes: number; at: string };

/**
 * Records the job failed and announces it. If it already ended (cancelled, or lost to a cancel
 * while completing), that state stands: it is returned and this task announces nothing.
 */
export async function recordFailure<T extends { id: string; status: JobStatus }>(
  jobs: Pick<JobStore<T, unknown>, "transition" | "get">,
  id: string,
  patch: Partial<Omit<T, "id" | "status">>,
  announce: (failed: T) => Promise<void>,
): Promise<T> {
  let failed: T;
  try {
    failed = await jobs.transition(id, "failed", patch);
  } catch (recordError) {
    const current = recordError instanceof ConflictError ? await jobs.get(id) : undefined;
    if (current) return current;
    throw recordError;
  }
  await announce(failed);
  return failed;
}

/**
 * Writes a running job's progress every interval, one write at a time (a slow store skips ticks
 * rather than queueing them). `stop` waits for a write in flight, so none can land after the
 * job's final record and overwrite its figures.
 */
export class ProgressReporter {
  readonly #timer: NodeJS.Timeout;
  #inFlight: Promise<void> | undefined;

  constructor(write: (progress: Progress) => Promise<unknown>, bytes: () => number, intervalMs = 5000) {
    this.#timer = setInterval(() => {
      if (this.#inFlight) return;
      this.#inFlight = write({ bytes: bytes(), at: new Date().toISOString() })
        .then(
          () => undefined,
          () => undefined, // progress is informative: a failed write must not fail the job
        )
        .finally(() => {
          this.#inFlight = undefined;
        });
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#inFlight;
  }
}

/** A failure with a reason fit for the job record: clear, and already free of secrets. */
export class JobFailedError extends Error {
  override name = "JobFailedError";
}

/** The reason to record for `error`, redacted of URIs and the given secrets. */
export function failureReason(
  error: unknown,
  signal: AbortSignal,
  secrets: Array<string | undefined>,
): string {
  if (signal.aborted) {
    const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
    return redact(reason, secrets);
  }
  const message = error instanceof Error ? error.message : String(error);
  // A domain refusal (a connection rule, a missing password, a system database) is a clear reason too.
  const expected =
    error instanceof JobFailedError ||
    error instanceof ValidationError ||
    error instanceof PasswordNeededError;
  const text = expected ? message : `unexpected error: ${message}`;
  return errorMessage(redact(text, secrets), 2000);
}

export function elapsedMs(startedAt: number): number {
  return Math.max(0, Math.round(performance.now() - startedAt));
}
