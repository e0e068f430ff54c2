// The Lambda bundles swap tr46 for Node's own UTS #46 (infra/tr46-from-node.ts): the two must agree on
// every host whatwg-url hands over, with the options whatwg-url passes when not strict.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { toASCII } from "../../infra/tr46-from-node.ts";

// The tr46 that whatwg-url itself would load (the one the bundles leave out).
const fromWhatwgUrl = createRequire(createRequire(import.meta.url).resolve("whatwg-url"));
const tr46 = fromWhatwgUrl("tr46") as { toASCII(domain: string, options: object): string | null };

const whatwgOptions = {
  checkHyphens: false,
  checkBidi: true,
  checkJoiners: true,
  useSTD3ASCIIRules: false,
  transitionalProcessing: false,
  verifyDNSLength: false,
  ignoreInvalidPunycode: false,
};

const hosts = [
  "example.com",
  "EXAMPLE.Com",
  "mongo-0.mongo.svc.cluster.local",
  "cluster0.ab1cd.mongodb.net",
  "bücher.de",
  "xn--bcher-kva.de",
  "faß.de",
  "日本語.jp",
  "ＥＸＡＭＰＬＥ．com",
  "-leading-hyphen.com",
  "a..b",
  "xn--a.com",
  "xn--ls8h",
  "a\u200Db.com",
  "\u05D0\u0031.com",
  "ex_ample.com",
  "10.0.0.1",
  "a".repeat(70),
];

describe("tr46 from node:url", () => {
  it.each(hosts)("agrees with tr46 on %j", (host) => {
    const expected = tr46.toASCII(host, whatwgOptions);
    // whatwg-url treats null and "" alike (failure); the shim answers null for both.
    expect(toASCII(host)).toBe(expected === "" ? null : expected);
  });
});
