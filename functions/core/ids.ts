import { v7 as uuidv7 } from "uuid";

/** Time-ordered ids (UUIDv7): sorting ids descending lists newest first without another key. */
export function newId(): string {
  return uuidv7();
}

export function nowIso(): string {
  return new Date().toISOString();
}
