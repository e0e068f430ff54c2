// The outbound policy's check of a MongoDB URI's hosts, apart from outbound-guard.ts so that what
// only needs the guard (the webhook sender, in every Lambda bundle) does not carry the URI parser.
import { resolveSrv } from "node:dns/promises";
import { ConnectionString } from "mongodb-connection-string-url";
import type { Allowlist } from "#core/outbound-policy.ts";
import { resolveChecked } from "./outbound-guard.ts";

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
