// The MongoDB driver inspector against the real FerretDB and real sockets: each way a connection
// fails is reported as the kind the user can act on, and no message ever carries the password.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MongoDriverInspector } from "#adapters/mongo-driver-inspector.ts";
import { loopbackCidrs } from "#core/outbound-policy.ts";
import { ConnectionFailedError, type ConnectionTestResult, type MongoTarget } from "#core/ports.ts";
import { adminMongoClient, mongoInfo, scratchDir, uniqueName } from "#test/support/env.ts";
import { freePort } from "../../scripts/processes.ts";

// The test FerretDB and the fake servers below listen on loopback, which is admitted explicitly.
const inspector = new MongoDriverInspector({ allowlist: loopbackCidrs });
const fast = new MongoDriverInspector({ timeoutMs: 1500, allowlist: loopbackCidrs });

function ferretUri(query = ""): string {
  const m = mongoInfo();
  return `mongodb://${m.username}@${m.host}:${m.port}/?authSource=admin${query}`;
}

/** Asserts a failure of `kind` and that its message holds none of the given secrets. */
function expectFailure(result: ConnectionTestResult, kind: string, secrets: string[]): string {
  expect(result.ok, JSON.stringify(result)).toBe(false);
  if (result.ok) throw new Error("unreachable");
  expect(result.kind, result.message).toBe(kind);
  expect(result.message.length).toBeGreaterThan(0);
  for (const secret of [...secrets, mongoInfo().password]) expect(result.message).not.toContain(secret);
  return result.message;
}

/** A loopback server whose connections are handled by `onSocket`; closed (with its sockets) after all. */
async function listen(onSocket: (socket: Socket) => void): Promise<{ server: NetServer; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  opened.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : 0 };
}

const opened: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(opened.map((close) => close()));
});

describe("MongoDriverInspector", () => {
  let admin: MongoClient;
  const dbA = uniqueName("inspect_a").replaceAll("-", "_");
  const dbB = uniqueName("inspect_b").replaceAll("-", "_");

  beforeAll(async () => {
    admin = await adminMongoClient();
    await admin.db(dbA).collection("things").insertOne({ n: 1 });
    await admin.db(dbB).collection("things").insertOne({ n: 2 });
  });
  afterAll(async () => {
    await admin?.db(dbA).dropDatabase();
    await admin?.db(dbB).dropDatabase();
    await admin?.close();
  });

  it("right password: ok with the server version", async () => {
    const result = await inspector.test({ uri: ferretUri(), password: mongoInfo().password });
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && result.server_version).toMatch(/^\d+\.\d+/);
  });

  it("connects by name through its checking lookup, and refuses loopback without the allowlist", async () => {
    const m = mongoInfo();
    const byName = `mongodb://${m.username}@localhost:${m.port}/?authSource=admin`;
    const viaLookup = await inspector.test({ uri: byName, password: m.password });
    expect(viaLookup.ok, JSON.stringify(viaLookup)).toBe(true);

    const strict = new MongoDriverInspector({ timeoutMs: 1500 });
    const refused = expectFailure(await strict.test({ uri: byName, password: m.password }), "refused", []);
    expect(refused).toMatch(/^localhost resolves to \S+, a loopback address \(add it to outbound_allowlist/);
    expect(
      expectFailure(await strict.test({ uri: ferretUri(), password: m.password }), "refused", []),
    ).toMatch(/is a loopback address/);
    // The target's own allowlist (the settings') admits it.
    const admitted = await strict.test({
      uri: ferretUri(),
      password: m.password,
      allowlist: ["127.0.0.0/8"],
    });
    expect(admitted.ok, JSON.stringify(admitted)).toBe(true);
    await expect(
      strict.listDatabases({ uri: "mongodb://169.254.169.254:27017/", allowlist: ["0.0.0.0/0"] }),
    ).rejects.toMatchObject({
      kind: "refused",
      message: "169.254.169.254 is a cloud metadata endpoint (never allowed)",
    });
  });

  it("lists the user databases with their size, without the system ones, sorted by name", async () => {
    const dbs = await inspector.listDatabases({ uri: ferretUri(), password: mongoInfo().password });
    const names = dbs.map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining([dbA, dbB]));
    expect(names).toEqual([...names].sort());
    for (const system of ["admin", "config", "local"]) expect(names).not.toContain(system);
    for (const name of [dbA, dbB]) {
      expect(typeof dbs.find((d) => d.name === name)?.size_on_disk).toBe("number");
    }
  });

  it("wrong password: authentication, and the message names the user, not the password", async () => {
    const wrong = `Wr0ng-${uniqueName("pw")}`;
    const result = await inspector.test({ uri: ferretUri(), password: wrong });
    const message = expectFailure(result, "authentication", [wrong]);
    expect(message).toBe(`authentication failed for user ${mongoInfo().username}`);
  });

  it("no username on a server that requires one: authentication", async () => {
    const m = mongoInfo();
    const result = await inspector.test({ uri: `mongodb://${m.host}:${m.port}/`, password: m.password });
    expectFailure(result, "authentication", []);
  });

  it("listDatabases with a wrong password throws ConnectionFailedError (authentication)", async () => {
    const wrong = `Wr0ng-${uniqueName("pw")}`;
    const error = await inspector.listDatabases({ uri: ferretUri(), password: wrong }).catch((e) => e);
    expect(error).toBeInstanceOf(ConnectionFailedError);
    expect(error.kind).toBe("authentication");
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(mongoInfo().password);
  });

  it("closed port: unreachable, connection refused", async () => {
    const port = await freePort();
    const result = await fast.test({ uri: `mongodb://admin@127.0.0.1:${port}/`, password: "s3cret-closed" });
    const message = expectFailure(result, "unreachable", ["s3cret-closed"]);
    expect(message).toBe(`connection refused at 127.0.0.1:${port}`);
  });

  it("a listener that never answers: timeout, within the configured time", async () => {
    const { port } = await listen(() => {});
    const started = Date.now();
    const result = await fast.test({ uri: `mongodb://admin@127.0.0.1:${port}/`, password: "s3cret-silent" });
    const message = expectFailure(result, "timeout", ["s3cret-silent"]);
    expect(message).toBe(`no answer from 127.0.0.1:${port} within 1500 ms`);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  // A peer that accepts and hangs up without a word is, to the user, a server they cannot reach (a
  // proxy or firewall in the way, the wrong port): "unreachable", with the address in the message.
  it("a listener that closes every connection at once: unreachable", async () => {
    const { port } = await listen((socket) => socket.destroy());
    const result = await fast.test({ uri: `mongodb://admin@127.0.0.1:${port}/`, password: "s3cret-drop" });
    const message = expectFailure(result, "unreachable", ["s3cret-drop"]);
    expect(message).toContain(`127.0.0.1:${port}`);
  });

  // FerretDB reads the ClientHello as a bad message and closes the socket; Node reports ECONNRESET
  // with "...before secure TLS connection was established", which is the TLS signal.
  it("tls=true against a plain server: tls", async () => {
    const result = await fast.test({ uri: ferretUri("&tls=true"), password: mongoInfo().password });
    const message = expectFailure(result, "tls", []);
    expect(message).toMatch(/^TLS handshake failed: /);
  });

  const hasOpenssl = (() => {
    try {
      execFileSync("openssl", ["version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasOpenssl)("a TLS server with an untrusted self-signed certificate: tls", async () => {
    const dir = scratchDir("mbm-tls-");
    try {
      const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
      execFileSync(
        "openssl",
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"].concat([
          "-keyout",
          key,
          "-out",
          cert,
        ]),
        { stdio: "ignore" },
      );
      const server = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert) }, () => {});
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      opened.push(async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      });
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      const target: MongoTarget = {
        uri: `mongodb://admin@127.0.0.1:${port}/?tls=true`,
        password: "s3cret-tls",
      };
      const message = expectFailure(await fast.test(target), "tls", ["s3cret-tls"]);
      expect(message).toMatch(/certificate/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
