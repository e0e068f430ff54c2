// The server form's draft: what the fields hold, the checks the API would make, and the request
// bodies built from it (a create sends one way to connect; an update sends only what changed).
import type { Body } from "../../lib/api.ts";
import type { Server } from "../../lib/types.ts";
import { hasControlCharacter } from "./data.ts";

export type Mode = "host" | "uri";
export type Errors = Record<string, string>;

export interface Draft {
  name: string;
  mode: Mode;
  host: string;
  port: string;
  username: string;
  password: string;
  removePassword: boolean;
  authSource: string;
  tls: boolean;
  replicaSet: string;
  /** "" is the driver's default (SCRAM). */
  authMechanism: "" | NonNullable<Server["auth_mechanism"]>;
  connectionString: string;
  /** Restore drills may create and drop scratch databases on it. */
  sandbox: boolean;
}

/** What the form offers: the API's mechanisms, PLAIN only over TLS (the API refuses it otherwise). */
export const AUTH_MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "MONGODB-AWS"] as const;

export function draftOf(server: Server | null): Draft {
  return {
    name: server?.name ?? "",
    mode: server?.connection_string ? "uri" : "host",
    host: server?.host ?? "",
    port: String(server?.port ?? 27017),
    username: server?.username ?? "",
    password: "",
    removePassword: false,
    authSource: server?.auth_source ?? "",
    tls: server?.tls ?? false,
    replicaSet: server?.replica_set ?? "",
    authMechanism: server?.auth_mechanism ?? "",
    connectionString: server?.connection_string ?? "",
    sandbox: server?.sandbox ?? false,
  };
}

const HOST = /^[A-Za-z0-9._:[\]-]+$/;
/** Fields a connection string decides: their 422s show under the connection string. */
export const URI_DECIDES = [
  "host",
  "port",
  "username",
  "auth_source",
  "auth_mechanism",
  "tls",
  "replica_set",
  "options",
];

export function check(d: Draft): Errors {
  const errors: Errors = {};
  const name = d.name.trim();
  if (!name) errors.name = "Enter a name.";
  else if (name.length > 200) errors.name = "At most 200 characters.";
  else if (hasControlCharacter(name)) errors.name = "No control characters.";
  if (d.mode === "host") {
    const host = d.host.trim();
    if (!host) errors.host = "Enter a host name or IP address.";
    else if (host.length > 1024 || !HOST.test(host)) errors.host = "Must be a host name or an IP address.";
    const port = Number(d.port);
    if (!/^\d+$/.test(d.port.trim()) || port < 1 || port > 65535) errors.port = "A whole number, 1–65535.";
    if (d.username.length > 1024 || hasControlCharacter(d.username))
      errors.username = "Not a valid user name.";
    if (d.authSource.length > 64 || hasControlCharacter(d.authSource))
      errors.auth_source = "At most 64 characters.";
    if (d.replicaSet.length > 256 || hasControlCharacter(d.replicaSet))
      errors.replica_set = "At most 256 characters.";
  } else {
    const uri = d.connectionString.trim();
    if (!/^mongodb(\+srv)?:\/\//.test(uri)) {
      errors.connection_string = "Must start with mongodb:// or mongodb+srv://.";
    } else if (uri.length > 4096 || hasControlCharacter(uri)) {
      errors.connection_string = "At most 4096 characters, no control characters.";
    }
  }
  if (d.mode === "host" && d.authMechanism === "PLAIN" && !d.tls) {
    errors.auth_mechanism = "PLAIN sends the password in clear: turn on TLS.";
  }
  if (d.password.length > 1024) errors.password = "At most 1024 characters.";
  return errors;
}

const orNull = (value: string) => (value.trim() === "" ? null : value.trim());

/** The create body: one way to connect, empty optional fields left out. */
export function createBody(d: Draft): Body<"POST", "/api/servers"> {
  const password = d.password ? { password: d.password } : {};
  const sandbox = d.sandbox ? { sandbox: true } : {};
  if (d.mode === "uri")
    return { name: d.name.trim(), connection_string: d.connectionString.trim(), ...sandbox, ...password };
  const username = orNull(d.username);
  const authSource = orNull(d.authSource);
  const replicaSet = orNull(d.replicaSet);
  return {
    name: d.name.trim(),
    host: d.host.trim(),
    port: Number(d.port),
    tls: d.tls,
    ...(username === null ? {} : { username }),
    ...(authSource === null ? {} : { auth_source: authSource }),
    ...(replicaSet === null ? {} : { replica_set: replicaSet }),
    ...(d.authMechanism ? { auth_mechanism: d.authMechanism } : {}),
    ...sandbox,
    ...password,
  };
}

/** The update body: only what changed (switching the way to connect sends that way's fields). */
export function updateBody(server: Server, d: Draft): Body<"PUT", "/api/servers/{id}"> {
  const body: Body<"PUT", "/api/servers/{id}"> = {};
  if (d.name.trim() !== server.name) body.name = d.name.trim();
  if (d.sandbox !== (server.sandbox ?? false)) body.sandbox = d.sandbox;
  const wasUri = Boolean(server.connection_string);
  if (d.mode === "uri") {
    if (!wasUri || d.connectionString.trim() !== server.connection_string) {
      body.connection_string = d.connectionString.trim();
    }
  } else {
    const next = {
      host: d.host.trim(),
      port: Number(d.port),
      username: orNull(d.username),
      auth_source: orNull(d.authSource),
      tls: d.tls,
      replica_set: orNull(d.replicaSet),
      auth_mechanism: d.authMechanism || null,
    };
    // From a connection string to host/port: send them all, the record takes them as a whole.
    const changed = <K extends keyof typeof next>(field: K) => wasUri || next[field] !== server[field];
    if (changed("host")) body.host = next.host;
    if (changed("port")) body.port = next.port;
    if (changed("username")) body.username = next.username;
    if (changed("auth_source")) body.auth_source = next.auth_source;
    if (changed("tls")) body.tls = next.tls;
    if (changed("replica_set")) body.replica_set = next.replica_set;
    if (changed("auth_mechanism")) body.auth_mechanism = next.auth_mechanism;
  }
  if (d.removePassword) body.password = null;
  else if (d.password) body.password = d.password;
  return body;
}

/**
 * True when saving `d` would change where or how the server is reached without a new password: the
 * API then removes the stored one (a password only ever goes to the endpoint it was given for).
 */
export function dropsPassword(server: Server, d: Draft): boolean {
  if (!server.has_password || d.password || d.removePassword) return false;
  // Neither the name nor the sandbox mark is part of where or how it is reached.
  const { name: _name, password: _password, sandbox: _sandbox, ...endpoint } = updateBody(server, d);
  return Object.keys(endpoint).length > 0;
}
