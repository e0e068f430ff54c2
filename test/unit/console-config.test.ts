// The console's runtime config and its Cognito sign-in settings (pure logic of web/src/lib).
import { describe, expect, it } from "vitest";
import { cognitoSettings, parseConfig } from "../../web/src/lib/config.ts";

const deployed = {
  apiUrl: "https://abc.execute-api.eu-west-1.amazonaws.com/",
  region: "eu-west-1",
  userPoolId: "eu-west-1_AbC123",
  clientId: "client123",
  cognitoDomain: "https://mbm-1-eu-west-1.auth.eu-west-1.amazoncognito.com/",
};

describe("parseConfig", () => {
  it("reads local mode's config", () => {
    expect(parseConfig({ mode: "local", apiUrl: "" })).toEqual({ mode: "local", apiUrl: "" });
  });

  it("reads the CDK deployment's config (no mode: a user pool means Cognito), trimming slashes", () => {
    expect(parseConfig(deployed)).toEqual({
      mode: "cognito",
      apiUrl: "https://abc.execute-api.eu-west-1.amazonaws.com",
      region: "eu-west-1",
      userPoolId: "eu-west-1_AbC123",
      clientId: "client123",
      cognitoDomain: "https://mbm-1-eu-west-1.auth.eu-west-1.amazoncognito.com",
    });
  });

  it("keeps an optional issuer (a custom or test identity provider) exactly as given", () => {
    const withIssuer = parseConfig({ ...deployed, issuer: "http://127.0.0.1:4000" });
    expect(withIssuer).toMatchObject({ mode: "cognito", issuer: "http://127.0.0.1:4000" });
    expect(parseConfig({ ...deployed, issuer: "https://id.example.com/tenant/" })).toMatchObject({
      issuer: "https://id.example.com/tenant/",
    });
    // The CDK's config has none: no issuer key at all, so the pool's issuer applies.
    expect(parseConfig(deployed)).not.toHaveProperty("issuer");
    expect(() => parseConfig({ ...deployed, issuer: "" })).toThrow("config.json: issuer is missing");
    expect(() => parseConfig({ ...deployed, issuer: 42 })).toThrow("config.json: issuer is missing");
  });

  it("names the missing field of a broken deployment config", () => {
    expect(() => parseConfig({ ...deployed, clientId: "" })).toThrow("config.json: clientId is missing");
    expect(() => parseConfig("nope")).toThrow("not a JSON object");
  });
});

describe("cognitoSettings", () => {
  it("uses the pool's issuer, PKCE code flow, and the console's own URL", () => {
    const config = parseConfig(deployed);
    if (config.mode !== "cognito") throw new Error("expected cognito");
    const settings = cognitoSettings(config, "https://d111.cloudfront.net");
    expect(settings).toMatchObject({
      authority: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
      client_id: "client123",
      // The app client's only callback and logout URL (infra/app-stack.ts).
      redirect_uri: "https://d111.cloudfront.net/",
      response_type: "code",
      scope: "openid email profile",
      automaticSilentRenew: true,
    });
  });

  it("uses the configured issuer as the authority instead of the pool's, all else unchanged", () => {
    const config = parseConfig({ ...deployed, issuer: "http://127.0.0.1:4000" });
    if (config.mode !== "cognito") throw new Error("expected cognito");
    const settings = cognitoSettings(config, "http://127.0.0.1:5000");
    expect(settings).toMatchObject({
      authority: "http://127.0.0.1:4000",
      client_id: "client123",
      redirect_uri: "http://127.0.0.1:5000/",
    });
  });
});
