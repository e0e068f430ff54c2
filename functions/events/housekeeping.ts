// Lambda, every 5 minutes: reap silent jobs, announce stale schedules, dispatch (use-cases/housekeeping.ts).
import type { CoreDeps } from "#core/use-cases/deps.ts";
import { type HousekeepingResult, housekeeping } from "#core/use-cases/housekeeping.ts";
import { awsDepsOnce } from "#functions/composition.ts";
import { createLogger, type Logger } from "#functions/logger.ts";

export function housekeepingHandler(deps: () => CoreDeps, log: Logger) {
  return async (): Promise<HousekeepingResult> => {
    const result = await housekeeping(deps());
    log.info(result, "housekeeping done");
    // A part that failed fails the invocation, so the function's error alarm sees it.
    if (result.errors.length > 0) throw new Error(`housekeeping: ${result.errors.join("; ")}`);
    return result;
  };
}

const log = createLogger("housekeeping");
export const handler = housekeepingHandler(awsDepsOnce(log), log);
