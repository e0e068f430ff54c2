// Everything about a server's connection URI: parsing a user's connection string into record fields,
// building the URI the driver and the tools get, the rules a connection must obey, and what counts
// as "where and how it is reached" (the endpoint a stored password is bound to).
// The URI never contains the password: the password travels separately (a 0600 config file for the
// tools, the driver's `auth` option), so the URI is safe to log.
// mongodb-connection-string-url (by MongoDB) parses multi-host and +srv URIs that WHATWG URL cannot.
import { ConnectionString } from "mongodb-connection-string-url";
import { AuthMechanism, type Server } from "./entities.ts";
import { PasswordNeededError, ValidationError } from "./errors.ts";
import type { MongoTarget } from "./ports.ts";

function parse(field: string, uri: string): ConnectionString {
  try {
    return new ConnectionString(uri);
  } catch {
    // No `cause`: the parser's message can echo the input, which may hold a password.
    throw new ValidationError(field, "is not a valid mongodb:// or mongodb+srv:// URI");
  }
}

/** Splits a user-supplied connection string into a password-free URI and the password it held. */
export function stripPassword(connectionString: string): { uri: string; password: string | undefined } {
  const cs = parse("connection_string", connectionString);
  const password = cs.password ? decodeURIComponent(cs.password) : undefined;
  cs.password = "";
  return { uri: cs.toString(), password };
}

/** Host and port shown for a server given by connection string: its first host. */
function firstHost(cs: ConnectionString): { host: string; port: number } {
  const [first = "localhost"] = cs.hosts;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(first);
  return { host: match?.[1] ?? first, port: match?.[2] ? Number(match[2]) : 27017 };
}

/** A URI option's value, whatever the letter case of its name (MongoDB option names are case-insensitive). */
function option(cs: ConnectionString, name: string): string | null {
  const wanted = name.toLowerCase();
  for (const [key, value] of cs.searchParams) if (key.toLowerCase() === wanted) return value;
  return null;
}

/** The server fields a connection string decides, and the password it carried. */
export function fromConnectionString(connectionString: string) {
  const { uri, password } = stripPassword(connectionString);
  const cs = parse("connection_string", uri);
  const mechanism = option(cs, "authMechanism");
  const parsedMechanism = mechanism === null ? null : AuthMechanism.safeParse(mechanism);
  if (parsedMechanism && !parsedMechanism.success) {
    throw new ValidationError(
      "connection_string",
      `authMechanism ${mechanism} is not supported (use one of ${AuthMechanism.options.join(", ")})`,
    );
  }
  return {
    fields: {
      connection_string: uri,
      ...firstHost(cs),
      username: cs.username ? decodeURIComponent(cs.username) : null,
      auth_source: option(cs, "authSource"),
      auth_mechanism: parsedMechanism?.data ?? null,
      tls: cs.isSRV || option(cs, "tls") === "true" || option(cs, "ssl") === "true",
      replica_set: option(cs, "replicaSet"),
      options: {},
    },
    password,
  };
}

/**
 * URI options a server's `options` may not set, each with the field to use instead. Either they
 * override a first-class field (the record would say one thing and connections do another), or they
 * weaken or redirect transport: TLS without certificate checks, trust files on the function's own
 * disk, a SOCKS proxy that would route around the host checks.
 */
const refusedOptions: Record<string, string> = {
  tls: "tls",
  ssl: "tls",
  tlsinsecure: "tls",
  tlsallowinvalidcertificates: "tls",
  tlsallowinvalidhostnames: "tls",
  tlsdisableocspendpointcheck: "tls",
  tlsdisablecertificaterevocationcheck: "tls",
  tlscafile: "tls",
  tlscertificatefile: "tls",
  tlscertificatekeyfile: "tls",
  tlscrlfile: "tls",
  authsource: "auth_source",
  authmechanism: "auth_mechanism",
  authmechanismproperties: "auth_mechanism",
  replicaset: "replica_set",
  proxyhost: "host",
  proxyport: "host",
  proxyusername: "host",
  proxypassword: "password",
};
/** Of those, the ones a connection string may not carry either (the others are its way to say tls etc.). */
const weakeningOptions = new Set(
  Object.keys(refusedOptions).filter(
    (k) => !["tls", "ssl", "authsource", "authmechanism", "replicaset"].includes(k),
  ),
);

/**
 * The rules every connection obeys, checked whenever a URI is built (create, update, probe, test,
 * sync, backup, restore), so a record stored before a rule existed is refused too.
 */
function checkConnection(server: Server): void {
  if (server.connection_string) {
    const cs = parse("connection_string", server.connection_string);
    for (const [key] of cs.searchParams) {
      if (weakeningOptions.has(key.toLowerCase())) {
        throw new ValidationError(
          "connection_string",
          `${key} is not supported: it weakens or redirects the connection (TLS is checked in full; connect directly)`,
        );
      }
    }
  } else {
    for (const key of Object.keys(server.options)) {
      const instead = refusedOptions[key.toLowerCase()];
      if (instead) {
        throw new ValidationError("options", `${key} may not be set in options: use the ${instead} field`);
      }
    }
  }
  const mechanism = server.auth_mechanism ?? null;
  const field = server.connection_string ? "connection_string" : "auth_mechanism";
  // PLAIN (LDAP) sends the password itself; without TLS anyone on the path reads it.
  if (mechanism === "PLAIN" && !server.tls) {
    throw new ValidationError(field, "PLAIN sends the password in clear: it needs tls: true");
  }
}

/** The password-free URI for a server, without the rules (for comparing records). */
function buildUri(server: Server): ConnectionString {
  if (server.connection_string)
    return parse("connection_string", stripPassword(server.connection_string).uri);
  const host = server.host.includes(":") && !server.host.startsWith("[") ? `[${server.host}]` : server.host;
  const cs = parse("host", `mongodb://${host}:${server.port}/`);
  if (server.username) cs.username = encodeURIComponent(server.username);
  const params = cs.searchParams;
  if (server.auth_source) params.set("authSource", server.auth_source);
  if (server.auth_mechanism) params.set("authMechanism", server.auth_mechanism);
  if (server.tls) params.set("tls", "true");
  if (server.replica_set) params.set("replicaSet", server.replica_set);
  // Options may not name a first-class field (checkConnection), so their order decides nothing.
  for (const [key, value] of Object.entries(server.options)) params.set(key, value);
  return cs;
}

export function serverUri(server: Server): string {
  checkConnection(server);
  return buildUri(server).toString();
}

/**
 * Where and how a server is reached, as one comparable value: scheme, user, hosts, default database
 * and every URI option (names lowercased, sorted). A stored password belongs to exactly this; any
 * difference (host, port, a connection string's hosts or options, tls, auth mechanism, auth_source,
 * replica_set, username, options) means the password no longer goes there without being given again.
 * Name edits do not change it. A record whose URI cannot be built has no endpoint (never equal).
 */
export function endpointOf(server: Server): string | null {
  try {
    const cs = buildUri(server);
    const params = [...cs.searchParams].map(([k, v]) => `${k.toLowerCase()}=${v}`).sort();
    const hosts = cs.hosts.map((h) => h.toLowerCase()).sort();
    return JSON.stringify([cs.isSRV, cs.username, hosts, cs.pathname, params]);
  } catch {
    return null;
  }
}

/**
 * What the driver or the tools get to connect to a server. A server with a username but no stored
 * password (it was deleted by an endpoint change, or never given) is refused here rather than
 * attempted: an attempt would only fail at the server, after telling it who we are.
 */
export function mongoTarget(server: Server, password: string | undefined): MongoTarget {
  const uri = serverUri(server);
  if (server.username && password === undefined) throw new PasswordNeededError(server.id);
  return { uri, password };
}
