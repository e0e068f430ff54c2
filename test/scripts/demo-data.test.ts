// Local mode's demo MongoDB: the sample data (into the shared test FerretDB, under a unique prefix)
// and a FerretDB whose PostgreSQL cluster lives in a directory and survives restarts and crashes.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BSON, MongoClient, ObjectId } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminMongoClient, uniqueName } from "#test/support/env.ts";
import { buildDemoData, demoCollections, demoDataSize, fillDemoData } from "../../scripts/demo-data.ts";
import { type RunningMongo, startFerretDb } from "../../scripts/local-servers.ts";

const serversModule = resolve(import.meta.dirname, "../../scripts/local-servers.ts");

const expected = {
  shop: {
    customers: demoDataSize.customers,
    products: demoDataSize.products,
    orders: demoDataSize.orders,
    reviews: demoDataSize.reviews,
    about: 1,
  },
  analytics: { events: demoDataSize.events, daily_rollups: demoDataSize.days, about: 1 },
};

describe("demo data", () => {
  let client: MongoClient;
  const prefix = `${uniqueName("demo").replace("-", "_")}_`;
  const shop = `${prefix}shop`;
  const analytics = `${prefix}analytics`;

  beforeAll(async () => {
    client = await adminMongoClient();
  });
  afterAll(async () => {
    await client?.db(shop).dropDatabase();
    await client?.db(analytics).dropDatabase();
    await client?.close();
  });

  it("is the same on every build", () => {
    const a = BSON.EJSON.stringify(buildDemoData(), { relaxed: false });
    expect(BSON.EJSON.stringify(buildDemoData(), { relaxed: false })).toBe(a);
    const total = Object.values(expected).reduce(
      (sum, db) => sum + Object.values(db).reduce((s, n) => s + n, 0),
      0,
    );
    expect(total).toBeGreaterThan(3_000);
    expect(Object.keys(expected.shop)).toEqual([...demoCollections.shop, "about"]);
  });

  it("fills two databases with varied documents and indexes, once", async () => {
    const first = await fillDemoData(client, { prefix });
    expect(first).toEqual({
      filled: true,
      databases: { [shop]: expected.shop, [analytics]: expected.analytics },
    });

    const order = await client.db(shop).collection("orders").findOne({ order_no: 500_001 });
    expect(order?._id).toBeInstanceOf(ObjectId);
    expect(order?.customer_id).toBeInstanceOf(ObjectId);
    expect(order?.placed_at).toBeInstanceOf(Date);
    expect(order?.items.length).toBeGreaterThan(0);
    expect(order?.items[0]).toMatchObject({ sku: expect.stringMatching(/^SKU-/), qty: expect.any(Number) });
    expect(await client.db(shop).collection("customers").countDocuments({ phone: null })).toBeGreaterThan(0);
    expect(
      await client.db(shop).collection("customers").countDocuments({ is_active: false }),
    ).toBeGreaterThan(0);
    // Orders point at real customers, reviews at real products.
    const customer = await client.db(shop).collection("customers").findOne({ _id: order?.customer_id });
    expect(customer?.email).toMatch(/@example\.com$/);
    const review = await client.db(shop).collection("reviews").findOne({});
    expect(await client.db(shop).collection("products").countDocuments({ _id: review?.product_id })).toBe(1);

    const indexes = async (db: string, coll: string) =>
      (await client.db(db).collection(coll).listIndexes().toArray())
        .map((i) => `${i.name}${i.unique ? " unique" : ""}`)
        .sort();
    expect(await indexes(shop, "customers")).toEqual(["_id_", "email_unique unique"]);
    expect(await indexes(shop, "orders")).toEqual([
      "_id_",
      "customer_recent_orders",
      "order_no_unique unique",
    ]);
    expect(await indexes(analytics, "events")).toEqual(["_id_", "session", "type_at"]);
    await expect(
      client.db(shop).collection("customers").insertOne({ email: customer?.email }),
    ).rejects.toThrow(/duplicate/i);

    // Already there: nothing inserted, even over documents the user changed.
    await client.db(shop).collection("reviews").deleteMany({ rating: 1 });
    const reviews = await client.db(shop).collection("reviews").countDocuments();
    const second = await fillDemoData(client, { prefix });
    expect(second.filled).toBe(false);
    expect(second.databases[shop]?.reviews).toBe(reviews);
    expect(second.databases[analytics]).toEqual(expected.analytics);
  });

  it("completes a fill that was cut short, without duplicates", async () => {
    // As if the fill had stopped before its marker: some documents missing, no `about`.
    await client.db(shop).collection("about").deleteMany({});
    await client
      .db(shop)
      .collection("orders")
      .deleteMany({ order_no: { $gt: 501_000 } });
    const result = await fillDemoData(client, { prefix });
    expect(result.filled).toBe(true);
    expect(result.databases[shop]?.orders).toBe(expected.shop.orders);
    expect(result.databases[shop]?.about).toBe(1);
    expect(result.databases[analytics]).toEqual(expected.analytics);
  });
});

describe("startFerretDb on a persistent directory", () => {
  const dir = mkdtempSync(join(tmpdir(), "mbm-demo-"));
  const password = `pw-${uniqueName("demo")}`;
  let running: RunningMongo | undefined;

  afterAll(async () => {
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const connect = (m: RunningMongo) =>
    new MongoClient(`mongodb://${m.host}:${m.port}/?authSource=admin`, {
      auth: { username: m.username, password: m.password },
      serverSelectionTimeoutMS: 10_000,
    });
  const notes = async (m: RunningMongo) => {
    const c = connect(m);
    try {
      return (await c.db("demo").collection("notes").find().sort({ _id: 1 }).toArray()).map((d) => d.text);
    } finally {
      await c.close();
    }
  };
  const addNote = async (m: RunningMongo, _id: number, text: string) => {
    const c = connect(m);
    await c.db("demo").collection<{ _id: number; text: string }>("notes").insertOne({ _id, text });
    await c.close();
  };

  it("keeps data and the setup user across a clean restart and a crash", async () => {
    running = await startFerretDb({ dir, password });
    expect(running.created).toBe(true);
    expect(running.password).toBe(password);
    await addNote(running, 1, "before restart");
    await running.stop();
    await running.stop(); // twice is fine

    running = await startFerretDb({ dir, password });
    expect(running.created).toBe(false);
    expect(await notes(running)).toEqual(["before restart"]);
    await addNote(running, 2, "before crash");

    // PostgreSQL killed outright leaves a postmaster.pid whose process is gone.
    const pid = Number(readFileSync(join(dir, "pg", "postmaster.pid"), "utf8").split("\n")[0]);
    process.kill(pid, "SIGKILL");
    await running.stop();
    running = await startFerretDb({ dir, password });
    expect(await notes(running)).toEqual(["before restart", "before crash"]);
    await running.stop();

    // The setup user exists from the first start: another password is refused, clearly.
    running = undefined;
    await expect(startFerretDb({ dir, password: "not-the-password" })).rejects.toThrow(
      /refused the password/,
    );
    await expect(startFerretDb({ dir })).rejects.toThrow(/pass the password/);
  });

  it("starts again at once after its owner was killed without stopping it", async () => {
    // The owner (local mode) dies by SIGKILL with the servers up: they get a parent-death signal
    // and shut down, and the next start waits for that instead of failing on the cluster's lock.
    const code = `
      const { startFerretDb } = await import(${JSON.stringify(serversModule)});
      const m = await startFerretDb({ dir: ${JSON.stringify(dir)}, password: ${JSON.stringify(password)} });
      console.log(m.port);
      setInterval(() => {}, 1000);`;
    const owner = spawn(process.execPath, ["--input-type=module", "-e", code], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const port = await new Promise<number>((resolve, reject) => {
      owner.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
      owner.once("exit", (c) => reject(new Error(`owner exited with ${c}`)));
    });
    expect(port).toBeGreaterThan(0);
    owner.kill("SIGKILL");

    running = await startFerretDb({ dir, password });
    expect(await notes(running)).toEqual(["before restart", "before crash"]);
    await running.stop();
  });
});
