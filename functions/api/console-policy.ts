// The console's Content-Security-Policy, one text for its three hosts: CloudFront (infra), local
// mode (console-assets.ts) and the tests' stand-in for CloudFront. The console loads only its own
// files and talks to its own origin plus `connectTo` (the API and Cognito when they live elsewhere).
// No imports: the CDK app reads it too.
export function consoleContentSecurityPolicy(connectTo: readonly string[] = []): string {
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
