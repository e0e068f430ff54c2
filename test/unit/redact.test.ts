// Redaction keeps text readable: URI credentials go, and a password goes where it is a whole token,
// never from inside a longer word (a password "prod" must not turn "production" into "****uction").
import { describe, expect, it } from "vitest";
import { redact } from "#core/redact.ts";

describe("redact: whole tokens only", () => {
  it("a short password that is part of a database name leaves the name alone", () => {
    const text = "database production (prod-eu, prod_old, reprod) failed: password prod rejected for 'prod'.";
    expect(redact(text, ["prod"])).toBe(
      "database production (prod-eu, prod_old, reprod) failed: password **** rejected for '****'.",
    );
  });

  it("a long password goes wherever it stands as a token, its URI-encoded form too", () => {
    const secret = "c0rrect horse/battery:staple";
    const encoded = encodeURIComponent(secret);
    const text = `auth failed (${secret}); uri had ${encoded}, "${secret}" at end ${secret}`;
    expect(redact(text, [secret])).toBe('auth failed (****); uri had ****, "****" at end ****');
  });

  it("URI credentials go whole, whatever the password", () => {
    expect(redact("dial mongodb://backup:prod@prod.example.com:27017/production failed", ["prod"])).toBe(
      "dial mongodb://backup:****@****.example.com:27017/production failed",
    );
    expect(redact("mongodb+srv://u:p%2Fw%3Ax@c0.example.net/x", [])).toBe(
      "mongodb+srv://u:****@c0.example.net/x",
    );
  });

  it("a password that starts or ends with punctuation is found next to a word", () => {
    expect(redact("got ab@x1 and x1 and @x1z", ["@x1"])).toBe("got ab**** and x1 and @x1z");
    expect(redact("pw=s3cret!, s3cret!x", ["s3cret!"])).toBe("pw=****, ****x");
  });

  it("non-ASCII letters count as word characters; regex characters in a password are literal", () => {
    expect(redact("pässe and pass", ["pass"])).toBe("pässe and ****");
    expect(redact("a.b+c and aXb+c", ["a.b+c"])).toBe("**** and aXb+c");
  });

  it("a password containing another secret is removed whole; empty secrets change nothing", () => {
    expect(redact("x longpass-word y", ["pass", "longpass-word"])).toBe("x **** y");
    expect(redact("nothing here", [undefined, ""])).toBe("nothing here");
  });
});
