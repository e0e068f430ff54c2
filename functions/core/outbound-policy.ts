// Which addresses the product may open a connection to. Pure: callers resolve names (adapters/
// outbound-guard.ts) and ask here about every address they got. Two purposes differ on purpose:
// - webhook: only public addresses. A webhook URL is typed by an operator and posted to from inside
//   the deployment, so a private one would let the API be pointed at the VPC (or local mode's own
//   API on 127.0.0.1) and report what answers.
// - mongodb: servers inside the VPC on private addresses are the normal case, so private ranges stay
//   allowed; loopback, link-local (cloud metadata), unspecified, multicast and reserved are refused.
// An allowlist of CIDRs (settings' `outbound_allowlist`, plus a deployment's own, such as local
// mode's loopback for MongoDB) admits what would be refused, except the metadata endpoints: those
// hand out the deployment's own AWS credentials and are never a webhook receiver nor a MongoDB
// server, so no allowlist admits them (an allowlisted 169.254.0.0/16 still refuses them).
import { BlockList, isIP } from "node:net";

export type OutboundPurpose = "webhook" | "mongodb";

export type AddressClass =
  | "metadata"
  | "unspecified"
  | "loopback"
  | "link-local"
  | "private"
  | "shared"
  | "unique-local"
  | "multicast"
  | "reserved"
  | "public";

/** Why an address of each class is refused, as a reply says it. */
const describeClass: Record<Exclude<AddressClass, "public">, string> = {
  metadata: "a cloud metadata endpoint",
  unspecified: "an unspecified address",
  loopback: "a loopback address",
  "link-local": "a link-local address",
  private: "a private address (RFC 1918)",
  shared: "a shared address (RFC 6598, carrier-grade NAT)",
  "unique-local": "a unique-local IPv6 address",
  multicast: "a multicast address",
  reserved: "a reserved address",
};

const refusedFor: Record<OutboundPurpose, ReadonlySet<AddressClass>> = {
  webhook: new Set([
    "metadata",
    "unspecified",
    "loopback",
    "link-local",
    "private",
    "shared",
    "unique-local",
    "multicast",
    "reserved",
  ]),
  mongodb: new Set(["metadata", "unspecified", "loopback", "link-local", "multicast", "reserved"]),
};

type Cidr = readonly [address: string, prefix: number];

// Metadata first: it lies inside link-local (and unique-local) and must win over an allowlist.
const ipv4Ranges: ReadonlyArray<readonly [AddressClass, Cidr]> = [
  ["metadata", ["169.254.169.254", 32]], // EC2 instance metadata (also Azure, GCP, OpenStack)
  ["metadata", ["169.254.170.2", 32]], // ECS task metadata and the task role's credentials
  ["metadata", ["169.254.170.23", 32]], // EKS pod identity credentials
  ["metadata", ["100.100.100.200", 32]], // Alibaba Cloud metadata
  ["unspecified", ["0.0.0.0", 8]],
  ["loopback", ["127.0.0.0", 8]],
  ["link-local", ["169.254.0.0", 16]],
  ["private", ["10.0.0.0", 8]],
  ["private", ["172.16.0.0", 12]],
  ["private", ["192.168.0.0", 16]],
  ["shared", ["100.64.0.0", 10]],
  ["multicast", ["224.0.0.0", 4]],
  ["reserved", ["240.0.0.0", 4]], // includes the broadcast 255.255.255.255
];

const ipv6Ranges: ReadonlyArray<readonly [AddressClass, Cidr]> = [
  ["metadata", ["fd00:ec2::254", 128]], // EC2 instance metadata over IPv6
  ["metadata", ["fd00:ec2::23", 128]], // EKS pod identity over IPv6
  ["unspecified", ["::", 128]],
  ["loopback", ["::1", 128]],
  ["link-local", ["fe80::", 10]],
  ["unique-local", ["fc00::", 7]],
  ["multicast", ["ff00::", 8]],
  ["reserved", ["::", 96]], // the rest of the deprecated IPv4-compatible range
];

/**
 * IPv6 prefixes whose last 32 bits carry an IPv4 address that the network may deliver to:
 * IPv4-mapped (::ffff:a.b.c.d, how a dual-stack socket names an IPv4 peer), IPv4-compatible
 * (::a.b.c.d, deprecated) and NAT64 (64:ff9b::a.b.c.d, which a VPC's DNS64 and NAT gateway translate).
 */
const ipv4Carriers = ["::ffff:", "::", "64:ff9b::"] as const;

/** `a.b.c.d` as the two hex groups of the last 32 bits of an IPv6 address. */
function ipv4AsGroups(address: string): string {
  const [a = 0, b = 0, c = 0, d = 0] = address.split(".").map(Number);
  return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

function buildClassLists(): ReadonlyArray<readonly [AddressClass, BlockList]> {
  const lists = new Map<AddressClass, BlockList>();
  const listOf = (cls: AddressClass) => {
    const list = lists.get(cls) ?? new BlockList();
    lists.set(cls, list);
    return list;
  };
  for (const [cls, [address, prefix]] of ipv4Ranges) {
    listOf(cls).addSubnet(address, prefix, "ipv4");
    for (const carrier of ipv4Carriers) {
      // ::0.0.0.0/104 would swallow :: and ::1, which are classed as themselves below.
      if (carrier === "::" && cls === "unspecified") continue;
      listOf(cls).addSubnet(`${carrier}${ipv4AsGroups(address)}`, 96 + prefix, "ipv6");
    }
  }
  for (const [cls, [address, prefix]] of ipv6Ranges) listOf(cls).addSubnet(address, prefix, "ipv6");
  return [...lists.entries()];
}

// Map insertion order keeps metadata first, then the order of the tables above.
const classLists = buildClassLists();

const familyOf = (address: string): "ipv4" | "ipv6" | undefined => {
  const version = isIP(address);
  return version === 4 ? "ipv4" : version === 6 ? "ipv6" : undefined;
};

/** The class of an IP address (IPv4 or IPv6, brackets allowed). Throws for something that is not one. */
export function classifyAddress(address: string): AddressClass {
  const ip = unbracket(address);
  const family = familyOf(ip);
  if (!family) throw new Error(`not an IP address: ${JSON.stringify(address)}`);
  for (const [cls, list] of classLists) if (list.check(ip, family)) return cls;
  return "public";
}

const unbracket = (host: string) => (host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host);

/** A parsed CIDR list. Build it with `parseAllowlist`, which names the bad entry. */
export class Allowlist {
  readonly entries: readonly string[];
  readonly #list = new BlockList();

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const parsed = parseCidr(entry);
      if (typeof parsed === "string") throw new Error(`${JSON.stringify(entry)}: ${parsed}`);
      this.#list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.entries = [...entries];
  }

  has(address: string): boolean {
    const ip = unbracket(address);
    const family = familyOf(ip);
    return family !== undefined && this.#list.check(ip, family);
  }

  /** This list and `other` together. */
  with(other: Allowlist | readonly string[]): Allowlist {
    return new Allowlist([...this.entries, ...(other instanceof Allowlist ? other.entries : other)]);
  }
}

export const emptyAllowlist = new Allowlist([]);

/** Loopback, which local mode and the tests admit for MongoDB servers (never for webhooks). */
export const loopbackCidrs: readonly string[] = ["127.0.0.0/8", "::1/128"];

/**
 * `address/prefix` with an IPv4 or IPv6 address and a prefix length within its family; a plain
 * address is one host (/32 or /128). Returns why it is not one as a string.
 */
export function parseCidr(
  entry: string,
): { address: string; prefix: number; family: "ipv4" | "ipv6" } | string {
  const [address = "", prefixText, ...rest] = entry.trim().split("/");
  if (rest.length > 0) return "is not a CIDR (address/prefix)";
  const family = familyOf(address);
  if (!family) return "is not a CIDR: the address is not an IPv4 or IPv6 address";
  const max = family === "ipv4" ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: max, family };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max)
    return `is not a CIDR: the prefix length must be 0 to ${max}`;
  return { address, prefix: Number(prefixText), family };
}

export type AddressVerdict =
  | { allowed: true }
  | {
      allowed: false;
      /** E.g. "127.0.0.1 is a loopback address (add it to outbound_allowlist to allow it)". */
      reason: string;
      /** The same after a name: "a loopback address (add it ...)". */
      what: string;
    };

/** Whether `purpose` may connect to `address`; the reason names the address and its class. */
export function checkAddress(
  address: string,
  purpose: OutboundPurpose,
  allowlist: Allowlist,
): AddressVerdict {
  const cls = classifyAddress(address);
  if (cls === "public") return { allowed: true };
  const refuse = (hint: string) => {
    const what = `${describeClass[cls]} (${hint})`;
    return { allowed: false as const, what, reason: `${unbracket(address)} is ${what}` };
  };
  if (cls === "metadata") return refuse("never allowed");
  if (!refusedFor[purpose].has(cls) || allowlist.has(address)) return { allowed: true };
  return refuse("add it to outbound_allowlist to allow it");
}

/** A connection the policy refuses; `message` names the host and the reason, never a URL's path. */
export class OutboundRefusedError extends Error {
  override name = "OutboundRefusedError";
  readonly code = "EOUTBOUNDREFUSED";
}

/** Refuses (OutboundRefusedError) unless every address `host` resolved to is allowed. */
export function checkResolved(
  host: string,
  addresses: readonly string[],
  purpose: OutboundPurpose,
  allowlist: Allowlist,
): void {
  if (addresses.length === 0) throw new OutboundRefusedError(`${host} resolves to no address`);
  for (const address of addresses) {
    const verdict = checkAddress(address, purpose, allowlist);
    if (!verdict.allowed) {
      throw new OutboundRefusedError(
        unbracket(host) === unbracket(address)
          ? verdict.reason
          : `${host} resolves to ${unbracket(address)}, ${verdict.what}`,
      );
    }
  }
}
