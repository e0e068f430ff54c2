import { describe, expect, it } from "vitest";
import { consoleContentSecurityPolicy } from "#functions/api/console-policy.ts";

const directive = (csp: string, name: string) =>
  csp
    .split("; ")
    .find((d) => d.startsWith(`${name} `))
    ?.slice(name.length + 1);

describe("the console's Content-Security-Policy", () => {
  it("local mode: the console connects and submits to its own origin only", () => {
    const csp = consoleContentSecurityPolicy();
    expect(directive(csp, "connect-src")).toBe("'self'");
    expect(directive(csp, "form-action")).toBe("'self'");
    expect(csp).not.toContain("https:");
  });

  it("AWS: exactly the API, the hosted UI and the issuer, in connect-src and form-action", () => {
    const origins = [
      "https://abc123.execute-api.eu-west-1.amazonaws.com",
      "https://mbm-1-eu-west-1.auth.eu-west-1.amazoncognito.com",
      "https://cognito-idp.eu-west-1.amazonaws.com",
    ];
    const csp = consoleContentSecurityPolicy(origins);
    expect(directive(csp, "connect-src")).toBe(`'self' ${origins.join(" ")}`);
    expect(directive(csp, "form-action")).toBe(`'self' ${origins.join(" ")}`);
    expect(directive(csp, "default-src")).toBe("'self'");
    expect(directive(csp, "frame-ancestors")).toBe("'none'");
  });

  it.each([
    ["https:"],
    ["*"],
    ["https://*.amazonaws.com"],
    ["https://a.example 'unsafe-eval'"],
    ["https://a.example; script-src *"],
    ["data:"],
  ])("refuses %s, which is not one exact origin", (value) => {
    expect(() => consoleContentSecurityPolicy([value])).toThrow(/exact origins only/);
  });
});
