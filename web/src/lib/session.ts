// What the API client needs of a sign-in (auth.ts has the two kinds). Kept out of auth.ts, which
// reaches for the browser's location and history, so the client also type-checks and runs in Node.
import type { RuntimeConfig } from "./config.ts";

export interface Session {
  readonly mode: RuntimeConfig["mode"];
  /** The bearer token for the API, or null when signed out. Refreshes it first when needed. */
  token(): Promise<string | null>;
  signOut(): Promise<void>;
}
