// Lambda, daily: delete what retention allows (use-cases/retention.ts), blob first, then record.
import type { CoreDeps } from "#core/use-cases/deps.ts";
import { runRetention } from "#core/use-cases/retention.ts";
import { awsDepsOnce } from "#functions/composition.ts";
import { createLogger, type Logger } from "#functions/logger.ts";

export function retentionHandler(deps: () => Pick<CoreDeps, "store" | "blobs">, log: Logger) {
  return async () => {
    const result = await runRetention(deps());
    log.info({ deleted: result.deleted.length, skipped: result.skipped }, "retention run done");
    // The run goes on past a failed deletion; then the invocation fails, so the error alarm sees it.
    if (result.errors.length > 0) {
      log.warn({ errors: result.errors }, "retention could not do all it should");
      throw new Error(`retention: ${result.errors.length} failures; first: ${result.errors[0]}`);
    }
    return result;
  };
}

const log = createLogger("retention");
export const handler = retentionHandler(awsDepsOnce(log), log);
