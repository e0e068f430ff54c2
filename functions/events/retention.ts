// Lambda, daily: delete what retention allows (use-cases/retention.ts), blob first, then record.
import type { CoreDeps } from "#core/use-cases/deps.ts";
import { runRetention } from "#core/use-cases/retention.ts";
import { createLogger, type Logger } from "#functions/logger.ts";
import { awsDepsOnce } from "#functions/wiring.ts";

export function retentionHandler(deps: () => CoreDeps, log: Logger) {
  return async () => {
    const result = await runRetention(deps());
    log.info({ deleted: result.deleted.length, skipped: result.skipped }, "retention run done");
    return result;
  };
}

const log = createLogger("retention");
export const handler = retentionHandler(awsDepsOnce(log), log);
