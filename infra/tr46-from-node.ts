// What the Lambda bundles use in place of the `tr46` package (infra/function-bundle.ts aliases it).
// whatwg-url, which mongodb-connection-string-url parses hosts with, calls tr46's toASCII for UTS #46
// domain processing: 231 KiB of Unicode tables, a quarter of the API's cold-start code. Node's own
// URL implements the same WHATWG "domain to ASCII" (UTS #46, non-transitional, CheckBidi and
// CheckJoiners on, no STD3 rules: the options whatwg-url passes), and url.domainToASCII exposes it.
// test/unit/tr46-from-node.test.ts checks the two agree, on ASCII, IDN, punycode and invalid hosts.
import { domainToASCII, domainToUnicode } from "node:url";

/** tr46.toASCII as whatwg-url calls it: the ASCII domain, or null when it is invalid. */
export function toASCII(domain: string): string | null {
  const ascii = domainToASCII(domain);
  return ascii === "" ? null : ascii;
}

/** tr46.toUnicode's shape; whatwg-url's host parsing does not call it. */
export function toUnicode(domain: string): { domain: string; error: boolean } {
  const unicode = domainToUnicode(domain);
  return { domain: unicode, error: unicode === "" && domain !== "" };
}
