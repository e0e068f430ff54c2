// The API's shapes, shared with the server: type-only imports, so nothing of the core is bundled.
export type {
  AuditEntry,
  Backup,
  Compression,
  JobStatus,
  ManagedDatabase,
  Restore,
  Schedule,
  Server,
  Settings,
} from "../../../functions/core/entities.ts";

// Only entities.ts is imported: the use cases pull in Node's types, which a browser has not.
import type { JobStatus, Schedule } from "../../../functions/core/entities.ts";

/** A schedule as the API answers it: with its next five runs (none while disabled). */
export type ScheduleView = Schedule & { next_runs: string[] };

/** One UTC day of the dashboard's history (`DayFigures` in core/use-cases/system.ts). */
export interface DayFigures {
  date: string;
  completed: number;
  failed: number;
  bytes_written: number;
  bytes_stored: number;
}

export interface Rate {
  completed: number;
  failed: number;
  rate: number | null;
}

export interface Stats {
  servers: number;
  databases: { total: number; enabled: number };
  backups: { by_status: Record<JobStatus, number>; total: number };
  bytes_stored: number;
  success_rate: { last_24h: Rate; last_7d: Rate };
  schedules: { enabled: number };
  next_runs: { schedule_id: string; name: string; at: string }[];
  history: DayFigures[];
}

export interface Me {
  id: string;
  role: "operator" | "viewer";
}
