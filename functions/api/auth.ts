// Who is calling. On AWS, API Gateway's JWT authorizer has already verified the Cognito token and
// passes its claims in the Lambda event; we only read them. In local mode a bearer token is
// compared in constant time. Either way: the `operators` group changes things, the `viewers` group
// reads, and a signed-in user in neither gets nothing (403 on every route).
import { createHash, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { z } from "zod";
import type { Actor } from "#core/use-cases/deps.ts";

/** Signed in (the token is good) but in neither group: refused everywhere, told whom to ask. */
export interface Ungrouped {
  id: string;
  role: null;
}

/** `undefined`: no valid credentials (401). */
export type Authenticator = (c: Context) => Actor | Ungrouped | undefined;

/** What a signed-in caller in neither group is told, on every route and in the console. */
export const ungroupedMessage = (id: string) =>
  `${id} is signed in but in neither the operators nor the viewers group: ask an administrator to add you to the operators or viewers group`;

/** The Hono environment of every API route: the caller, set by the auth middleware. */
export type ApiEnv = { Variables: { actor: Actor } };

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Local mode: the operator token, and optionally a read-only token for viewers. */
export function bearerTokenAuth(tokens: { operator: string; viewer?: string | undefined }): Authenticator {
  const operator = digest(tokens.operator);
  const viewer = tokens.viewer ? digest(tokens.viewer) : undefined;
  return (c) => {
    const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(c.req.header("authorization") ?? "");
    if (!match?.[1]) return undefined;
    // Hashes have equal lengths, so the comparison takes the same time whatever was sent.
    const given = digest(match[1]);
    if (timingSafeEqual(given, operator)) return { id: "local-operator", role: "operator" };
    if (viewer && timingSafeEqual(given, viewer)) return { id: "local-viewer", role: "viewer" };
    return undefined;
  };
}

const ClaimsEvent = z.object({
  requestContext: z.object({
    authorizer: z.object({
      jwt: z.object({ claims: z.record(z.string(), z.unknown()) }),
    }),
  }),
});

/**
 * Cognito groups as an HTTP API JWT authorizer passes them: API Gateway flattens the array into a
 * string such as "[operators viewers]"; a JSON array text or a real array when the event comes from
 * elsewhere. Cognito group names cannot hold whitespace but may hold commas and brackets, so the
 * flattened form splits on whitespace only: "[operators,viewers]" is one group of that name.
 */
export function groupsOf(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((g): g is string => typeof g === "string");
  if (typeof claim !== "string") return [];
  const trimmed = claim.trim();
  if (trimmed.startsWith('["')) {
    try {
      return z.array(z.string()).parse(JSON.parse(trimmed));
    } catch {
      return [];
    }
  }
  const inner = trimmed.startsWith("[") && trimmed.endsWith("]") ? trimmed.slice(1, -1) : trimmed;
  return inner.split(/\s+/).filter(Boolean);
}

/** The role of exactly these group names; `null` for neither (operators wins when in both). */
export function roleOf(groups: readonly string[]): Actor["role"] | null {
  if (groups.includes("operators")) return "operator";
  if (groups.includes("viewers")) return "viewer";
  return null;
}

/** AWS: the claims API Gateway's authorizer verified. No claims (no authorizer ran) means no one. */
export function lambdaJwtClaimsAuth(): Authenticator {
  return (c) => {
    const env: unknown = c.env;
    const parsed = ClaimsEvent.safeParse((env as { event?: unknown } | undefined)?.event);
    if (!parsed.success) return undefined;
    const claims = parsed.data.requestContext.authorizer.jwt.claims;
    const name = [claims["cognito:username"], claims.username, claims.email, claims.sub].find(
      (v): v is string => typeof v === "string" && v.length > 0,
    );
    if (!name) return undefined;
    return { id: name.slice(0, 256), role: roleOf(groupsOf(claims["cognito:groups"])) };
  };
}
