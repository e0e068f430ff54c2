// A database of varied BSON to back up and restore, and a comparison of two databases that looks
// at every document (canonical Extended JSON, so types are compared, not just values) and index.
//
// FerretDB v1 (our test server) does not support Decimal128 (it drops the connection on one) nor
// arrays nested directly in arrays, so neither is in this data set; every other common BSON type is.
// The engine streams archives as opaque bytes, so no type is special to it.
import { createHash, randomBytes } from "node:crypto";
import { Binary, BSON, Double, Int32, Long, type MongoClient, ObjectId } from "mongodb";

export const sampleCollections = ["customers", "orders", "events", "blobs", "settings"] as const;

function customer(i: number) {
  return {
    _id: new ObjectId(),
    seq: i,
    name: `Customer ${i} — ${["Zoë", "Łukasz", "Ярослав", "山田太郎", "🙂 emoji"][i % 5]}`,
    email: `customer${i}@example.com`,
    created: new Date(Date.UTC(2020, 0, 1) + i * 60_000),
    balance_cents: new Long(i * 100 + (i % 100), 0),
    visits: new Long(i * 1_000_003, 0),
    score: new Double(i / 7),
    tags: ["a", "b", "c"].slice(0, (i % 3) + 1),
    address: { city: ["Lisbon", "Oslo", "Tokyo"][i % 3], zip: String(10000 + i), geo: [i % 90, i % 180] },
  };
}

function order(i: number) {
  return {
    _id: i,
    customer_seq: i % 1000,
    lines: Array.from({ length: (i % 4) + 1 }, (_, k) => ({ sku: `SKU-${k}`, qty: new Int32(k + 1) })),
    total_cents: new Int32(((i * 3) % 10000) * 100 + 99),
    placed_at: new Date(Date.UTC(2024, 5, 1) + i * 1000),
    status: ["new", "paid", "shipped"][i % 3],
  };
}

function event(i: number) {
  return {
    _id: `evt-${String(i).padStart(6, "0")}`,
    kind: ["login", "logout", "purchase", "error"][i % 4],
    at: new Date(Date.UTC(2025, 0, 1) + i * 500),
    payload: { nested: { deeper: { level: i % 10, flags: [true, false, i % 2 === 0] } } },
    nothing: null,
  };
}

function blob(i: number) {
  const bytes = createHash("sha256").update(String(i)).digest();
  return { _id: new ObjectId(), seq: i, data: new Binary(bytes), uuid: new Binary(bytes.subarray(0, 16), 4) };
}

/** Fills `dbName` with 5 collections and `total` documents in all, plus secondary indexes. */
export async function seedSampleDatabase(client: MongoClient, dbName: string, total = 20_000): Promise<void> {
  const db = client.db(dbName);
  const per = Math.ceil(total / 4);
  const batches: Array<[string, (i: number) => Record<string, unknown>, number]> = [
    ["customers", customer, per],
    ["orders", order, per],
    ["events", event, per],
    ["blobs", blob, total - 3 * per - 10],
  ];
  for (const [name, make, count] of batches) {
    for (let start = 0; start < count; start += 2000) {
      const docs = Array.from({ length: Math.min(2000, count - start) }, (_, k) => make(start + k));
      await db.collection<Record<string, unknown>>(name).insertMany(docs, { ordered: true });
    }
  }
  await db
    .collection<{ _id: string; value: unknown }>("settings")
    .insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: `key-${i}`, value: { n: i, s: "ünïcødé" } })));
  await db.collection("customers").createIndex({ email: 1 }, { unique: true, name: "email_unique" });
  await db.collection("customers").createIndex({ "address.city": 1, created: -1 }, { name: "city_created" });
  await db.collection("orders").createIndex({ customer_seq: 1, placed_at: -1 });
  await db.collection("events").createIndex({ kind: 1 });
  await db.collection("blobs").createIndex({ seq: -1 }, { name: "seq_desc" });
}

export interface DatabaseSnapshot {
  /** collection -> canonical EJSON of every document, sorted by _id. */
  documents: Record<string, string[]>;
  /** collection -> index descriptions (name, key, unique), sorted by name. */
  indexes: Record<string, string[]>;
}

export async function snapshotDatabase(client: MongoClient, dbName: string): Promise<DatabaseSnapshot> {
  const db = client.db(dbName);
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
  const documents: Record<string, string[]> = {};
  const indexes: Record<string, string[]> = {};
  for (const name of names) {
    const docs = await db
      .collection(name)
      .find({}, { promoteLongs: false, promoteValues: false })
      .sort({ _id: 1 })
      .toArray();
    documents[name] = docs.map((d) => BSON.EJSON.stringify(d, { relaxed: false }));
    const specs = await db.collection(name).listIndexes().toArray();
    indexes[name] = specs
      .map((s) => JSON.stringify({ name: s.name, key: s.key, unique: Boolean(s.unique) }))
      .sort();
  }
  return { documents, indexes };
}

export function countDocuments(snapshot: DatabaseSnapshot): number {
  return Object.values(snapshot.documents).reduce((sum, docs) => sum + docs.length, 0);
}

/** A database of incompressible binary documents, `mib` MiB in all: enough for multipart uploads. */
export async function seedBulkDatabase(client: MongoClient, dbName: string, mib = 12): Promise<void> {
  const docs = Array.from({ length: mib * 16 }, (_, i) => ({
    _id: i,
    data: new Binary(randomBytes(64 * 1024)),
  }));
  for (let i = 0; i < docs.length; i += 32)
    await client
      .db(dbName)
      .collection<{ _id: number; data: Binary }>("bulk")
      .insertMany(docs.slice(i, i + 32));
}
