// What the use cases need from the world, and who is asking. Built by a handler from the adapters
// that configuration selects (functions/config.ts); the use cases never construct an adapter.
import type { AuditEntry } from "../entities.ts";
import { DomainError, errorMessage, ForbiddenError } from "../errors.ts";
import { newId, nowIso } from "../ids.ts";
import type {
  BlobStore,
  EventBus,
  JobRunner,
  MetadataStore,
  MongoInspector,
  Notifier,
  Page,
  PageRequest,
  Scheduler,
  SecretStore,
  WebhookSender,
} from "../ports.ts";

/** Where events and notifications go (use-cases/alerts.ts decides which goes where). */
export interface Alerts {
  bus: EventBus;
  /** Channels to people: the SNS topic on AWS; none in local mode. */
  notifiers: Notifier[];
  /** Posts to the settings' webhook_url, when one is set. Null: no webhook in this deployment. */
  webhook: WebhookSender | null;
}

export interface CoreDeps {
  store: MetadataStore;
  secrets: SecretStore;
  blobs: BlobStore;
  inspector: MongoInspector;
  /** Starts queued jobs. Null where nothing runs them yet: jobs then stay queued. */
  runner: JobRunner | null;
  /** Keeps timers in step with schedules. Null where schedules do not fire yet. */
  scheduler: Scheduler | null;
  alerts: Alerts;
}

/** The signed-in caller: an operator may change things, a viewer only read. */
export interface Actor {
  id: string;
  role: "operator" | "viewer";
}

export function requireOperator(actor: Actor): void {
  if (actor.role !== "operator") {
    throw new ForbiddenError(`${actor.id} may read but not change anything (operators group required)`);
  }
}

interface Change {
  action: string;
  target_type: string;
  target_id?: string | null;
  details?: Record<string, unknown>;
}

/**
 * Runs a change on behalf of `actor` and appends the audit entry: success with the target, or a
 * failure with its reason when the change broke off unexpectedly (a store or the secret service
 * failing part way). A refused request (any DomainError: invalid, unknown, conflicting) changed
 * nothing and the caller was told why, so it leaves no entry: refusals do not grow the log.
 */
export async function audited<T>(
  deps: Pick<CoreDeps, "store">,
  actor: Actor,
  change: Change,
  run: () => Promise<T>,
  targetOf: (result: T) => string | null = () => change.target_id ?? null,
): Promise<T> {
  requireOperator(actor);
  const entry = (outcome: AuditEntry["outcome"], target: string | null, extra: Record<string, unknown>) => ({
    id: newId(),
    at: nowIso(),
    actor: actor.id,
    action: change.action,
    target_type: change.target_type,
    target_id: target,
    outcome,
    details: { ...change.details, ...extra },
  });
  let result: T;
  try {
    result = await run();
  } catch (error) {
    if (!(error instanceof DomainError)) {
      await deps.store.audit.create(
        entry("failure", change.target_id ?? null, { error: errorMessage(error) }),
      );
    }
    throw error;
  }
  await deps.store.audit.create(entry("success", targetOf(result), {}));
  return result;
}

/**
 * Every item of a paged list (for the few places that must see them all, such as fan-out). There
 * is no cap: a caller that stopped at a fixed count would act on part of the data without knowing.
 */
export async function listAll<T, F>(
  list: (filter: F, page: PageRequest) => Promise<Page<T>>,
  filter: F,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(filter, { limit: 100, cursor });
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return items;
}

/** `value` without its undefined fields: what a partial update actually sets. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
