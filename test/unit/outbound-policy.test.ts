// The outbound policy as a table: each address's class (IPv6 and the IPv4-carrying IPv6 forms
// included), what each purpose refuses, how the allowlist admits, and that metadata stays refused.
import { describe, expect, it } from "vitest";
import {
  Allowlist,
  checkAddress,
  checkResolved,
  classifyAddress,
  OutboundRefusedError,
  parseCidr,
} from "#core/outbound-policy.ts";

const classes: Array<[string, ReturnType<typeof classifyAddress>]> = [
  ["169.254.169.254", "metadata"],
  ["169.254.170.2", "metadata"],
  ["fd00:ec2::254", "metadata"],
  ["[fd00:ec2::254]", "metadata"],
  ["::ffff:169.254.169.254", "metadata"],
  ["64:ff9b::a9fe:a9fe", "metadata"],
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["::", "unspecified"],
  ["::ffff:0.0.0.0", "unspecified"],
  ["127.0.0.1", "loopback"],
  ["127.255.0.9", "loopback"],
  ["::1", "loopback"],
  ["[::1]", "loopback"],
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["::127.0.0.1", "loopback"],
  ["64:ff9b::127.0.0.1", "loopback"],
  ["169.254.1.1", "link-local"],
  ["fe80::1", "link-local"],
  ["::ffff:169.254.1.1", "link-local"],
  ["10.0.0.1", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["192.168.1.1", "private"],
  ["::ffff:10.1.2.3", "private"],
  ["100.64.0.1", "shared"],
  ["100.127.255.255", "shared"],
  ["fd12:3456::1", "unique-local"],
  ["fc00::1", "unique-local"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["ff02::1", "multicast"],
  ["::ffff:224.0.0.1", "multicast"],
  ["240.0.0.1", "reserved"],
  ["255.255.255.255", "reserved"],
  ["::5", "reserved"],
  ["8.8.8.8", "public"],
  ["172.32.0.1", "public"],
  ["100.128.0.1", "public"],
  ["2606:4700::1111", "public"],
  ["::ffff:8.8.8.8", "public"],
];

describe("classifyAddress", () => {
  it.each(classes)("%s is %s", (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });

  it("throws for a name or garbage", () => {
    for (const bad of ["localhost", "example.com", "1.2.3", "", "::ffff:1.2.3.4.5"])
      expect(() => classifyAddress(bad)).toThrow(/not an IP address/);
  });
});

describe("checkAddress", () => {
  const none = new Allowlist([]);
  const refused = (address: string, purpose: "webhook" | "mongodb", list = none) =>
    !checkAddress(address, purpose, list).allowed;

  it("refuses every non-public address for a webhook", () => {
    for (const [address, cls] of classes) expect(refused(address, "webhook"), address).toBe(cls !== "public");
  });

  it("allows private, shared and unique-local for MongoDB, refuses the rest", () => {
    const allowedForMongo = new Set(["public", "private", "shared", "unique-local"]);
    for (const [address, cls] of classes)
      expect(refused(address, "mongodb"), address).toBe(!allowedForMongo.has(cls));
  });

  it("admits what the allowlist covers, mapped forms included", () => {
    const list = new Allowlist(["127.0.0.0/8", "10.1.0.0/16", "fd00:abcd::/32"]);
    expect(refused("127.0.0.1", "webhook", list)).toBe(false);
    expect(refused("::ffff:127.0.0.1", "webhook", list)).toBe(false);
    expect(refused("10.1.2.3", "webhook", list)).toBe(false);
    expect(refused("10.2.0.1", "webhook", list)).toBe(true);
    expect(refused("fd00:abcd::5", "webhook", list)).toBe(false);
    expect(refused("::1", "webhook", list)).toBe(true);
  });

  it("never admits a metadata endpoint, whatever the allowlist", () => {
    const wide = new Allowlist(["0.0.0.0/0", "::/0", "169.254.0.0/16"]);
    for (const address of ["169.254.169.254", "169.254.170.2", "fd00:ec2::254", "::ffff:169.254.169.254"]) {
      for (const purpose of ["webhook", "mongodb"] as const) {
        const verdict = checkAddress(address, purpose, wide);
        expect(verdict, address).toMatchObject({
          allowed: false,
          reason: expect.stringMatching(/metadata.*never/),
        });
      }
    }
    expect(refused("169.254.1.1", "mongodb", wide)).toBe(false);
  });

  it("says what the address is and how to allow it", () => {
    expect(checkAddress("::ffff:127.0.0.1", "webhook", none)).toEqual({
      allowed: false,
      reason: "::ffff:127.0.0.1 is a loopback address (add it to outbound_allowlist to allow it)",
      what: "a loopback address (add it to outbound_allowlist to allow it)",
    });
  });
});

describe("checkResolved", () => {
  it("refuses a name when any one of its addresses is refused, and names the name", () => {
    const check = () => checkResolved("localhost", ["8.8.8.8", "127.0.0.1"], "webhook", new Allowlist([]));
    expect(check).toThrow(OutboundRefusedError);
    expect(check).toThrow(
      "localhost resolves to 127.0.0.1, a loopback address (add it to outbound_allowlist",
    );
    expect(() => checkResolved("x", [], "webhook", new Allowlist([]))).toThrow(/no address/);
    expect(() =>
      checkResolved("a.example", ["8.8.8.8", "2606:4700::1"], "webhook", new Allowlist([])),
    ).not.toThrow();
  });
});

describe("parseCidr", () => {
  it.each([
    ["10.0.0.0/8", { address: "10.0.0.0", prefix: 8, family: "ipv4" }],
    ["127.0.0.1", { address: "127.0.0.1", prefix: 32, family: "ipv4" }],
    ["fd00::/8", { address: "fd00::", prefix: 8, family: "ipv6" }],
    ["::1", { address: "::1", prefix: 128, family: "ipv6" }],
  ])("%s", (entry, parsed) => {
    expect(parseCidr(entry)).toEqual(parsed);
  });

  it.each([
    "10.0.0.0/33",
    "fd00::/129",
    "10.0.0.0/-1",
    "10.0.0.0/8/8",
    "example.com/8",
    "10.0.0/8",
    "10.0.0.0/",
  ])("refuses %s", (entry) => {
    expect(typeof parseCidr(entry)).toBe("string");
    expect(() => new Allowlist([entry])).toThrow(/is not a CIDR/);
  });
});
