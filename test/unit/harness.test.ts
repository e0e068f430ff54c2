// Proves the shared servers are real and authenticated, so every other test builds on solid ground.
import { MongoClient } from "mongodb";
import { describe, expect, it } from "vitest";
import { adminMongoClient, mongoInfo } from "#test/support/env.ts";

describe("test harness", () => {
  it("FerretDB accepts the setup user and refuses a wrong password", async () => {
    const client = await adminMongoClient();
    const hello = await client.db("admin").command({ ping: 1 });
    expect(hello.ok).toBe(1);
    await client.close();

    const m = mongoInfo();
    const wrong = new MongoClient(`mongodb://${m.host}:${m.port}/?authSource=admin`, {
      auth: { username: m.username, password: "not-the-password" },
      serverSelectionTimeoutMS: 5_000,
    });
    await expect(wrong.db("admin").command({ listDatabases: 1 })).rejects.toThrow(/auth/i);
    await wrong.close();
  });
});
