// The console's Content-Security-Policy, one text for its three hosts: CloudFront (infra), local
// mode (console-assets.ts) and the tests' stand-in for CloudFront. The console loads only its own
// files and talks to (and submits to) its own origin plus `connectTo`: on AWS exactly its API, the
// Cognito hosted UI and the user pool's issuer, from the console's configuration; in local mode
// nothing else ('self' only: the API is on the same origin). Only exact origins are accepted, never a
// scheme (`https:`) or a wildcard, which would let a script injected into the page send what it
// reads anywhere. No imports: the CDK app reads it too.

/** `https://host[:port]` or `http://...` (loopback tests), optionally a path; CDK tokens pass as text. */
const EXACT_ORIGIN = /^https?:\/\/[^\s;,'*/]+(\/[^\s;,'*]*)?$/;

export function consoleContentSecurityPolicy(connectTo: readonly string[] = []): string {
  for (const origin of connectTo) {
    if (!EXACT_ORIGIN.test(origin)) {
      throw new Error(
        `the console's CSP takes exact origins only (https://host), got ${JSON.stringify(origin)}`,
      );
    }
  }
  const others = connectTo.map((origin) => ` ${origin}`).join("");
  return [
    "default-src 'self'",
    `connect-src 'self'${others}`,
    "img-src 'self' data:",
    "style-src 'self' 'unsafe-inline'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    `form-action 'self'${others}`,
  ].join("; ");
}
