// What the backup and restore programs share: their dependencies and how a failure is recorded.
import type { BlobStore, MetadataStore, SecretStore } from "#core/ports.ts";
import { redact } from "#core/redact.ts";
import type { Logger } from "#functions/logger.ts";
import type { ToolPaths } from "./mongo-tools.ts";

export interface EngineDeps {
  store: MetadataStore;
  secrets: SecretStore;
  blobs: BlobStore;
  tools: ToolPaths;
  log: Logger;
  /** How long the tools look for a reachable server before failing, in seconds. */
  serverSelectionTimeoutSeconds: number;
  /** Recorded on the job: the ECS task ARN, or `local:<pid>`. */
  runnerRef: string;
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
  const text = error instanceof JobFailedError ? message : `unexpected error: ${message}`;
  return redact(text, secrets).slice(0, 2000);
}

export function elapsedMs(startedAt: number): number {
  return Math.max(0, Math.round(performance.now() - startedAt));
}
