// Lambda: a schedule fired. EventBridge Scheduler invokes it with the input its adapter wrote,
// `{"schedule_id": "...", "scheduled_time": "<the firing's time>"}`, and retries it on error.
import { z } from "zod";
import type { CoreDeps } from "#core/use-cases/deps.ts";
import { fanOutSchedule } from "#core/use-cases/fan-out.ts";
import { awsDepsOnce } from "#functions/composition.ts";
import { createLogger, type Logger } from "#functions/logger.ts";

const FanOutEvent = z.object({
  schedule_id: z.string().min(1).max(64),
  /** Absent when invoked by hand: then the firing is "now". */
  scheduled_time: z.iso.datetime({ offset: true }).optional(),
});

export interface FanOutSummary {
  schedule_id: string;
  scheduled_at: string;
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
    // A firing for a deleted schedule is skipped (and its timer removed) by the use case. Any other
    // failure (the store, a scope that no longer exists) throws: the Scheduler retries, then the
    // dead letters and the function's error alarm tell someone.
    const result = await fanOutSchedule(deps(), scheduleId, at ? new Date(at) : new Date());
    const summary: FanOutSummary = {
      schedule_id: scheduleId,
      scheduled_at: result.scheduled_at,
      created: result.created.length,
      existing: result.existing.length,
      skipped: result.skipped,
    };
    log.info(summary, "schedule fired");
    return summary;
  };
}

const log = createLogger("fan-out");
export const handler = fanOutHandler(awsDepsOnce(log), log);
