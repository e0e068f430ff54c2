// Structured JSON logs (pino). Every string that reaches a line goes through URI redaction, and any
// field named like a credential is censored, so a careless log call cannot print a password.
import { pino } from "pino";
import { redactUris } from "#core/redact.ts";
import { logLevel } from "./config.ts";

export type Logger = pino.Logger;

const credentialPaths = [
  "password",
  "*.password",
  "secret",
  "*.secret",
  "connection_string",
  "*.connection_string",
  "authorization",
  "*.authorization",
];

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactUris(value);
  if (value === null || typeof value !== "object") return value;
  // Past this depth nothing is kept rather than something unredacted.
  if (depth > 8) return "[nested too deep]";
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) {
    // Error fields are not enumerable: spell out what a reader needs, redacted like the rest.
    const extra = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, depth + 1)]));
    return {
      ...extra,
      type: value.name,
      message: redactUris(value.message),
      ...(value.stack ? { stack: redactUris(value.stack) } : {}),
      ...(value.cause !== undefined ? { cause: scrub(value.cause, depth + 1) } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, depth + 1)]));
}

export function createLogger(
  name: string,
  options: { level?: string; destination?: pino.DestinationStream } = {},
) {
  return pino(
    {
      name,
      level: options.level ?? logLevel(),
      redact: { paths: credentialPaths, censor: "****" },
      // Errors are turned into plain, redacted objects by `scrub`; pino's own serializer would
      // then see a plain object and lose the type.
      serializers: { err: (value: unknown) => value },
      formatters: { log: (object) => scrub(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            // Scrubbed before pino sees them: given `{ err }` and no message, pino logs err.message raw.
            args.map((a) => scrub(a)) as Parameters<typeof method>,
          );
        },
      },
    },
    options.destination ?? pino.destination(1),
  );
}
