// Redaction of credentials from any text that may reach a log line, an error or a record.

const uriCredentials = /(mongodb(?:\+srv)?:\/\/)([^:@/\s]*):([^@/\s]*)@/gi;

/** Replaces the password part of any mongodb:// or mongodb+srv:// URI in `text` with ****. */
export function redactUris(text: string): string {
  return text.replace(uriCredentials, "$1$2:****@");
}

/**
 * Removes URI passwords and every literal occurrence of the given secrets (raw and URI-encoded).
 * Secrets shorter than 4 characters are still removed: a short password is still a password.
 */
export function redact(text: string, secrets: Iterable<string | undefined> = []): string {
  let out = redactUris(text);
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      out = out.split(form).join("****");
    }
  }
  return out;
}
