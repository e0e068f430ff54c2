// /api/servers through the real app (app.request) over both stores: CRUD with the password kept
// write-only in the secret store, deletion with and without backups, the connection test against
// the real FerretDB and a closed port, and live database listing (saved and ad hoc).
import { Readable } from "node:stream";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Server } from "#core/entities.ts";
import { newId } from "#core/ids.ts";
import { auditOf, expectError, expectInvalid } from "#test/support/api-expect.ts";
import { type ApiWorld, addTestServer, apiWorld, knownPasswords } from "#test/support/api-harness.ts";
import { adminMongoClient, mongoInfo, uniqueName } from "#test/support/env.ts";
import { makeBackup, makeRestore } from "#test/support/fixtures.ts";
import { type RecordingProxy, recordingProxy } from "#test/support/recording-proxy.ts";
import { freePort } from "../../scripts/processes.ts";

const wrongPassword = `wrong-${uniqueName("pw")}`;
const uriPassword = `uri-${uniqueName("pw")}`;
knownPasswords.add(wrongPassword);
knownPasswords.add(uriPassword);

/** A server record as the API shows it: exactly the entity's snake_case fields, never a password. */
function expectServerRecord(value: unknown) {
  Server.strict().parse(value);
  for (const key of Object.keys(value as object)) expect(key).toMatch(/^[a-z][a-z0-9_]*$/);
  expect(value).not.toHaveProperty("password");
}

async function expectAudit(api: ApiWorld, targetId: string, action: string) {
  const entries = await auditOf(api, targetId);
  expect(entries).toContainEqual(
    expect.objectContaining({
      actor: "local-operator",
      action,
      target_type: "server",
      target_id: targetId,
      outcome: "success",
    }),
  );
}

const malformed = { body: "{not json", headers: { "content-type": "application/json" } };

describe.each(["local", "aws"] as const)("servers API (%s)", (kind) => {
  let api: ApiWorld;
  let admin: MongoClient;
  const dbName = uniqueName("api_servers").replaceAll("-", "_");
  const m = () => mongoInfo();
  const unknownId = newId();

  beforeAll(async () => {
    api = await apiWorld(kind);
    admin = await adminMongoClient();
    await admin.db(dbName).collection("things").insertOne({ n: 1 });
  });
  afterAll(async () => {
    await admin?.db(dbName).dropDatabase();
    await admin?.close();
    await api?.close();
  });

  describe("GET /api/servers", () => {
    it("lists servers newest first as { items, next_cursor }, to viewers too; 401 without a token", async () => {
      const empty = await api.call("GET", "/api/servers");
      expect(empty.status).toBe(200);
      expect(empty.json).toEqual({ items: [], next_cursor: null });

      const a = await addTestServer(api, "list a");
      const b = await addTestServer(api, "list b");
      const all = await api.call("GET", "/api/servers", { as: "viewer" });
      expect(all.status).toBe(200);
      expect(Object.keys(all.json).sort()).toEqual(["items", "next_cursor"]);
      const ids = all.json.items.map((s: { id: string }) => s.id);
      expect(ids.indexOf(b.id), "both listed").toBeGreaterThanOrEqual(0);
      expect(ids.indexOf(b.id)).toBeLessThan(ids.indexOf(a.id));
      for (const item of all.json.items) expectServerRecord(item);

      const page = await api.call("GET", "/api/servers?limit=1");
      expect(page.json.items).toHaveLength(1);
      expect(typeof page.json.next_cursor).toBe("string");
      const next = await api.call("GET", `/api/servers?limit=1&cursor=${page.json.next_cursor}`);
      expect(next.status).toBe(200);
      expect(next.json.items[0].id).not.toBe(page.json.items[0].id);

      const anonymous = await api.call("GET", "/api/servers", { as: "nobody" });
      expectError(anonymous, 401, "unauthenticated");
      expect(anonymous.json.error.details).toBeNull();
      expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer /);
      const badToken = await api.call("GET", "/api/servers", {
        as: "nobody",
        headers: { authorization: "Bearer not-the-token" },
      });
      expectError(badToken, 401, "unauthenticated");
    });

    it("422 names a bad query parameter", async () => {
      expectInvalid(await api.call("GET", "/api/servers?limit=0"), "limit");
      expectInvalid(await api.call("GET", "/api/servers?limit=101"), "limit");
      expectInvalid(await api.call("GET", "/api/servers?cursor=not%20a%20cursor"), "cursor");
      expectInvalid(await api.call("GET", "/api/servers?color=blue"), "color", /unknown field/);
    });
  });

  describe("POST /api/servers", () => {
    it("creates a host/port server without echoing its password, and audits it", async () => {
      const server = await addTestServer(api, "host and port");
      expectServerRecord(server);
      expect(server).toMatchObject({
        name: "host and port",
        host: m().host,
        port: m().port,
        username: m().username,
        auth_source: "admin",
        tls: false,
        replica_set: null,
        options: {},
        connection_string: null,
        has_password: true,
        last_test: null,
      });
      expect(await api.deps.secrets.get(server.id)).toBe(m().password);
      const got = await api.call("GET", `/api/servers/${server.id}`, { as: "viewer" });
      expect(got.status).toBe(200);
      expect(got.json).toEqual(server);
      await expectAudit(api, server.id, "server.create");
      const [entry] = await auditOf(api, server.id);
      expect(entry?.details).toMatchObject({ name: "host and port" });
    });

    it("moves a connection string's password to the secret store; it never comes back", async () => {
      const { host, port, username } = m();
      const uri = `mongodb://${encodeURIComponent(username)}:${encodeURIComponent(uriPassword)}@${host}:${port}/?authSource=admin&replicaSet=rs0`;
      const created = await api.call("POST", "/api/servers", {
        body: { name: "by uri", connection_string: uri },
      });
      expect(created.status, created.text).toBe(201);
      expectServerRecord(created.json);
      expect(created.json).toMatchObject({
        host,
        port,
        username,
        auth_source: "admin",
        replica_set: "rs0",
        has_password: true,
      });
      expect(created.json.connection_string).toMatch(/^mongodb:\/\//);
      expect(created.json.connection_string).not.toContain(uriPassword);
      expect(created.json.connection_string).not.toContain(encodeURIComponent(uriPassword));
      expect(created.json.connection_string).not.toMatch(/:[^/@]*@/); // no user:password@
      expect(await api.deps.secrets.get(created.json.id)).toBe(uriPassword);
      const stored = await api.deps.store.servers.get(created.json.id);
      expect(JSON.stringify(stored)).not.toContain(uriPassword);
      // (call() also fails on any reply holding uriPassword)
      await api.call("GET", `/api/servers/${created.json.id}`);
      await api.call("GET", "/api/servers?limit=100");
      await expectAudit(api, created.json.id, "server.create");
      const audit = await auditOf(api, created.json.id);
      expect(JSON.stringify(audit)).not.toContain(uriPassword);
    });

    it("a connection string with the real password connects through the stored secret", async () => {
      const { host, port, username, password } = m();
      const uri = `mongodb://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${host}:${port}/?authSource=admin`;
      const created = await api.call("POST", "/api/servers", {
        body: { name: "uri ok", connection_string: uri },
      });
      expect(created.status, created.text).toBe(201);
      expect(created.json.connection_string).not.toContain(encodeURIComponent(password));
      const test = await api.call("POST", `/api/servers/${created.json.id}/test`);
      expect(test.json, test.text).toMatchObject({ ok: true, kind: null, message: null });
    });

    it("403 for a viewer, and nothing is stored", async () => {
      const before = await api.snapshot();
      const reply = await api.call("POST", "/api/servers", {
        as: "viewer",
        body: { name: "nope", host: "db.example.internal" },
      });
      expectError(reply, 403, "forbidden");
      expectError(
        await api.call("POST", "/api/servers", { as: "nobody", body: { name: "x", host: "h" } }),
        401,
        "unauthenticated",
      );
      expect(await api.snapshot()).toEqual(before);
    });

    it("422 names the field; 400 for malformed JSON; nothing is stored", async () => {
      const before = await api.snapshot();
      const post = (body: unknown) => api.call("POST", "/api/servers", { body });
      expectInvalid(await post({ host: "h" }), "name");
      expectInvalid(await post({ name: "", host: "h" }), "name");
      expectInvalid(await post({ name: "x" }), "host", /host \(or connection_string\) is required/);
      expectInvalid(await post({ name: "x", host: "h", port: 70000 }), "port");
      expectInvalid(await post({ name: "x", host: "h", port: "27017" }), "port");
      expectInvalid(await post({ name: "x", host: "bad host/name" }), "host");
      expectInvalid(await post({ name: "x", host: "h", color: "blue" }), "color", /unknown field: color/);
      expectInvalid(await post({ name: "x", connection_string: "http://h" }), "connection_string");
      expectInvalid(
        await post({ name: "x", host: "h", connection_string: "mongodb://h/" }),
        "connection_string",
        /not both/,
      );
      expectInvalid(await post({ name: "x", host: "h", options: { password: "p" } }), "options");
      expectInvalid(await post({ name: "x", host: "h", options: { proxyPassword: "p" } }), "options");
      expectInvalid(
        await post({ name: "x", connection_string: "mongodb://h/?proxyPassword=s3cret" }),
        "connection_string",
        /credentials in the query/,
      );
      expectInvalid(await post({ name: "x", host: "h", password: "" }), "password");
      expectInvalid(await post({ name: "line\nbreak", host: "h" }), "name");
      expectInvalid(await post([]), "body");

      const noType = await api.call("POST", "/api/servers", { body: '{"name":"x","host":"h"}' });
      expectError(noType, 415, "unsupported_media_type");
      const tooBig = await post({ name: "x".repeat(300_000), host: "h" });
      expectError(tooBig, 413, "payload_too_large");
      const bad = await api.call("POST", "/api/servers", malformed);
      expectError(bad, 400, "malformed_request");
      expect(bad.json.error.message).toMatch(/not valid JSON/);
      expect(await api.snapshot()).toEqual(before);
    });
  });

  describe("GET /api/servers/{id}", () => {
    it("404 for an unknown id, to viewers as to operators", async () => {
      const reply = await api.call("GET", `/api/servers/${unknownId}`, { as: "viewer" });
      expectError(reply, 404, "not_found");
      expect(reply.json.error.details).toEqual({ entity: "server", id: unknownId });
      expectError(
        await api.call("GET", `/api/servers/${unknownId}`, { as: "nobody" }),
        401,
        "unauthenticated",
      );
      expectInvalid(await api.call("GET", `/api/servers/${"x".repeat(65)}`), "id");
    });
  });

  describe("PUT /api/servers/{id}", () => {
    it("updates the fields present, audits with the field names, and clears last_test", async () => {
      const server = await addTestServer(api, "to update");
      await api.call("POST", `/api/servers/${server.id}/test`);
      const reply = await api.call("PUT", `/api/servers/${server.id}`, {
        body: { name: "renamed", options: { readPreference: "secondary" } },
      });
      expect(reply.status, reply.text).toBe(200);
      expectServerRecord(reply.json);
      expect(reply.json).toMatchObject({
        id: server.id,
        name: "renamed",
        host: server.host,
        options: { readPreference: "secondary" },
        has_password: false, // options change how it is reached: the password was not re-sent, so it went
        last_test: null,
        created_at: server.created_at,
      });
      expect(reply.json.updated_at >= server.updated_at).toBe(true);
      expect((await api.call("GET", `/api/servers/${server.id}`)).json).toEqual(reply.json);
      const entries = await auditOf(api, server.id);
      expect(entries[0]).toMatchObject({
        actor: "local-operator",
        action: "server.update",
        target_id: server.id,
        outcome: "success",
        details: { fields: ["name", "options"] },
      });
    });

    it("a password change updates the secret: wrong → authentication, right → ok", async () => {
      const server = await addTestServer(api, "password change");
      const wrong = await api.call("PUT", `/api/servers/${server.id}`, { body: { password: wrongPassword } });
      expect(wrong.status, wrong.text).toBe(200);
      expect(wrong.json.has_password).toBe(true);
      expect(await api.deps.secrets.get(server.id)).toBe(wrongPassword);
      const failed = await api.call("POST", `/api/servers/${server.id}/test`);
      expect(failed.status).toBe(200);
      expect(failed.json).toMatchObject({ ok: false, kind: "authentication" });
      expect(failed.json.message).toEqual(expect.any(String));
      expect(failed.json.server.last_test).toMatchObject({ ok: false, server_version: null });
      expect(failed.json.server.last_test.error).toMatch(/^authentication: /);

      const right = await api.call("PUT", `/api/servers/${server.id}`, { body: { password: m().password } });
      expect(right.status).toBe(200);
      const ok = await api.call("POST", `/api/servers/${server.id}/test`);
      expect(ok.json).toMatchObject({ ok: true, kind: null, message: null });
      await expectAudit(api, server.id, "server.update");
      expect(JSON.stringify(await auditOf(api, server.id))).not.toContain(wrongPassword);
    });

    it("password: null removes the secret", async () => {
      const server = await addTestServer(api, "no password");
      const reply = await api.call("PUT", `/api/servers/${server.id}`, { body: { password: null } });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.json.has_password).toBe(false);
      expect(await api.deps.secrets.get(server.id)).toBeUndefined();
      // A username without a password: nothing is attempted, and the answer says what is missing.
      const test = await api.call("POST", `/api/servers/${server.id}/test`);
      expectError(test, 409, "conflict");
      expect(test.json.error.message).toMatch(/^password needed/);
    });

    it("switches between a connection string and host/port", async () => {
      const server = await addTestServer(api, "switch");
      const { host, port, username } = m();
      const toUri = await api.call("PUT", `/api/servers/${server.id}`, {
        body: {
          connection_string: `mongodb://${encodeURIComponent(username)}@${host}:${port}/?authSource=admin`,
        },
      });
      expect(toUri.status, toUri.text).toBe(200);
      expect(toUri.json.connection_string).toMatch(/^mongodb:\/\//);
      expect(toUri.json.has_password).toBe(true); // the stored password stays
      expect((await api.call("POST", `/api/servers/${server.id}/test`)).json.ok).toBe(true);
      const back = await api.call("PUT", `/api/servers/${server.id}`, { body: { connection_string: null } });
      expect(back.status).toBe(200);
      expect(back.json.connection_string).toBeNull();
    });

    // A server given by connection string connects with that URI: host/port/username/tls shown on
    // the record must be the URI's, so changing them alone is refused or applied to the URI.
    it("host/port fields of a connection-string server never contradict its URI", async () => {
      const { host, port, username } = m();
      const uri = `mongodb://${encodeURIComponent(username)}@${host}:${port}/?authSource=admin`;
      const created = await api.call("POST", "/api/servers", {
        body: { name: "uri fields", connection_string: uri },
      });
      expect(created.status, created.text).toBe(201);
      const reply = await api.call("PUT", `/api/servers/${created.json.id}`, {
        body: { port: 1, tls: true },
      });
      // Refused, naming the first such field: the URI decides them.
      expectInvalid(reply, "port", /connection_string/);
      expect((await api.call("GET", `/api/servers/${created.json.id}`)).json).toEqual(created.json);
    });

    it("404, 401, 403, 422, 400", async () => {
      const server = await addTestServer(api, "update errors");
      const put = (body: unknown, as?: "viewer" | "nobody", id = server.id) =>
        api.call("PUT", `/api/servers/${id}`, { body, ...(as ? { as } : {}) });
      const before = await api.snapshot();
      expectError(await put({ name: "x" }, undefined, unknownId), 404, "not_found");
      expectError(await put({ name: "x" }, "viewer"), 403, "forbidden");
      expectError(await put({ name: "x" }, "nobody"), 401, "unauthenticated");
      expectInvalid(await put({ port: 0 }), "port");
      expectInvalid(await put({ name: "" }), "name");
      expectInvalid(await put({ id: "other" }), "id", /unknown field/);
      expectInvalid(
        await put({ host: "h", connection_string: "mongodb://h/" }),
        "connection_string",
        /not both/,
      );
      expectInvalid(await put({ connection_string: "mongodb://" }), "connection_string");
      expectError(await api.call("PUT", `/api/servers/${server.id}`, malformed), 400, "malformed_request");
      expect(await api.snapshot()).toEqual(before);
    });
  });

  // Issue 13 item 1: a stored password only ever goes to the server it was given for.
  describe("a stored password is bound to its endpoint", () => {
    let proxy: RecordingProxy;
    beforeAll(async () => {
      proxy = await recordingProxy({ host: m().host, port: m().port });
    });
    afterAll(async () => {
      await proxy?.close();
    });
    const leaked = () => proxy.received().includes(Buffer.from(m().password));

    it("a host change without a password deletes it; what the new host receives never holds it", async () => {
      const server = await addTestServer(api, "moved");
      // The old code kept the password and let options pick PLAIN, which sends it as is.
      const plain = await api.call("PUT", `/api/servers/${server.id}`, {
        body: { host: proxy.host, port: proxy.port, options: { authMechanism: "PLAIN" } },
      });
      await api.call("POST", `/api/servers/${server.id}/test`);
      expect(leaked(), "the proxy received the old password").toBe(false);
      expectInvalid(plain, "options", /use the auth_mechanism field/);
      expectInvalid(
        await api.call("PUT", `/api/servers/${server.id}`, {
          body: { host: proxy.host, port: proxy.port, auth_mechanism: "PLAIN" },
        }),
        "auth_mechanism",
        /tls/,
      );
      expect(await api.deps.secrets.get(server.id)).toBe(m().password); // refused: nothing changed

      const moved = await api.call("PUT", `/api/servers/${server.id}`, {
        body: { host: proxy.host, port: proxy.port },
      });
      expect(moved.status, moved.text).toBe(200);
      expect(moved.json).toMatchObject({ host: proxy.host, port: proxy.port, has_password: false });
      expect(await api.deps.secrets.get(server.id)).toBeUndefined();
      const test = await api.call("POST", `/api/servers/${server.id}/test`);
      expectError(test, 409, "conflict");
      expect(test.json.error.message).toMatch(/^password needed/);
      const listed = await api.call("GET", `/api/servers/${server.id}/databases`);
      expectError(listed, 409, "conflict");
      expect(leaked(), "the proxy received the old password").toBe(false);

      // Given again with the change, it is used there (the proxy is a real path to FerretDB).
      const before = proxy.connections();
      const given = await api.call("PUT", `/api/servers/${server.id}`, {
        body: { port: proxy.port, password: m().password },
      });
      expect(given.json.has_password).toBe(true);
      expect((await api.call("POST", `/api/servers/${server.id}/test`)).json).toMatchObject({ ok: true });
      expect(proxy.connections()).toBeGreaterThan(before);
    });

    it("port, tls, auth_source, auth_mechanism, replica_set, username, options and URI hosts each delete it", async () => {
      const changes: Array<Record<string, unknown>> = [
        { port: proxy.port },
        { tls: true },
        { auth_source: "other" },
        { auth_mechanism: "SCRAM-SHA-1" },
        { replica_set: "rs9" },
        { username: "someone-else" },
        { options: { appName: "x" } },
        {
          connection_string: `mongodb://${encodeURIComponent(m().username)}@${m().host}:${m().port},${proxy.host}:${proxy.port}/?authSource=admin`,
        },
      ];
      for (const body of changes) {
        const server = await addTestServer(api, "endpoint change");
        const reply = await api.call("PUT", `/api/servers/${server.id}`, { body });
        expect(reply.status, `${JSON.stringify(body)}: ${reply.text}`).toBe(200);
        expect(reply.json.has_password, JSON.stringify(body)).toBe(false);
        expect(await api.deps.secrets.get(server.id), JSON.stringify(body)).toBeUndefined();
      }
    });

    it("a rename, a re-sent unchanged form, or a change that brings its password keeps or replaces it", async () => {
      const server = await addTestServer(api, "kept");
      const renamed = await api.call("PUT", `/api/servers/${server.id}`, { body: { name: "kept, renamed" } });
      expect(renamed.json.has_password).toBe(true);
      const same = await api.call("PUT", `/api/servers/${server.id}`, {
        body: {
          host: server.host,
          port: server.port,
          username: server.username,
          auth_source: "admin",
          tls: false,
        },
      });
      expect(same.status, same.text).toBe(200);
      expect(same.json.has_password).toBe(true);
      expect(await api.deps.secrets.get(server.id)).toBe(m().password);
      const uri = `mongodb://${encodeURIComponent(m().username)}:${encodeURIComponent(m().password)}@${proxy.host}:${proxy.port}/?authSource=admin`;
      const withUriPassword = await api.call("PUT", `/api/servers/${server.id}`, {
        body: { connection_string: uri },
      });
      expect(withUriPassword.json.has_password).toBe(true);
      expect((await api.call("POST", `/api/servers/${server.id}/test`)).json).toMatchObject({ ok: true });
    });

    it("options may not override a first-class field or weaken TLS: 422 naming the field to use", async () => {
      const server = await addTestServer(api, "options refused");
      const before = await api.snapshot();
      const cases: Array<[Record<string, string>, string]> = [
        [{ tls: "false" }, "tls"],
        [{ ssl: "false" }, "tls"],
        [{ tlsInsecure: "true" }, "tls"],
        [{ tlsAllowInvalidCertificates: "true" }, "tls"],
        [{ tlsAllowInvalidHostnames: "true" }, "tls"],
        [{ authSource: "x" }, "auth_source"],
        [{ replicaSet: "x" }, "replica_set"],
        [{ authMechanism: "MONGODB-AWS" }, "auth_mechanism"],
      ];
      for (const [options, instead] of cases) {
        const put = await api.call("PUT", `/api/servers/${server.id}`, { body: { options } });
        expectInvalid(put, "options", new RegExp(`use the ${instead} field`));
        const post = await api.call("POST", "/api/servers", {
          body: { name: "refused", host: "db.example.com", options },
        });
        expectInvalid(post, "options", new RegExp(`use the ${instead} field`));
      }
      expectInvalid(
        await api.call("POST", "/api/servers", {
          body: { name: "refused", connection_string: "mongodb://db.example.com/?tls=true&tlsInsecure=true" },
        }),
        "connection_string",
        /tlsInsecure/,
      );
      expect(await api.snapshot()).toEqual(before);
    });

    it("MONGODB-AWS only as the record's auth_mechanism; PLAIN only with tls", async () => {
      const aws = await api.call("POST", "/api/servers", {
        body: { name: "aws auth", host: "db.example.com", auth_mechanism: "MONGODB-AWS", tls: true },
      });
      expect(aws.status, aws.text).toBe(201);
      expect(aws.json.auth_mechanism).toBe("MONGODB-AWS");
      const plain = await api.call("POST", "/api/servers", {
        body: {
          name: "ldap",
          host: "db.example.com",
          username: "u",
          password: "pw-ldap",
          auth_mechanism: "PLAIN",
        },
      });
      expectInvalid(plain, "auth_mechanism", /tls/);
      const viaUri = await api.call("POST", "/api/servers", {
        body: { name: "ldap uri", connection_string: "mongodb://u@db.example.com/?authMechanism=PLAIN" },
      });
      expectInvalid(viaUri, "connection_string", /tls/);
      const plainTls = await api.call("POST", "/api/servers", {
        body: { name: "ldap tls", host: "db.example.com", auth_mechanism: "PLAIN", tls: true },
      });
      expect(plainTls.status, plainTls.text).toBe(201);
      expectInvalid(
        await api.call("POST", "/api/servers", {
          body: { name: "x509", host: "db.example.com", auth_mechanism: "MONGODB-X509" },
        }),
        "auth_mechanism",
      );
    });
  });

  describe("DELETE /api/servers/{id}", () => {
    async function serverWithBackup(status: "completed" | "running" | "queued" = "completed") {
      const server = await addTestServer(api, `to delete (${status})`);
      const blobKey = `servers/${server.id}/${uniqueName("backup")}.archive.gz`;
      await api.deps.blobs.upload(blobKey, Readable.from([Buffer.from("archive bytes")]));
      const backup = await api.deps.store.backups.create(
        makeBackup({ server_id: server.id, database: dbName, status, blob_key: blobKey, size_bytes: 13 }),
      );
      return { server, backup, blobKey };
    }

    it("keeps the server's backups by default; removes its secret, databases and schedules", async () => {
      const { server, backup, blobKey } = await serverWithBackup();
      const sync = await api.call("POST", "/api/databases/sync", { body: { server_id: server.id } });
      expect(sync.status, sync.text).toBe(200);
      const schedule = await api.call("POST", "/api/schedules", {
        body: { name: "scoped", cron_expression: "0 3 * * *", server_id: server.id },
      });
      expect(schedule.status, schedule.text).toBe(201);

      const reply = await api.call("DELETE", `/api/servers/${server.id}`);
      expect(reply.status, reply.text).toBe(200);
      expect(reply.json).toEqual({ deleted: server.id, deleted_backups: 0 });
      expectError(await api.call("GET", `/api/servers/${server.id}`), 404, "not_found");
      expect(await api.deps.store.backups.get(backup.id)).toMatchObject({ id: backup.id });
      expect(await api.deps.blobs.head(blobKey)).toBeDefined();
      expect(await api.deps.secrets.get(server.id)).toBeUndefined();
      const dbs = await api.call("GET", `/api/databases?server_id=${server.id}`);
      expect(dbs.json.items).toEqual([]);
      expectError(await api.call("GET", `/api/schedules/${schedule.json.id}`), 404, "not_found");
      const entries = await auditOf(api, server.id);
      expect(entries[0]).toMatchObject({
        actor: "local-operator",
        action: "server.delete",
        target_id: server.id,
        outcome: "success",
        details: { delete_backups: false },
      });
      expectError(await api.call("DELETE", `/api/servers/${server.id}`), 404, "not_found");
    });

    it("?delete_backups=true deletes the backups and their archives", async () => {
      const { server, backup, blobKey } = await serverWithBackup();
      const reply = await api.call("DELETE", `/api/servers/${server.id}?delete_backups=true`);
      expect(reply.status, reply.text).toBe(200);
      expect(reply.json).toEqual({ deleted: server.id, deleted_backups: 1 });
      expect(await api.deps.store.backups.get(backup.id)).toBeUndefined();
      expect(await api.deps.blobs.head(blobKey)).toBeUndefined();
      await expectAudit(api, server.id, "server.delete");
    });

    // A refusal changed nothing, so it leaves nothing behind: not even an audit entry.
    it("409 while a backup runs or waits; nothing is deleted or written", async () => {
      for (const status of ["running", "queued"] as const) {
        const { server, backup } = await serverWithBackup(status);
        const before = await api.snapshot();
        const reply = await api.call("DELETE", `/api/servers/${server.id}?delete_backups=true`);
        expectError(reply, 409, "conflict");
        expect(reply.json.error.message).toContain(status);
        expect((await api.call("GET", `/api/servers/${server.id}`)).status).toBe(200);
        expect(await api.deps.store.backups.get(backup.id)).toBeDefined();
        expect(await api.deps.secrets.get(server.id)).toBe(m().password);
        expect(await api.snapshot()).toEqual(before);
      }
    });

    it("409 while a restore of its backup runs onto another server; the archive stays", async () => {
      const { server, backup, blobKey } = await serverWithBackup();
      const other = await addTestServer(api, "restore target");
      await api.deps.store.restores.create(
        makeRestore({
          backup_id: backup.id,
          source_server_id: server.id,
          source_database: dbName,
          target_server_id: other.id,
          status: "running",
        }),
      );
      const before = await api.snapshot();
      const reply = await api.call("DELETE", `/api/servers/${server.id}?delete_backups=true`);
      expectError(reply, 409, "conflict");
      expect(reply.json.error.message).toMatch(/reads a backup of server/);
      expect(await api.deps.blobs.head(blobKey)).toBeDefined();
      expect(await api.snapshot()).toEqual(before);
    });

    it("404, 401, 403, 422", async () => {
      const server = await addTestServer(api, "delete errors");
      expectError(await api.call("DELETE", `/api/servers/${unknownId}`), 404, "not_found");
      expectError(await api.call("DELETE", `/api/servers/${server.id}`, { as: "viewer" }), 403, "forbidden");
      expectError(
        await api.call("DELETE", `/api/servers/${server.id}`, { as: "nobody" }),
        401,
        "unauthenticated",
      );
      expectInvalid(
        await api.call("DELETE", `/api/servers/${server.id}?delete_backups=yes`),
        "delete_backups",
      );
      expect((await api.call("GET", `/api/servers/${server.id}`)).status).toBe(200);
    });
  });

  describe("POST /api/servers/{id}/test", () => {
    it("ok with the server version; the verdict is kept as last_test and audited", async () => {
      const server = await addTestServer(api, "test ok");
      const reply = await api.call("POST", `/api/servers/${server.id}/test`);
      expect(reply.status, reply.text).toBe(200);
      expect(Object.keys(reply.json).sort()).toEqual(["kind", "message", "ok", "server"]);
      expect(reply.json).toMatchObject({ ok: true, kind: null, message: null });
      expectServerRecord(reply.json.server);
      expect(reply.json.server.last_test).toMatchObject({ ok: true, error: null });
      expect(reply.json.server.last_test.server_version).toMatch(/^\d+\.\d+/);
      const got = await api.call("GET", `/api/servers/${server.id}`);
      expect(got.json.last_test).toEqual(reply.json.server.last_test);
      await expectAudit(api, server.id, "server.test");
    });

    it("a closed port: ok false, kind unreachable", async () => {
      const port = await freePort();
      const created = await api.call("POST", "/api/servers", {
        body: { name: "closed port", host: "127.0.0.1", port },
      });
      expect(created.status, created.text).toBe(201);
      expect(created.json.has_password).toBe(false);
      const reply = await api.call("POST", `/api/servers/${created.json.id}/test`);
      expect(reply.status, reply.text).toBe(200);
      expect(reply.json).toMatchObject({ ok: false, kind: "unreachable" });
      expect(reply.json.message).toContain(String(port));
      expect(reply.json.server.last_test).toMatchObject({ ok: false, server_version: null });
    });

    it("404, 401, 403", async () => {
      const server = await addTestServer(api, "test errors");
      expectError(await api.call("POST", `/api/servers/${unknownId}/test`), 404, "not_found");
      expectError(
        await api.call("POST", `/api/servers/${server.id}/test`, { as: "viewer" }),
        403,
        "forbidden",
      );
      expectError(
        await api.call("POST", `/api/servers/${server.id}/test`, { as: "nobody" }),
        401,
        "unauthenticated",
      );
      expect((await api.call("GET", `/api/servers/${server.id}`)).json.last_test).toBeNull();
    });
  });

  describe("GET /api/servers/{id}/databases", () => {
    it("lists the databases live (to viewers too), storing nothing", async () => {
      const server = await addTestServer(api, "live list");
      const before = await api.snapshot();
      const reply = await api.call("GET", `/api/servers/${server.id}/databases`, { as: "viewer" });
      expect(reply.status, reply.text).toBe(200);
      expect(Object.keys(reply.json)).toEqual(["items"]);
      const mine = reply.json.items.find((d: { name: string }) => d.name === dbName);
      expect(mine).toEqual({ name: dbName, size_on_disk: expect.any(Number) });
      for (const item of reply.json.items) expect(Object.keys(item).sort()).toEqual(["name", "size_on_disk"]);
      expect(reply.json.items.map((d: { name: string }) => d.name)).not.toContain("admin");
      expect(await api.snapshot()).toEqual(before);
    });

    it("404 unknown, 401 without a token, 502 with the failure kind", async () => {
      expectError(await api.call("GET", `/api/servers/${unknownId}/databases`), 404, "not_found");
      const server = await addTestServer(api, "live list errors");
      expectError(
        await api.call("GET", `/api/servers/${server.id}/databases`, { as: "nobody" }),
        401,
        "unauthenticated",
      );
      await api.call("PUT", `/api/servers/${server.id}`, { body: { password: wrongPassword } });
      const reply = await api.call("GET", `/api/servers/${server.id}/databases`);
      expectError(reply, 502, "connection_failed");
      expect(reply.json.error.details).toEqual({ kind: "authentication" });
    });
  });

  describe("POST /api/servers/probe-databases", () => {
    it("lists the databases with ad-hoc credentials and stores nothing", async () => {
      const before = await api.snapshot();
      const { host, port, username, password } = m();
      const reply = await api.call("POST", "/api/servers/probe-databases", {
        body: { name: "probe", host, port, username, password, auth_source: "admin" },
      });
      expect(reply.status, reply.text).toBe(200);
      expect(Object.keys(reply.json)).toEqual(["items"]);
      expect(reply.json.items).toContainEqual({ name: dbName, size_on_disk: expect.any(Number) });
      const byUri = await api.call("POST", "/api/servers/probe-databases", {
        body: {
          name: "probe",
          connection_string: `mongodb://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${host}:${port}/?authSource=admin`,
        },
      });
      expect(byUri.status, byUri.text).toBe(200);
      expect(byUri.json.items.map((d: { name: string }) => d.name)).toContain(dbName);
      expect(await api.snapshot()).toEqual(before);
    });

    it("bad credentials: 502 with details.kind authentication; stores nothing", async () => {
      const before = await api.snapshot();
      const { host, port, username } = m();
      const reply = await api.call("POST", "/api/servers/probe-databases", {
        body: { name: "probe", host, port, username, password: wrongPassword, auth_source: "admin" },
      });
      expectError(reply, 502, "connection_failed");
      expect(reply.json.error.details).toEqual({ kind: "authentication" });
      expect(await api.snapshot()).toEqual(before);
    });

    it("401, 403, 422, 400", async () => {
      const { host, port } = m();
      const body = { name: "probe", host, port };
      expectError(
        await api.call("POST", "/api/servers/probe-databases", { body, as: "nobody" }),
        401,
        "unauthenticated",
      );
      expectError(
        await api.call("POST", "/api/servers/probe-databases", { body, as: "viewer" }),
        403,
        "forbidden",
      );
      expectInvalid(await api.call("POST", "/api/servers/probe-databases", { body: { name: "p" } }), "host");
      expectInvalid(
        await api.call("POST", "/api/servers/probe-databases", { body: { ...body, port: -1 } }),
        "port",
      );
      expectError(
        await api.call("POST", "/api/servers/probe-databases", malformed),
        400,
        "malformed_request",
      );
    });
  });
});
