// One mapping from errors to responses: `{ "error": { "code", "message", "details" } }`. Raw errors
// are never serialized; anything unexpected is logged (redacted) and answered as a plain 500.
import type { Hook } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  StorageUnavailableError,
  ValidationError,
} from "#core/errors.ts";
import { ConnectionFailedError } from "#core/ports.ts";
import type { Logger } from "#functions/logger.ts";
import type { ApiEnv } from "./auth.ts";

export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown(),
  }),
});

const codeOfStatus: Record<number, string> = {
  400: "malformed_request",
  401: "unauthenticated",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "invalid",
  429: "rate_limited",
  502: "connection_failed",
  503: "storage_unavailable",
};

export function errorResponse(
  c: Context,
  status: ContentfulStatusCode,
  message: string,
  details: unknown = null,
  code = codeOfStatus[status] ?? "error",
) {
  return c.json({ error: { code, message, details } }, status);
}

/** A field path as users write it: `concurrency.per_server`, `collections.2`. */
function fieldOf(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return [...issue.path, issue.keys[0] ?? ""].map(String).join(".");
  return issue.path.length > 0 ? issue.path.map(String).join(".") : "body";
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys")
    return `unknown field${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`;
  // zod's messages can quote the received value; keep them short whatever was sent.
  return issue.message.slice(0, 300);
}

/** zod-openapi's validation hook: a 422 naming every bad field (the first in the message). */
export const validationHook: Hook<unknown, ApiEnv, string, unknown> = (result, c) => {
  if (result.success) return;
  const details = result.error.issues.slice(0, 20).map((issue) => ({
    field: fieldOf(issue),
    message: issueMessage(issue),
  }));
  const first = details[0] ?? { field: "body", message: "invalid" };
  const where =
    result.target === "query" ? "query parameter " : result.target === "param" ? "path parameter " : "";
  return errorResponse(c, 422, `${where}${first.field}: ${first.message}`, details);
};

export function errorHandler(log: Logger) {
  return (error: Error, c: Context) => {
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      const message =
        status === 400 && /json/i.test(error.message)
          ? "the body is not valid JSON"
          : error.message || "bad request";
      return errorResponse(c, status, message);
    }
    if (error instanceof ValidationError) {
      return errorResponse(c, 422, error.message, [{ field: error.field, message: error.reason }]);
    }
    if (error instanceof NotFoundError) {
      return errorResponse(c, 404, error.message, { entity: error.entity, id: error.id });
    }
    if (error instanceof ConflictError) return errorResponse(c, 409, error.message);
    if (error instanceof ForbiddenError) return errorResponse(c, 403, error.message);
    if (error instanceof StorageUnavailableError) {
      log.error({ err: error, path: c.req.path }, "storage unavailable");
      return errorResponse(c, 503, error.message);
    }
    if (error instanceof ConnectionFailedError) {
      return errorResponse(c, 502, `could not reach the server: ${error.message}`, { kind: error.kind });
    }
    const requestId = crypto.randomUUID();
    log.error({ err: error, request_id: requestId, path: c.req.path }, "request failed");
    return errorResponse(
      c,
      500,
      `internal error (request ${requestId}); the server log has the details`,
      null,
      "internal",
    );
  };
}
