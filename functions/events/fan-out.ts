// Lambda: a schedule fired. EventBridge Scheduler invokes it with the input its adapter wrote,
// `{"schedule_id": "...", "scheduled_time": "<the firing's time>"}`, and retries it on error.
import { z } from "zod";
import { NotFoundError } from "#core/errors.ts";
import type { CoreDeps } from "#core/use-cases/deps.ts";
import { fanOutSchedule } from "#core/use-cases/fan-out.ts";
import { createLogger, type Logger } from "#functions/logger.ts";
import { awsDepsOnce } from "#functions/wiring.ts";

export const FanOutEvent = z.object({
  schedule_id: z.string().min(1).max(64),
  /** Absent when invoked by hand: then the firing is "now". */
  scheduled_time: z.iso.datetime({ offset: true }).optional(),
});

export interface FanOutSummary {
  schedule_id: string;
  scheduled_at: string | null;
  created: number;
  existing: number;
  skipped: string | null;
}

export function fanOutHandler(deps: () => CoreDeps, log: Logger) {
  return async (event: unknown): Promise<FanOutSummary> => {
    const parsed = FanOutEvent.safeParse(event);
    if (!parsed.success) {
      // Thrown so the invocation fails and, after the Scheduler's retries, lands in the dead letters.
      throw new Error(
        `fan-out: not a schedule firing: ${parsed.error.issues.map((i) => i.message).join("; ")}`,
      );
    }
    const { schedule_id: scheduleId, scheduled_time: at } = parsed.data;
    const d = deps();
    try {
      const result = await fanOutSchedule(d, scheduleId, at ? new Date(at) : new Date());
      const summary = {
        schedule_id: scheduleId,
        scheduled_at: result.scheduled_at,
        created: result.created.length,
        existing: result.existing.length,
        skipped: result.skipped,
      };
      log.info(summary, "schedule fired");
      return summary;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      // The schedule was deleted but its timer fired (deleted in between, or left behind): nothing
      // to back up, and retrying cannot help. The orphan timer goes, so it stops firing.
      log.warn({ schedule_id: scheduleId }, "fan-out for an unknown schedule ignored; its timer is removed");
      await d.scheduler
        ?.remove(scheduleId)
        .catch((err: unknown) => log.warn({ err }, "removing the timer failed"));
      return {
        schedule_id: scheduleId,
        scheduled_at: null,
        created: 0,
        existing: 0,
        skipped: "unknown schedule",
      };
    }
  };
}

const log = createLogger("fan-out");
export const handler = fanOutHandler(awsDepsOnce(log), log);
