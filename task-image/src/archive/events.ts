// What an archive holds, as a stream of events: the prelude, then runs of whole BSON documents of
// one collection, then each collection's end. The reader (body.ts) and the dump-directory
// converter (dump-dir.ts) produce them; the writer (writer.ts) turns them back into archive bytes.
import type { ArchivePrelude } from "./prelude.ts";

export type ArchiveEvent =
  | { kind: "prelude"; prelude: ArchivePrelude }
  /** Whole BSON documents of one collection, back to back. */
  | { kind: "documents"; db: string; collection: string; bytes: Buffer; count: number }
  /** The collection has no more documents. */
  | { kind: "end"; db: string; collection: string };

/** `db.collection`, as the tools name a namespace. */
export const namespaceOf = (e: { db: string; collection: string }) => `${e.db}.${e.collection}`;
