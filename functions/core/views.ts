// Shapes the API answers that are not stored entities: the dashboard's figures. One zod schema each,
// as in entities.ts: the route documents it (OpenAPI), the use case returns its type, and the
// console (web/src/lib/types.ts) imports the same type.
import { z } from "zod";
import { nextRuns } from "./cron.ts";
import { JobStatus, Schedule } from "./entities.ts";

export const DayFigures = z.object({
  /** UTC calendar day, `YYYY-MM-DD`. */
  date: z.string(),
  completed: z.number(),
  failed: z.number(),
  /** Archive bytes written by the backups that completed that day. */
  bytes_written: z.number(),
  /**
   * Bytes held at the end of that day by backups that still exist: expired backups leave no
   * record, so this is what the retained archives add up to over time, not a storage bill.
   */
  bytes_stored: z.number(),
});
export type DayFigures = z.infer<typeof DayFigures>;

/** Completed and failed backups in a window, and the share that completed (null when none ended). */
export const SuccessRate = z.object({
  completed: z.number(),
  failed: z.number(),
  rate: z.number().nullable(),
});
export type SuccessRate = z.infer<typeof SuccessRate>;

/** One managed database's standing in restore drills, for the dashboard. */
export const DatabaseProof = z.object({
  server_id: z.string(),
  database: z.string(),
  status: z.enum(["passed", "failed", "not_yet", "no_backup"]).meta({
    description:
      "The latest drill of its newest completed backup: passed, failed, not_yet (not drilled yet) or no_backup (no completed backup)",
  }),
  last_verified_at: z.string().nullable().meta({
    description: "When its newest passing drill ran, whichever backup it proved; null if none passed",
  }),
  recovery_ms: z.number().nullable().meta({
    description: "The restore time of that drill: the database's last measured recovery time",
  }),
});
export type DatabaseProof = z.infer<typeof DatabaseProof>;

/** The dashboard's "proven restorable" figures, over the enabled managed databases. */
export const DrillFigures = z.object({
  proven_databases: z.number().meta({
    description: "Enabled databases whose newest completed backup passed its latest restore drill",
  }),
  managed_databases: z.number().meta({ description: "Enabled managed databases" }),
  share: z.number().nullable().meta({ description: "proven_databases / managed_databases; null when none" }),
  oldest_proof_at: z.string().nullable().meta({
    description: "The oldest of the drills that make the proven databases proven; null when none is",
  }),
  databases: z.array(DatabaseProof),
});
export type DrillFigures = z.infer<typeof DrillFigures>;

/** `GET /api/stats`. */
export const Stats = z.object({
  servers: z.number(),
  databases: z.object({ total: z.number(), enabled: z.number() }),
  backups: z.object({ by_status: z.record(JobStatus, z.number()), total: z.number() }),
  bytes_stored: z.number(),
  success_rate: z.object({ last_24h: SuccessRate, last_7d: SuccessRate }),
  schedules: z.object({ enabled: z.number() }),
  next_runs: z.array(z.object({ schedule_id: z.string(), name: z.string(), at: z.string() })),
  history: z.array(DayFigures),
  drills: DrillFigures,
});
export type Stats = z.infer<typeof Stats>;

/** A schedule as the API answers it: with its next five run times (none while disabled). */
export const ScheduleView = Schedule.extend({ next_runs: z.array(z.string()) });
export type ScheduleView = z.infer<typeof ScheduleView>;

export function withNextRuns(schedule: Schedule, from = new Date()): ScheduleView {
  return {
    ...schedule,
    next_runs: schedule.enabled ? nextRuns(schedule.cron_expression, schedule.timezone, 5, from) : [],
  };
}

/** One check of `GET /api/health`. */
export const HealthCheck = z.object({ ok: z.boolean(), detail: z.string() });
export type HealthCheck = z.infer<typeof HealthCheck>;

/** Extra checks a deployment adds (e.g. local mode: the mongo tools are found). */
export type HealthProbe = () => Promise<HealthCheck>;
