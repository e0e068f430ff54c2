// What every resource router shares: the Hono environment, the validation hook, OpenAPI fragments
// for bodies, replies and errors, and the reply shape of a list.
import { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { Id } from "#core/entities.ts";
import type { DownloadLinker } from "#core/ports.ts";
import type { CoreDeps } from "#core/use-cases/deps.ts";
import type { HealthProbe } from "#core/views.ts";
import type { Logger } from "#functions/logger.ts";
import type { ApiEnv, Authenticator } from "../auth.ts";

export type { ApiEnv } from "../auth.ts";

import { ErrorBody, validationHook } from "../errors.ts";

export interface ApiDeps extends CoreDeps {
  authenticate: Authenticator;
  downloads: DownloadLinker;
  /** Extra health checks of this deployment (local mode: the mongo tools). */
  healthProbes?: Record<string, HealthProbe>;
  log: Logger;
}

export function router() {
  return new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
}

export const IdParam = z.object({ id: Id });

export function jsonBody<T extends z.ZodType>(schema: T, required = true) {
  return { content: { "application/json": { schema } }, required };
}

export function reply<T extends z.ZodType>(schema: T, description: string) {
  return { content: { "application/json": { schema } }, description };
}

const error = (description: string) => reply(ErrorBody, description);

/** The error replies any route may give; each route adds its success replies. */
export const errors = {
  400: error("Malformed request: the body is not JSON"),
  401: error("No valid credentials"),
  403: error("Signed in, but in neither group, or a viewer asking to change something"),
  404: error("No such resource"),
  409: error("Conflicts with the current state"),
  413: error("Body larger than allowed"),
  415: error("The body is not application/json"),
  422: error("Valid JSON, invalid values: `details` names each field"),
} as const;

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() });
}

export const Deleted = z.object({ deleted: Id });

/** A query's page parameters as the store takes them. */
export function pageRequest(q: { limit: number; cursor?: string | undefined }) {
  return { limit: q.limit, cursor: q.cursor };
}

/** For routes that connect to a MongoDB server. */
export const unreachable = {
  502: error("Could not reach the MongoDB server: `details.kind` says how"),
} as const;
