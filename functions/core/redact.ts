// Redaction of credentials from any text that may reach a log line, an error or a record.
//
// Token boundaries: a password is removed where it stands as a whole token, i.e. where it does not
// continue a longer word. A "word" character is a Unicode letter or digit, `_` or `-`; everything else
// (spaces, quotes, `.`, `,`, `:`, `@`, `/`, `=`, `%`, brackets, the start and end of the text) is a
// boundary. So the password `prod` is removed from `password prod.` and `"prod"` but leaves
// `production` and `prod-eu` alone. The check applies only on a side where the password itself
// starts (or ends) with a word character: `@x1` is still found in `ab@x1`. URI credentials
// (`mongodb://user:secret@`) are removed whole, whatever the password.

const uriCredentials = /(mongodb(?:\+srv)?:\/\/)([^:@/\s]*):([^@\s]*)@/gi;
const wordChar = /[\p{L}\p{N}_-]/u;

/** Replaces the password part of any mongodb:// or mongodb+srv:// URI in `text` with ****. */
export function redactUris(text: string): string {
  return text.replace(uriCredentials, "$1$2:****@");
}

// The syntax characters only: under the `u` flag escaping anything else (such as `-`) is an error.
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** A pattern matching `secret` where it is a whole token (see the boundaries above). */
function wholeToken(secret: string): RegExp {
  const chars = [...secret];
  const before = wordChar.test(chars[0] ?? "") ? "(?<![\\p{L}\\p{N}_-])" : "";
  const after = wordChar.test(chars.at(-1) ?? "") ? "(?![\\p{L}\\p{N}_-])" : "";
  return new RegExp(`${before}${escapeRegExp(secret)}${after}`, "gu");
}

/**
 * Removes URI passwords and every whole-token occurrence of the given secrets, raw and URI-encoded.
 * Secrets shorter than 4 characters are still removed: a short password is still a password.
 */
export function redact(text: string, secrets: Iterable<string | undefined> = []): string {
  let out = redactUris(text);
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
  }
  // Longest first: a password that contains another one is removed whole.
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    out = out.replace(wholeToken(form), "****");
  }
  return out;
}
