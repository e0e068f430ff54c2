// MongoInspector on the MongoDB Node driver: the API's connection test and database discovery.
// Every failure becomes one ConnectionFailureKind with a short message free of secrets, found by
// walking the driver's error chain (causes and the per-server errors of a server selection failure).
// Before connecting, every host of the URI (for mongodb+srv, every SRV target) is resolved and its
// addresses checked against the outbound policy for MongoDB (core/outbound-policy.ts); a refusal is
// kind `refused` and nothing is sent. The driver is also given a `lookup` that resolves and checks
// again and answers with the addresses it checked, so the sockets it opens (to these hosts and to
// replica set members that the server names) go only to checked addresses. A member named by an
// IP literal is connected without a lookup: that one is not checked (the residual case).
import {
  MongoClient,
  type MongoClientOptions,
  MongoMissingCredentialsError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
} from "mongodb";
import { ConnectionString } from "mongodb-connection-string-url";
import { Allowlist, OutboundRefusedError } from "#core/outbound-policy.ts";
import {
  ConnectionFailedError,
  type ConnectionTestResult,
  type DiscoveredDatabase,
  type MongoInspector,
  type MongoTarget,
} from "#core/ports.ts";
import { redact } from "#core/redact.ts";
import { checkMongoHosts } from "./mongo-host-check.ts";
import { checkingLookup } from "./outbound-guard.ts";

const SYSTEM_DATABASES = new Set(["admin", "config", "local"]);
const AUTH_FAILED = 18;
const UNAUTHORIZED = 13;
// Node's TLS and OpenSSL error codes: certificate checks (CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT,
// ERR_TLS_CERT_ALTNAME_INVALID...) and protocol errors (ERR_SSL_WRONG_VERSION_NUMBER...).
const TLS_CODE = /CERT|^ERR_SSL_|^ERR_TLS_|^HOSTNAME_MISMATCH$/;

export interface MongoDriverInspectorOptions {
  /** Bounds server selection, connecting and each socket read, so a probe never hangs. */
  timeoutMs?: number;
  /**
   * CIDRs this deployment admits for MongoDB servers whatever the settings say: local mode and the
   * tests pass loopback (`loopbackCidrs`), where their servers run. Default none.
   */
  allowlist?: readonly string[];
}

interface Context {
  username: string | undefined;
  hosts: string[];
  timeoutMs: number;
}

export class MongoDriverInspector implements MongoInspector {
  readonly #timeoutMs: number;
  readonly #allowlist: Allowlist;

  constructor(options: MongoDriverInspectorOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#allowlist = new Allowlist(options.allowlist ?? []);
  }

  async test(target: MongoTarget): Promise<ConnectionTestResult> {
    try {
      const version = await this.#withClient(target, async (client) => {
        const admin = client.db("admin").admin();
        // hello and buildInfo answer without authentication; listDatabases proves the credentials.
        await admin.listDatabases({ nameOnly: true });
        const info = await admin.buildInfo().catch((error: unknown) => {
          if (error instanceof MongoServerError) return undefined; // a server that hides its version
          throw error;
        });
        return typeof info?.version === "string" ? info.version : null;
      });
      return { ok: true, server_version: version };
    } catch (error) {
      const failure = error instanceof ConnectionFailedError ? error : undefined;
      return { ok: false, kind: failure?.kind ?? "other", message: failure?.message ?? "connection failed" };
    }
  }

  async listDatabases(target: MongoTarget): Promise<DiscoveredDatabase[]> {
    return await this.#withClient(target, async (client) => {
      const { databases } = await client.db("admin").admin().listDatabases();
      return databases
        .filter((d) => !SYSTEM_DATABASES.has(d.name))
        .map((d) => ({ name: d.name, size_on_disk: typeof d.sizeOnDisk === "number" ? d.sizeOnDisk : null }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    });
  }

  /** Runs `fn` on a fresh client, always closed; every failure becomes a ConnectionFailedError. */
  async #withClient<T>(target: MongoTarget, fn: (client: MongoClient) => Promise<T>): Promise<T> {
    const context: Context = { username: undefined, hosts: [], timeoutMs: this.#timeoutMs };
    let client: MongoClient | undefined;
    try {
      const cs = new ConnectionString(target.uri);
      context.username = cs.username ? decodeURIComponent(cs.username) : undefined;
      context.hosts = cs.hosts;
      const allowlist = this.#allowlist.with(target.allowlist ?? []);
      await checkMongoHosts(target.uri, allowlist);
      const options: MongoClientOptions = {
        serverSelectionTimeoutMS: this.#timeoutMs,
        connectTimeoutMS: this.#timeoutMs,
        socketTimeoutMS: this.#timeoutMs,
        appName: "mongo-backup-manager",
        lookup: checkingLookup("mongodb", () => allowlist),
      };
      // The password never enters the URI. Without a username there is nobody to authenticate as.
      if (context.username && target.password) {
        options.auth = { username: context.username, password: target.password };
      }
      client = new MongoClient(target.uri, options);
      return await fn(client);
    } catch (error) {
      const { kind, message } = classify(error, context);
      // redact() as a last resort: no driver or OS message should hold the password, but never trust it.
      throw new ConnectionFailedError(kind, redact(message, [target.password]));
    } finally {
      await client?.close().catch(() => {});
    }
  }
}

/** The error, its causes, and each server's error inside a server selection failure, breadth first. */
function errorChain(error: unknown): Error[] {
  const seen: Error[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.length < 32) {
    const e = queue.shift();
    if (!(e instanceof Error) || seen.includes(e)) continue;
    seen.push(e);
    queue.push(e.cause);
    if (e instanceof MongoServerSelectionError) {
      for (const server of e.reason?.servers.values() ?? []) queue.push(server.error);
    }
  }
  return seen;
}

function codeOf(error: Error): string | number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" || typeof code === "number" ? code : undefined;
}

/** `address:port` of a Node socket error, else the hosts of the URI. */
function whereOf(error: Error, context: Context): string {
  const { address, port } = error as { address?: unknown; port?: unknown };
  if (typeof address === "string" && typeof port === "number") return `${address}:${port}`;
  return context.hosts.join(",") || "the server";
}

function classify(error: unknown, context: Context): Pick<ConnectionFailedError, "kind" | "message"> {
  const chain = errorChain(error);
  const user = context.username;
  const refusal = chain.find((e) => e instanceof OutboundRefusedError);
  if (refusal) return { kind: "refused", message: refusal.message };
  // Most specific first: a TLS failure also surfaces as ECONNRESET, and every network failure ends in
  // a server selection timeout.
  for (const e of chain) {
    if (e instanceof MongoServerError && (e.code === AUTH_FAILED || e.codeName === "AuthenticationFailed")) {
      return { kind: "authentication", message: `authentication failed for user ${user ?? "(none)"}` };
    }
    if (e instanceof MongoMissingCredentialsError) {
      return { kind: "authentication", message: `incomplete credentials for user ${user ?? "(none)"}` };
    }
    if (e instanceof MongoServerError && (e.code === UNAUTHORIZED || e.codeName === "Unauthorized")) {
      const message = user
        ? `user ${user} is not authorized to list databases`
        : "the server requires authentication and no username was given";
      return { kind: "authentication", message };
    }
  }
  for (const e of chain) {
    const code = codeOf(e);
    // Driver errors copy their cause's message, so only Node's own errors are read for TLS wording
    // ("Client network socket disconnected before secure TLS connection was established").
    const nodeTlsMessage = !e.name.startsWith("Mongo") && /\bTLS\b|\bSSL\b|certificate/i.test(e.message);
    if ((typeof code === "string" && TLS_CODE.test(code)) || nodeTlsMessage) {
      return { kind: "tls", message: `TLS handshake failed: ${e.message}` };
    }
  }
  for (const e of chain) {
    const code = codeOf(e);
    const where = whereOf(e, context);
    if (code === "ECONNREFUSED") return { kind: "unreachable", message: `connection refused at ${where}` };
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
      const host = (e as { hostname?: unknown }).hostname;
      return { kind: "unreachable", message: `host not found: ${typeof host === "string" ? host : where}` };
    }
    if (code === "EHOSTUNREACH" || code === "ENETUNREACH") {
      return { kind: "unreachable", message: `no route to ${where}` };
    }
    if (code === "ECONNRESET" || code === "EPIPE") {
      return { kind: "unreachable", message: `connection reset by ${where}` };
    }
  }
  for (const e of chain) {
    if (e instanceof MongoNetworkTimeoutError || codeOf(e) === "ETIMEDOUT") {
      return {
        kind: "timeout",
        message: `no answer from ${whereOf(e, context)} within ${context.timeoutMs} ms`,
      };
    }
    // Any other network error: the peer accepted and then closed without speaking the protocol.
    if (e instanceof MongoNetworkError) {
      return { kind: "unreachable", message: `connection closed by ${whereOf(e, context)}` };
    }
  }
  const first = chain[0];
  if (first instanceof MongoServerSelectionError) {
    // Selection timed out and no server recorded an error: something may accept, but nothing answered.
    const where = [...(first.reason?.servers.keys() ?? [])].join(",") || whereOf(first, context);
    return { kind: "timeout", message: `no answer from ${where} within ${context.timeoutMs} ms` };
  }
  return { kind: "other", message: first?.message || "connection failed" };
}
