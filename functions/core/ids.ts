import { createHash } from "node:crypto";
import { v7 as uuidv7 } from "uuid";

/** Time-ordered ids (UUIDv7): sorting ids descending lists newest first without another key. */
export function newId(): string {
  return uuidv7();
}

export function nowIso(): string {
  return new Date().toISOString();
}

/**
 * The same UUIDv7 every time for the same time and key: its time part is `at` (so it sorts with the
 * others), its random part a hash of `key`. Creating a record under it twice fails the second time,
 * which makes a redelivered event idempotent.
 */
export function deterministicId(at: Date, key: string): string {
  const random = createHash("sha256").update(key).digest().subarray(0, 16);
  return uuidv7({ msecs: at.getTime(), random: new Uint8Array(random) });
}
