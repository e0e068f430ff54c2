// Error classes of the domain. Adapters translate their SDK errors into these; the API (issue 3)
// maps them to HTTP statuses in one place. Messages must never carry a secret.

export class DomainError extends Error {
  override name = "DomainError";
}

/** The entity does not exist (HTTP 404). */
export class NotFoundError extends DomainError {
  override name = "NotFoundError";
  readonly entity: string;
  readonly id: string;
  /** `hint` says what to do about it, e.g. "run a sync first". */
  constructor(entity: string, id: string, options?: ErrorOptions & { hint?: string }) {
    super(`${entity} ${id} not found${options?.hint ? `: ${options.hint}` : ""}`, options);
    this.entity = entity;
    this.id = id;
  }
}

/** The change conflicts with the current state: lost a conditional write, already exists (HTTP 409). */
export class ConflictError extends DomainError {
  override name = "ConflictError";
}

/**
 * The server has a username but no stored password (e.g. it was deleted when the server's endpoint
 * changed): nothing connects until a password is given again. A 409, not a 422: the request is
 * fine, the server's state is what stands in the way, and a PUT with the password resolves it.
 */
export class PasswordNeededError extends ConflictError {
  override name = "PasswordNeededError";
  constructor(serverId: string) {
    super(
      `password needed: server ${serverId} has a username but no stored password; give the server its password again`,
    );
  }
}

/** Signed in, but not allowed to do this (HTTP 403). */
export class ForbiddenError extends DomainError {
  override name = "ForbiddenError";
}

/** Valid syntax, invalid values (HTTP 422); `field` names what is wrong. */
export class ValidationError extends DomainError {
  override name = "ValidationError";
  readonly field: string;
  /** The message without the field, for places that show the field apart. */
  readonly reason: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.field = field;
    this.reason = message;
  }
}

/**
 * Where the data lives cannot take the request now: a full disk, a read-only or vanished data
 * directory, a damaged database (HTTP 503). The message names the place and the cause, never data.
 */
export class StorageUnavailableError extends DomainError {
  override name = "StorageUnavailableError";
}

/** The message of anything thrown, cut to `max` characters: for records, audit entries and health. */
export function errorMessage(error: unknown, max = 500): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > max ? text.slice(0, max) : text;
}
