// The API client: JSON over fetch with the session's bearer token. Every failure becomes an
// ApiError carrying the API's message and its per-field details, so forms can show them in place.
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

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

type Query = Record<string, string | number | boolean | undefined | null>;

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

  url(path: string, query?: Query): string {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
    }
    const qs = search.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ""}`;
  }

  async request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const token = await this.session.token();
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(this.url(path, query), {
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

  get<T>(path: string, query?: Query) {
    return this.request<T>("GET", path, undefined, query);
  }
  post<T>(path: string, body: unknown = {}) {
    return this.request<T>("POST", path, body);
  }
  put<T>(path: string, body: unknown) {
    return this.request<T>("PUT", path, body);
  }
  patch<T>(path: string, body: unknown) {
    return this.request<T>("PATCH", path, body);
  }
  delete<T>(path: string) {
    return this.request<T>("DELETE", path);
  }
}

/** A readable line for any error thrown by a call. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
