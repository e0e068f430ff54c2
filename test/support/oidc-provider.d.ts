// oidc-provider ships no TypeScript types: this declares only what test/support/identity-provider.ts
// uses (a subset of its documented configuration and Provider API), with unknown where we do not
// look inside.
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  export interface Jwk {
    kid?: string;
    alg?: string;
    use?: string;
    [parameter: string]: unknown;
  }

  export interface ClientMetadata {
    client_id: string;
    token_endpoint_auth_method?: string;
    grant_types?: string[];
    response_types?: string[];
    redirect_uris?: string[];
    post_logout_redirect_uris?: string[];
    [metadata: string]: unknown;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Record<string, unknown> | Promise<Record<string, unknown>>;
  }

  export interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenTTL?: number;
    accessTokenFormat?: "opaque" | "jwt";
    jwt?: { sign?: { alg?: string } };
  }

  /** The token being issued, as extraTokenClaims sees it. */
  export interface IssuedToken {
    kind: string;
    accountId?: string;
  }

  export interface Configuration {
    clients?: ClientMetadata[];
    jwks?: { keys: Jwk[] };
    cookies?: { keys?: string[] };
    claims?: Record<string, string[]>;
    conformIdTokenClaims?: boolean;
    findAccount?: (ctx: unknown, sub: string, token?: unknown) => Promise<Account | undefined>;
    extraTokenClaims?: (ctx: unknown, token: IssuedToken) => Promise<Record<string, unknown> | undefined>;
    clientBasedCORS?: (ctx: unknown, origin: string, client: unknown) => boolean;
    interactions?: { url?: (ctx: unknown, interaction: { uid: string }) => string | Promise<string> };
    issueRefreshToken?: (ctx: unknown, client: unknown, source: unknown) => Promise<boolean>;
    rotateRefreshToken?: boolean | ((ctx: unknown) => boolean);
    expiresWithSession?: (ctx: unknown, source: unknown) => Promise<boolean>;
    pkce?: { required?: (ctx: unknown, client: unknown) => boolean };
    responseTypes?: string[];
    ttl?: Record<string, number>;
    renderError?: (ctx: { type: string; body: unknown }, out: Record<string, unknown>, error: Error) => void;
    features?: {
      devInteractions?: { enabled: boolean };
      rpInitiatedLogout?: { enabled: boolean };
      resourceIndicators?: {
        enabled: boolean;
        defaultResource?: (
          ctx: unknown,
          client: unknown,
          oneOf?: string[],
        ) => Promise<string | string[] | undefined>;
        useGrantedResource?: (ctx: unknown, model: unknown) => Promise<boolean>;
        getResourceServerInfo?: (
          ctx: unknown,
          resourceIndicator: string,
          client: unknown,
        ) => Promise<ResourceServerInfo>;
      };
    };
  }

  export interface InteractionDetails {
    uid: string;
    prompt: { name: string; details: Record<string, unknown> };
    params: Record<string, unknown>;
    session?: { accountId: string };
    grantId?: string;
  }

  export interface InteractionResults {
    login?: { accountId: string };
    consent?: { grantId: string };
    error?: string;
    error_description?: string;
  }

  export interface Grant {
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface Client {
    clientId: string;
    postLogoutRedirectUriAllowed(uri: string): boolean;
  }

  export interface Session {
    accountId?: string;
    destroy(): Promise<void>;
  }

  /** The Koa context of an endpoint, as the events hand it over; only what the test reads. */
  export interface EventContext {
    oidc?: { params?: Record<string, unknown> };
    body?: unknown;
  }

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    /** A Node request listener (the Provider is a Koa application). */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (ctx: EventContext, error?: Error) => void): this;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    readonly Grant: {
      new (init: { accountId: string; clientId: string }): Grant;
      find(id: string): Promise<Grant | undefined>;
    };
    readonly Client: { find(id: string): Promise<Client | undefined> };
    readonly Session: { get(ctx: { req: IncomingMessage; res: ServerResponse }): Promise<Session> };
    createContext(
      req: IncomingMessage,
      res: ServerResponse,
    ): { cookies: { set(name: string, value: string | null, options?: Record<string, unknown>): void } };
    cookieName(type: "session" | "interaction" | "resume"): string;
  }

  export default Provider;
}
