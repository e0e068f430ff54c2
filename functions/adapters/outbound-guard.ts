// Name resolution under the outbound policy (core/outbound-policy.ts): a host is resolved once,
// every address it resolved to is checked, and the connection is made to the checked addresses by
// handing the socket a `lookup` that answers with them, so no second DNS answer (a rebinding
// attacker's) is ever asked for.
import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
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
