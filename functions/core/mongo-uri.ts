// Builds the connection URI the mongo tools get for a server. It never contains the password: the
// password travels separately (a 0600 config file for the tools), so the URI is safe to log.
// mongodb-connection-string-url (by MongoDB) parses multi-host and +srv URIs that WHATWG URL cannot.
import { ConnectionString } from "mongodb-connection-string-url";
import type { Server } from "./entities.ts";
import { ValidationError } from "./errors.ts";

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

export function serverUri(server: Server): string {
  let cs: ConnectionString;
  if (server.connection_string) {
    cs = parse("connection_string", stripPassword(server.connection_string).uri);
  } else {
    const host = server.host.includes(":") && !server.host.startsWith("[") ? `[${server.host}]` : server.host;
    cs = parse("host", `mongodb://${host}:${server.port}/`);
    if (server.username) cs.username = encodeURIComponent(server.username);
    const params = cs.searchParams;
    if (server.auth_source) params.set("authSource", server.auth_source);
    if (server.tls) params.set("tls", "true");
    if (server.replica_set) params.set("replicaSet", server.replica_set);
    for (const [key, value] of Object.entries(server.options)) params.set(key, value);
  }
  return cs.toString();
}
