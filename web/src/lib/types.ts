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
import type { Schedule } from "../../../functions/core/entities.ts";

/** A schedule as the API answers it: with its next five runs (none while disabled). */
export type ScheduleView = Schedule & { next_runs: string[] };

export type { DayFigures, Stats, SuccessRate as Rate } from "../../../functions/core/views.ts";

export interface Me {
  id: string;
  role: "operator" | "viewer";
}
