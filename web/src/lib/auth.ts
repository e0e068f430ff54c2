// Sign-in. Local mode: the token `npm start` printed, from the URL fragment (`/#token=...`, never
// sent to a server) or typed into the sign-in form, kept in session storage for this tab only.
// AWS: Cognito's hosted UI by authorization code with PKCE (oidc-client-ts), refreshed silently
// with the refresh token, and Cognito's own logout endpoint on sign-out.
import { type User, UserManager, WebStorageStateStore } from "oidc-client-ts";
import { type CognitoConfig, cognitoSettings } from "./config.ts";
import type { Session } from "./session.ts";

export type { Session };

const TOKEN_KEY = "mbm-token";

/** Moves a `#token=...` fragment into session storage and removes it from the address bar. */
export function takeTokenFromFragment(location: Location, storage: Storage, history: History): void {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get("token");
  if (!token) return;
  storage.setItem(TOKEN_KEY, token);
  history.replaceState(history.state, "", location.pathname + location.search);
}

export class LocalSession implements Session {
  readonly mode = "local" as const;
  async token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }
  /** Keeps a token typed into the form. */
  remember(token: string) {
    sessionStorage.setItem(TOKEN_KEY, token.trim());
  }
  async signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
  }
}

export class CognitoSession implements Session {
  readonly mode = "cognito" as const;
  readonly #manager: UserManager;
  readonly #config: CognitoConfig;
  #refreshing: Promise<User | null> | null = null;

  constructor(config: CognitoConfig, origin = location.origin) {
    this.#config = config;
    this.#manager = new UserManager({
      ...cognitoSettings(config, origin),
      // Tokens, and the PKCE verifier and state of a sign-in under way, stay in this tab only.
      userStore: new WebStorageStateStore({ store: sessionStorage }),
      stateStore: new WebStorageStateStore({ store: sessionStorage }),
    });
  }

  /** Completes a redirect back from the hosted UI (`?code=&state=`), then tidies the address bar. */
  async completeSignIn(): Promise<void> {
    const params = new URLSearchParams(location.search);
    if (!params.has("state") || !(params.has("code") || params.has("error"))) return;
    try {
      await this.#manager.signinRedirectCallback();
    } finally {
      history.replaceState(null, "", location.pathname);
    }
  }

  async token() {
    let user = await this.#manager.getUser();
    if (user?.expired) {
      // A page starts several API calls at once: they share one refresh rather than each spending
      // the refresh token (with rotation on, every refresh after the first would be refused).
      this.#refreshing ??= this.#manager
        .signinSilent()
        .catch(() => null)
        .finally(() => {
          this.#refreshing = null;
        });
      user = await this.#refreshing;
    }
    if (!user || user.expired) return null;
    return user.access_token;
  }

  signIn(): Promise<void> {
    return this.#manager.signinRedirect();
  }

  async signOut() {
    await this.#manager.removeUser();
    // Cognito's logout endpoint is not OIDC's end_session: it takes client_id and logout_uri, once
    // each. (oidc-client-ts's signoutRedirect would add its own client_id, post_logout_redirect_uri
    // and state, and keep that state in localStorage for a reply Cognito never sends.)
    const query = new URLSearchParams({
      client_id: this.#config.clientId,
      logout_uri: `${location.origin}/`,
    });
    location.assign(`${this.#config.cognitoDomain}/logout?${query}`);
  }
}
