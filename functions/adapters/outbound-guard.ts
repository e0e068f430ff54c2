// Name resolution under the outbound policy (core/outbound-policy.ts): a host is resolved once,
// every address it resolved to is checked, and the connection is made to the checked addresses by
// handing the socket a `lookup` that answers with them, so no second DNS answer (a rebinding
// attacker's) is ever asked for.
import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup, resolveSrv } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import { ConnectionString } from "mongodb-connection-string-url";
import { type Allowlist, checkResolved, type OutboundPurpose } from "#core/outbound-policy.ts";

const unbracket = (host: string) => (host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host);

/** Every address of `host` (an IP literal is its own), checked; OutboundRefusedError if one is refused. */
export async function resolveChecked(
  host: string,
  purpose: OutboundPurpose,
  allowlist: Allowlist,
): Promise<LookupAddress[]> {
  const name = unbracket(host);
  const family = isIP(name);
  const addresses = family
    ? [{ address: name, family }]
    : await dnsLookup(name, { all: true, verbatim: true });
  checkResolved(
    host,
    addresses.map((a) => a.address),
    purpose,
    allowlist,
  );
  return addresses;
}

/** A socket `lookup` that answers only with `addresses` (already checked), whatever it is asked. */
export function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
    const usable = addresses.filter((a) => wanted === undefined || a.family === wanted);
    const first = usable[0];
    if (!first) {
      const error = Object.assign(new Error("no checked address of the asked family"), { code: "ENOTFOUND" });
      callback(error, "", 0);
      return;
    }
    if (options.all) (callback as (e: null, all: LookupAddress[]) => void)(null, usable);
    else callback(null, first.address, first.family);
  };
}

/**
 * A socket `lookup` that resolves each name itself and answers only if every address is allowed:
 * for clients (the MongoDB driver) that open connections to names they learn on the way (SRV
 * targets, replica set members). The addresses it checked are the ones the socket connects to.
 */
export function checkingLookup(purpose: OutboundPurpose, allowlist: () => Allowlist): LookupFunction {
  return (hostname, options, callback) => {
    resolveChecked(hostname, purpose, allowlist()).then(
      (addresses) => pinnedLookup(addresses)(hostname, options, callback),
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };
}

/** The name part of `host:port`, `[v6]:port` or a bare host. */
function hostName(hostPort: string): string {
  if (hostPort.startsWith("[")) return hostPort.slice(1, hostPort.indexOf("]"));
  const colon = hostPort.lastIndexOf(":");
  return colon === -1 ? hostPort : hostPort.slice(0, colon);
}

/**
 * OutboundRefusedError unless every host of a MongoDB URI resolves to addresses the policy allows
 * for MongoDB; for `mongodb+srv`, every SRV target (as the driver and the tools find them).
 */
export async function checkMongoHosts(uri: string, allowlist: Allowlist): Promise<void> {
  const cs = new ConnectionString(uri);
  const hosts = cs.isSRV
    ? (await resolveSrv(`_mongodb._tcp.${hostName(cs.hosts[0] ?? "")}`)).map((r) => r.name)
    : cs.hosts.map(hostName);
  for (const host of hosts) await resolveChecked(host, "mongodb", allowlist);
}
