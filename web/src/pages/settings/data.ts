// What the settings sections share: the connection-test reply, how a failed
// test reads, and cursor paging state.
import { useEffect, useState } from "preact/hooks";
import type { Reply } from "../../lib/api.ts";

export const FAILURE_KINDS = ["authentication", "unreachable", "tls", "timeout", "refused", "other"] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** What POST /api/servers/{id}/test answers. */
export type TestReply = Reply<"POST", "/api/servers/{id}/test">;

/** A stored failed test reads "<kind>: <message>" (use-cases/servers.ts testServer). */
export function splitTestError(error: string | null): { kind: FailureKind | null; message: string } {
  if (!error) return { kind: null, message: "" };
  const colon = error.indexOf(":");
  const head = colon > 0 ? error.slice(0, colon) : "";
  const kind = FAILURE_KINDS.find((k) => k === head) ?? null;
  return kind ? { kind, message: error.slice(colon + 1).trim() } : { kind: null, message: error };
}

/** Cursor paging: the cursor of this page and the ones before it (to go back). */
export function useCursorTrail(resetKey: unknown) {
  const [trail, setTrail] = useState<(string | undefined)[]>([]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  useEffect(() => {
    setTrail([]);
    setCursor(undefined);
  }, [resetKey]);
  return {
    cursor,
    hasPrevious: trail.length > 0,
    previous: () => {
      setCursor(trail[trail.length - 1]);
      setTrail(trail.slice(0, -1));
    },
    next: (nextCursor: string | null) => {
      if (!nextCursor) return;
      setTrail([...trail, cursor]);
      setCursor(nextCursor);
    },
  };
}

/** Control characters break logs and terminals: the API refuses them in names. */
export function hasControlCharacter(value: string): boolean {
  return [...value].some((ch) => {
    const code = ch.codePointAt(0) ?? 0;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f);
  });
}
