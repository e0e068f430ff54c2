// The API client: JSON over fetch with the session's bearer token. Every failure becomes an
// ApiError carrying the API's message and its per-field details, so forms can show them in place.
import type { Operations } from "./api-types.gen.ts";
import type { Session } from "./session.ts";

export interface FieldIssue {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** The 422 details as field -> message (first message per field). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    if (!Array.isArray(this.details)) return out;
    for (const item of this.details as unknown[]) {
      const issue = item as Partial<FieldIssue>;
      if (typeof issue.field === "string" && typeof issue.message === "string") {
        out[issue.field] ??= issue.message;
      }
    }
    return out;
  }
}

/**
 * The console's calls, typed from the API's OpenAPI document (scripts/api-types.ts generates
 * api-types.gen.ts from it; `npm run typecheck` runs it first). A call names the documented path,
 * e.g. `api.get("/api/servers/{id}", { params: { id } })`, so a renamed route or field fails `tsc`.
 */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** The documented paths that answer `method`. */
export type PathOf<M extends Method> = {
  [K in keyof Operations]: K extends `${M} ${infer P}` ? P : never;
}[keyof Operations];

type OperationOf<M extends Method, P extends PathOf<M>> = Operations[`${M} ${P}` & keyof Operations];

/** What a successful call of `METHOD path` answers, as the document says. */
export type Reply<M extends Method, P extends PathOf<M>> = OperationOf<M, P>["reply"];
/** The JSON body `METHOD path` takes. */
export type Body<M extends Method, P extends PathOf<M>> = Exclude<OperationOf<M, P>["body"], undefined>;

interface AnyOperation {
  params: object;
  query: object;
  body: unknown;
}
/** A query value that is null, undefined or "" is left out, so a form's empty filter sends nothing. */
type QueryOf<O extends AnyOperation> = { [K in keyof O["query"]]?: O["query"][K] | "" | null | undefined };
type OptionsOf<O extends AnyOperation> = (object extends O["params"]
  ? { params?: O["params"] }
  : { params: O["params"] }) & { query?: QueryOf<O> } & (undefined extends O["body"]
    ? { body?: O["body"] }
    : { body: O["body"] });
/** The options argument, which may be left out when nothing in it is required. */
type ArgsOf<O extends AnyOperation> =
  object extends OptionsOf<O> ? [options?: OptionsOf<O>] : [options: OptionsOf<O>];

type QueryValue = string | number | boolean | undefined | null;
interface CallOptions {
  params?: Record<string, string>;
  query?: Record<string, QueryValue>;
  body?: unknown;
}

/** A list reply: one page and the cursor of the next. */
export type Page<T> = { items: T[]; next_cursor: string | null };

export class Api {
  readonly baseUrl: string;
  readonly session: Session;
  /** Called on a 401 so the app can return to sign-in. */
  readonly onUnauthenticated: () => void;
  constructor(baseUrl: string, session: Session, onUnauthenticated: () => void) {
    this.baseUrl = baseUrl;
    this.session = session;
    this.onUnauthenticated = onUnauthenticated;
  }

  /** The documented path with its `{name}` parameters filled in, and the query string. */
  url(path: string, options: CallOptions = {}): string {
    const filled = path.replace(/\{(\w+)\}/g, (_whole, name: string) => {
      const value = options.params?.[name];
      if (value === undefined) throw new Error(`${path}: no value for {${name}}`);
      return encodeURIComponent(value);
    });
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
    }
    const qs = search.toString();
    return `${this.baseUrl}${filled}${qs ? `?${qs}` : ""}`;
  }

  get<P extends PathOf<"GET">>(path: P, ...[options]: ArgsOf<OperationOf<"GET", P>>) {
    return this.request<Reply<"GET", P>>("GET", path, options as CallOptions | undefined);
  }
  /** POST sends `{}` when no body is given: the API's bodies are objects. */
  post<P extends PathOf<"POST">>(path: P, ...[options]: ArgsOf<OperationOf<"POST", P>>) {
    const call = (options ?? {}) as CallOptions;
    return this.request<Reply<"POST", P>>("POST", path, { ...call, body: call.body ?? {} });
  }
  put<P extends PathOf<"PUT">>(path: P, ...[options]: ArgsOf<OperationOf<"PUT", P>>) {
    return this.request<Reply<"PUT", P>>("PUT", path, options as CallOptions | undefined);
  }
  patch<P extends PathOf<"PATCH">>(path: P, ...[options]: ArgsOf<OperationOf<"PATCH", P>>) {
    return this.request<Reply<"PATCH", P>>("PATCH", path, options as CallOptions | undefined);
  }
  delete<P extends PathOf<"DELETE">>(path: P, ...[options]: ArgsOf<OperationOf<"DELETE", P>>) {
    return this.request<Reply<"DELETE", P>>("DELETE", path, options as CallOptions | undefined);
  }
  /** The OpenAPI document itself, which documents everything but itself. */
  openApiDocument() {
    return this.request<unknown>("GET", "/api/openapi.json");
  }

  private async request<T>(method: Method, path: string, options: CallOptions = {}): Promise<T> {
    const token = await this.session.token();
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const { body } = options;
    if (body !== undefined) headers["content-type"] = "application/json";
    const url = this.url(path, options);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, "network", `the API could not be reached (${(error as Error).message})`, null);
    }
    const text = await response.text();
    let json: unknown = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: string; message?: string; details?: unknown } } | null)
        ?.error;
      if (response.status === 401) this.onUnauthenticated();
      throw new ApiError(
        response.status,
        error?.code ?? "error",
        error?.message ?? `the API answered HTTP ${response.status}`,
        error?.details ?? null,
      );
    }
    return json as T;
  }
}

/** A readable line for any error thrown by a call. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
