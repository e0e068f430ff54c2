// The events the product announces (to the EventBridge bus on AWS, to the log in local mode) and the
// text of the notifications sent for the ones that need a person (failures and stale schedules).
// Pure: the shapes, how to build them from records, and their words. README "Events and alerts"
// documents the same shapes for whoever writes rules against the bus.
import type { Backup, Drill, ManagedDatabase, Restore, Schedule, Verification } from "./entities.ts";

/** EventBridge `source` of every event. */
export const EVENT_SOURCE = "mongo-backup-manager";

export interface BackupEventDetail {
  backup_id: string;
  server_id: string;
  database: string;
  status: "completed" | "failed";
  trigger: Backup["trigger"];
  schedule_id: string | null;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  size_bytes: number | null;
  sha256: string | null;
  /** Why it failed (already free of secrets); null when it completed. */
  error: string | null;
}

export interface RestoreEventDetail {
  restore_id: string;
  backup_id: string;
  source_server_id: string;
  source_database: string;
  target_server_id: string;
  target_database: string;
  status: "completed" | "failed";
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  error: string | null;
}

export interface ScheduleStaleDetail {
  schedule_id: string;
  name: string;
  cron_expression: string;
  timezone: string;
  /** The earlier of the two most recent firings: no backup of this schedule completed since. */
  expected_since: string;
  /** When the newest completed backup of this schedule was created; null if it never had one. */
  last_success_at: string | null;
}

/** A restore drill's outcome (the full per-collection proof is on the backup's `verification`). */
export interface VerificationEventDetail {
  drill_id: string;
  backup_id: string;
  server_id: string;
  database: string;
  /** `ephemeral` or `sandbox:<server id>`. */
  target: string;
  status: "passed" | "failed";
  /** The measured recovery time (the restore itself); null when the drill failed before it. */
  duration_ms: number | null;
  collections: number;
  documents: number;
  /** Why it failed (already free of secrets); null when it passed. */
  error: string | null;
}

export interface DrillStaleDetail {
  server_id: string;
  database: string;
  max_age_days: number;
  /** When its newest passing drill ran; null if none ever passed. */
  last_passed_at: string | null;
  last_passed_backup_id: string | null;
}

export type DomainEvent =
  | { type: "BackupCompleted" | "BackupFailed"; time: string; detail: BackupEventDetail }
  | { type: "BackupVerified" | "BackupVerificationFailed"; time: string; detail: VerificationEventDetail }
  | { type: "DrillStale"; time: string; detail: DrillStaleDetail }
  | { type: "RestoreCompleted" | "RestoreFailed"; time: string; detail: RestoreEventDetail }
  | { type: "ScheduleStale"; time: string; detail: ScheduleStaleDetail };

export type DomainEventType = DomainEvent["type"];

/** The event for a backup that ended; undefined for one that did not end, or was cancelled. */
export function backupEvent(backup: Backup): DomainEvent | undefined {
  if (backup.status !== "completed" && backup.status !== "failed") return undefined;
  return {
    type: backup.status === "completed" ? "BackupCompleted" : "BackupFailed",
    time: backup.finished_at ?? new Date().toISOString(),
    detail: {
      backup_id: backup.id,
      server_id: backup.server_id,
      database: backup.database,
      status: backup.status,
      trigger: backup.trigger,
      schedule_id: backup.schedule_id,
      started_at: backup.started_at,
      finished_at: backup.finished_at,
      duration_ms: backup.duration_ms,
      size_bytes: backup.size_bytes,
      sha256: backup.sha256,
      error: backup.status === "failed" ? backup.error : null,
    },
  };
}

/** The event for a restore that ended; undefined for one that did not end, or was cancelled. */
export function restoreEvent(restore: Restore): DomainEvent | undefined {
  if (restore.status !== "completed" && restore.status !== "failed") return undefined;
  return {
    type: restore.status === "completed" ? "RestoreCompleted" : "RestoreFailed",
    time: restore.finished_at ?? new Date().toISOString(),
    detail: {
      restore_id: restore.id,
      backup_id: restore.backup_id,
      source_server_id: restore.source_server_id,
      source_database: restore.source_database,
      target_server_id: restore.target_server_id,
      target_database: restore.target_database,
      status: restore.status,
      started_at: restore.started_at,
      finished_at: restore.finished_at,
      duration_ms: restore.duration_ms,
      error: restore.status === "failed" ? restore.error : null,
    },
  };
}

/** The event for a drill that ended with a proof; undefined for one that did not end, or was cancelled. */
export function drillEvent(drill: Drill): DomainEvent | undefined {
  const proof: Verification | null = drill.result;
  if ((drill.status !== "completed" && drill.status !== "failed") || !proof) return undefined;
  const collections = Object.values(proof.collections);
  return {
    type: proof.status === "passed" ? "BackupVerified" : "BackupVerificationFailed",
    time: proof.at,
    detail: {
      drill_id: drill.id,
      backup_id: drill.backup_id,
      server_id: drill.server_id,
      database: drill.database,
      target: proof.target,
      status: proof.status,
      duration_ms: proof.duration_ms,
      collections: collections.length,
      documents: collections.reduce((sum, c) => sum + (c.restored ?? 0), 0),
      error: proof.status === "failed" ? proof.error : null,
    },
  };
}

export function drillStaleEvent(
  database: Pick<ManagedDatabase, "server_id" | "name">,
  maxAgeDays: number,
  lastPassed: { at: string; backup_id: string } | null,
  now: Date,
): DomainEvent {
  return {
    type: "DrillStale",
    time: now.toISOString(),
    detail: {
      server_id: database.server_id,
      database: database.name,
      max_age_days: maxAgeDays,
      last_passed_at: lastPassed?.at ?? null,
      last_passed_backup_id: lastPassed?.backup_id ?? null,
    },
  };
}

export function scheduleStaleEvent(
  schedule: Schedule,
  expectedSince: string,
  lastSuccessAt: string | null,
  now: Date,
): DomainEvent {
  return {
    type: "ScheduleStale",
    time: now.toISOString(),
    detail: {
      schedule_id: schedule.id,
      name: schedule.name,
      cron_expression: schedule.cron_expression,
      timezone: schedule.timezone,
      expected_since: expectedSince,
      last_success_at: lastSuccessAt,
    },
  };
}

/** Failures and staleness need a person; completions only go to the bus. */
export function needsNotification(event: DomainEvent): boolean {
  return (
    event.type === "BackupFailed" ||
    event.type === "RestoreFailed" ||
    event.type === "ScheduleStale" ||
    event.type === "BackupVerificationFailed" ||
    event.type === "DrillStale"
  );
}

/** A one-line subject (SNS: at most 100 printable ASCII characters) and a readable text. */
export function notificationText(event: DomainEvent): { subject: string; text: string } {
  const ascii = (s: string) => s.replace(/[^\x20-\x7e]/g, "?").slice(0, 100);
  switch (event.type) {
    case "BackupCompleted":
    case "BackupFailed": {
      const d = event.detail;
      const what = `Backup of ${d.database} (server ${d.server_id})`;
      return event.type === "BackupFailed"
        ? {
            subject: ascii(`[mongo-backup-manager] backup of ${d.database} failed`),
            text: `${what} failed: ${d.error ?? "no reason recorded"}. Backup ${d.backup_id}${d.schedule_id ? `, schedule ${d.schedule_id}` : ""}.`,
          }
        : {
            subject: ascii(`[mongo-backup-manager] backup of ${d.database} completed`),
            text: `${what} completed: ${d.size_bytes ?? 0} bytes in ${d.duration_ms ?? 0} ms. Backup ${d.backup_id}.`,
          };
    }
    case "RestoreCompleted":
    case "RestoreFailed": {
      const d = event.detail;
      const what = `Restore of backup ${d.backup_id} into ${d.target_database} (server ${d.target_server_id})`;
      return event.type === "RestoreFailed"
        ? {
            subject: ascii(`[mongo-backup-manager] restore into ${d.target_database} failed`),
            text: `${what} failed: ${d.error ?? "no reason recorded"}. Restore ${d.restore_id}.`,
          }
        : {
            subject: ascii(`[mongo-backup-manager] restore into ${d.target_database} completed`),
            text: `${what} completed in ${d.duration_ms ?? 0} ms. Restore ${d.restore_id}.`,
          };
    }
    case "BackupVerified":
    case "BackupVerificationFailed": {
      const d = event.detail;
      const what = `Restore drill of backup ${d.backup_id} (${d.database}, server ${d.server_id}) on ${d.target}`;
      return event.type === "BackupVerificationFailed"
        ? {
            subject: ascii(`[mongo-backup-manager] restore drill of ${d.database} failed`),
            text: `${what} failed: ${d.error ?? "no reason recorded"}. Drill ${d.drill_id}.`,
          }
        : {
            subject: ascii(`[mongo-backup-manager] backup of ${d.database} proven restorable`),
            text: `${what} passed: ${d.collections} collection(s), ${d.documents} document(s), restored in ${d.duration_ms ?? 0} ms.`,
          };
    }
    case "DrillStale": {
      const d = event.detail;
      return {
        subject: ascii(`[mongo-backup-manager] no recent restore drill of ${d.database}`),
        text:
          `Database ${d.database} (server ${d.server_id}) has no restore drill that passed in the last ` +
          `${d.max_age_days} day(s). Newest pass: ${d.last_passed_at ? `${d.last_passed_at} (backup ${d.last_passed_backup_id})` : "never"}.`,
      };
    }
    case "ScheduleStale": {
      const d = event.detail;
      return {
        subject: ascii(`[mongo-backup-manager] schedule ${d.name} is stale`),
        text:
          `Schedule "${d.name}" (${d.cron_expression}, ${d.timezone}) has no completed backup since ` +
          `${d.expected_since}, two firings ago. Last success: ${d.last_success_at ?? "never"}.`,
      };
    }
  }
}
