// The console's runtime settings, read from `/config.json` next to the page: local mode serves
// `{ "mode": "local" }`; the CDK deployment writes the API URL and the Cognito settings.
export interface LocalConfig {
  mode: "local";
  apiUrl: string;
}

export interface CognitoConfig {
  mode: "cognito";
  apiUrl: string;
  region: string;
  userPoolId: string;
  clientId: string;
  /** The hosted UI's base URL, e.g. https://mbm-123-eu-west-1.auth.eu-west-1.amazoncognito.com */
  cognitoDomain: string;
  /**
   * A custom or test identity provider's issuer, used as the OIDC authority; defaults to the user
   * pool's issuer (the CDK does not write it).
   */
  issuer?: string;
}

export type RuntimeConfig = LocalConfig | CognitoConfig;

const text = (value: unknown, field: string): string => {
  if (typeof value !== "string" || value.length === 0) throw new Error(`config.json: ${field} is missing`);
  return value;
};

/** Parses config.json. The deployment's file has no `mode`: a user pool means Cognito sign-in. */
export function parseConfig(raw: unknown): RuntimeConfig {
  if (typeof raw !== "object" || raw === null) throw new Error("config.json is not a JSON object");
  const c = raw as Record<string, unknown>;
  const apiUrl = typeof c.apiUrl === "string" ? c.apiUrl.replace(/\/+$/, "") : "";
  if (c.mode === "local" || c.userPoolId === undefined) return { mode: "local", apiUrl };
  return {
    mode: "cognito",
    apiUrl: text(apiUrl, "apiUrl"),
    region: text(c.region, "region"),
    userPoolId: text(c.userPoolId, "userPoolId"),
    clientId: text(c.clientId, "clientId"),
    cognitoDomain: text(c.cognitoDomain, "cognitoDomain").replace(/\/+$/, ""),
    // Kept exactly as given: an issuer is compared character for character, trailing slash included.
    ...(c.issuer === undefined ? {} : { issuer: text(c.issuer, "issuer") }),
  };
}

export async function loadConfig(): Promise<RuntimeConfig> {
  const response = await fetch("/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json could not be read (HTTP ${response.status})`);
  return parseConfig(await response.json());
}

/** oidc-client-ts settings for a Cognito user pool (or `issuer`) and its hosted UI (pure, tested). */
export function cognitoSettings(config: CognitoConfig, origin: string) {
  return {
    authority: config.issuer ?? `https://cognito-idp.${config.region}.amazonaws.com/${config.userPoolId}`,
    client_id: config.clientId,
    // The app client lists `<console>/` as its only callback and logout URL.
    redirect_uri: `${origin}/`,
    response_type: "code",
    scope: "openid email profile",
    automaticSilentRenew: true,
    loadUserInfo: false,
  };
}
