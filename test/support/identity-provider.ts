// A real, certified OpenID provider (oidc-provider) in place of a Cognito user pool and its hosted
// UI, for the console's sign-in test. It is set up as infra/app-stack.ts sets Cognito up: one public
// app client (no secret, PKCE), the authorization code and refresh token grants, the console's URL
// as its only callback and logout URL, scopes "openid email profile", refresh tokens without asking
// for offline_access, not rotated (Cognito's default), JWT access tokens whose claims look like
// Cognito's (username, cognito:groups, token_use, client_id) and a Cognito-style `/logout`
// endpoint. Its own sign-in pages are minimal and load nothing from elsewhere.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { exportJWK, generateKeyPair } from "jose";
import { type InteractionDetails, Provider } from "oidc-provider";
import type { LoopbackServer } from "./loopback-server.ts";

export interface IdentityProviderOptions {
  /** The console's origin: its `/` is the client's redirect and logout URL, and CORS allows it. */
  consoleOrigin: string;
  clientId?: string;
  /** Access (and ID) token lifetime. */
  accessTokenTtlSeconds?: number;
  /** Cognito groups by user name; any other name signs in too, in no group. */
  groups?: Record<string, string[]>;
}

export interface TokenGrant {
  grantType: string;
  accessToken: string;
  /** Date.now() when it was issued. */
  at: number;
}

export interface TestIdentityProvider {
  issuer: string;
  clientId: string;
  /** Every successful token endpoint call, in order. */
  grants: TokenGrant[];
  /** The query strings `/logout` was called with. */
  logouts: URLSearchParams[];
  /** Errors the provider reported or its pages hit; a test expects none. */
  errors: string[];
}

/** The resource the access tokens are for; their audience is the client id, as API Gateway wants. */
const apiResource = "urn:mongo-backup-manager:api";
const scopes = "openid email profile";

export async function startIdentityProvider(
  listening: LoopbackServer,
  options: IdentityProviderOptions,
): Promise<TestIdentityProvider> {
  const issuer = listening.origin;
  const clientId = options.clientId ?? "console-test-client";
  const ttl = options.accessTokenTtlSeconds ?? 65;
  const consoleUrl = `${options.consoleOrigin}/`;
  const groupsOf = (user: string) => options.groups?.[user] ?? [];
  const grants: TokenGrant[] = [];
  const logouts: URLSearchParams[] = [];
  const errors: string[] = [];

  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: "test-signing-key", alg: "RS256", use: "sig" };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        redirect_uris: [consoleUrl],
        post_logout_redirect_uris: [consoleUrl],
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    responseTypes: ["code"],
    pkce: { required: () => true },
    // What Cognito puts in its ID token.
    claims: {
      openid: ["sub", "cognito:username", "cognito:groups"],
      email: ["email", "email_verified"],
      profile: ["name"],
    },
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({
        sub,
        "cognito:username": sub,
        "cognito:groups": groupsOf(sub),
        email: sub.includes("@") ? sub : `${sub}@example.com`,
        email_verified: true,
      }),
    }),
    // What Cognito puts in its access token besides iss, sub, exp, iat, jti, client_id and scope.
    extraTokenClaims: async (_ctx, token) =>
      token.kind === "AccessToken" && token.accountId
        ? { username: token.accountId, "cognito:groups": groupsOf(token.accountId), token_use: "access" }
        : undefined,
    // Cognito issues a refresh token with every code exchange, offline_access or not, and does not
    // rotate it (rotation is off on the CDK's app client); nor does ending the hosted UI's session
    // end it.
    issueRefreshToken: async () => true,
    rotateRefreshToken: false,
    expiresWithSession: async () => false,
    clientBasedCORS: (_ctx, origin) => origin === options.consoleOrigin,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      AccessToken: ttl,
      IdToken: ttl,
      AuthorizationCode: 60,
      Interaction: 600,
      Grant: 3600,
      RefreshToken: 3600,
      Session: 3600,
    },
    renderError: (ctx, out) => {
      errors.push(`error page: ${JSON.stringify(out)}`);
      ctx.type = "html";
      ctx.body = page("Sign-in error", `<p role="alert">${escapeHtml(JSON.stringify(out))}</p>`);
    },
    features: {
      devInteractions: { enabled: false },
      // Kept on so the client may list its logout URL; the console uses `/logout` below instead,
      // as it does with Cognito (whose discovery document has no end_session_endpoint).
      rpInitiatedLogout: { enabled: true },
      // Access tokens as JWTs for the API (RFC 8707 resource indicators, RFC 9068 JWT profile),
      // the resource applied by default since the console, like any Cognito client, names none.
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => apiResource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator) => {
          if (indicator !== apiResource) throw new Error(`unknown resource ${indicator}`);
          return {
            scope: scopes,
            audience: clientId,
            accessTokenFormat: "jwt",
            accessTokenTTL: ttl,
            jwt: { sign: { alg: "RS256" } },
          };
        },
      },
    },
  });

  provider.on("grant.success", (ctx) => {
    const grantType = ctx.oidc?.params?.grant_type;
    const body = ctx.body as { access_token?: unknown } | undefined;
    if (typeof grantType === "string" && typeof body?.access_token === "string") {
      grants.push({ grantType, accessToken: body.access_token, at: Date.now() });
    }
  });
  for (const event of [
    "server_error",
    "authorization.error",
    "grant.error",
    "discovery.error",
    "jwks.error",
    "userinfo.error",
    "end_session.error",
  ]) {
    provider.on(event, (_ctx, error) => errors.push(`${event}: ${error?.message ?? "unknown"}`));
  }

  const interactions = new Interactions(provider);
  const logout = async (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => {
    logouts.push(query);
    // Cognito's logout endpoint: client_id and logout_uri (once each), the URI one of the app
    // client's sign-out URLs; it ends the hosted UI's session and redirects there.
    const ids = query.getAll("client_id");
    const uris = query.getAll("logout_uri");
    const client = ids.length === 1 && ids[0] ? await provider.Client.find(ids[0]) : undefined;
    const uri = uris.length === 1 ? uris[0] : undefined;
    if (!client || !uri || !client.postLogoutRedirectUriAllowed(uri)) {
      errors.push(`refused /logout?${query}`);
      return send(res, 400, page("Sign-out error", '<p role="alert">Invalid logout request.</p>'));
    }
    const session = await provider.Session.get({ req, res });
    if (session.accountId) await session.destroy();
    provider
      .createContext(req, res)
      .cookies.set(provider.cookieName("session"), null, { httpOnly: true, sameSite: "lax" });
    res.writeHead(302, { location: uri, "cache-control": "no-store" }).end();
  };

  const oidc = provider.callback();
  listening.handle((req, res) => {
    const url = new URL(req.url ?? "/", issuer);
    const uid = /^\/interaction\/([\w-]+)$/.exec(url.pathname)?.[1];
    let handled: Promise<void> | undefined;
    if (uid && req.method === "GET") handled = interactions.show(req, res);
    else if (uid && req.method === "POST") handled = interactions.submit(req, res);
    else if (url.pathname === "/logout" && req.method === "GET") handled = logout(req, res, url.searchParams);
    if (!handled) return oidc(req, res);
    handled.catch((error: unknown) => {
      errors.push(`${req.method} ${url.pathname}: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent)
        send(res, 500, page("Sign-in error", '<p role="alert">Something went wrong.</p>'));
    });
  });
  return { issuer, clientId, grants, logouts, errors };
}

/** The provider's sign-in and consent pages, as devInteractions does them, without its web font. */
class Interactions {
  readonly #provider: Provider;
  constructor(provider: Provider) {
    this.#provider = provider;
  }

  async show(req: IncomingMessage, res: ServerResponse, problem?: string): Promise<void> {
    const details = await this.#provider.interactionDetails(req, res);
    const action = `/interaction/${encodeURIComponent(details.uid)}`;
    const alert = problem ? `<p role="alert">${escapeHtml(problem)}</p>` : "";
    if (details.prompt.name === "login") {
      return send(
        res,
        problem ? 400 : 200,
        page(
          "Test identity provider",
          `${alert}<form method="post" action="${action}">
  <input type="hidden" name="prompt" value="login">
  <p><label for="login">Username</label> <input id="login" name="login" autocomplete="username" required autofocus></p>
  <p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password"></p>
  <button type="submit">Sign in</button>
</form>`,
        ),
      );
    }
    const requested = String(details.params.scope ?? "")
      .split(" ")
      .filter(Boolean)
      .map((scope) => `<li>${escapeHtml(scope)}</li>`)
      .join("");
    return send(
      res,
      200,
      page(
        "Allow access",
        `<p>${escapeHtml(String(details.params.client_id))} asks for:</p><ul>${requested}</ul>
<form method="post" action="${action}">
  <input type="hidden" name="prompt" value="consent">
  <button type="submit">Allow</button>
</form>`,
      ),
    );
  }

  async submit(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const details = await this.#provider.interactionDetails(req, res);
    if (form.get("prompt") !== details.prompt.name) throw new Error("the form is not for this step");
    if (details.prompt.name === "login") {
      const login = form.get("login")?.trim() ?? "";
      if (!login) return this.show(req, res, "Enter a user name.");
      return this.#provider.interactionFinished(
        req,
        res,
        { login: { accountId: login } },
        { mergeWithLastSubmission: false },
      );
    }
    const grantId = await this.#grant(details);
    return this.#provider.interactionFinished(req, res, { consent: { grantId } });
  }

  /** Grants what the consent prompt found missing (as devInteractions does). */
  async #grant(details: InteractionDetails): Promise<string> {
    const accountId = details.session?.accountId;
    const clientId = details.params.client_id;
    if (!accountId || typeof clientId !== "string") throw new Error("consent without a signed-in user");
    const grant =
      (details.grantId ? await this.#provider.Grant.find(details.grantId) : undefined) ??
      new this.#provider.Grant({ accountId, clientId });
    const missing = details.prompt.details;
    const oidcScopes = strings(missing.missingOIDCScope);
    if (oidcScopes.length > 0) grant.addOIDCScope(oidcScopes.join(" "));
    const claims = strings(missing.missingOIDCClaims);
    if (claims.length > 0) grant.addOIDCClaims(claims);
    const resourceScopes = missing.missingResourceScopes;
    if (typeof resourceScopes === "object" && resourceScopes !== null) {
      for (const [resource, scope] of Object.entries(resourceScopes)) {
        grant.addResourceScope(resource, strings(scope).join(" "));
      }
    }
    return grant.save();
  }
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, html: string): void {
  res
    .writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
    .end(html);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,"></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}
