// The data the benchmark backs up: order-like documents of about 4.4 KiB of BSON each, made from a
// seeded generator so every run (and both sizes) holds the same kind of bytes. Their mix (field
// names, a vocabulary of words, numbers, dates, an incompressible id and token) compresses like
// text-heavy application data, so codec ratios mean something. Why 4.4 KiB: FerretDB (the test
// server) spends its time per document, so at 1 KiB it dumps about 2 MB/s and a 10x data set
// would take too long to dump several times; at 4.4 KiB it dumps about 9 MB/s.
import { Binary, BSON, type Document, Int32, type MongoClient, ObjectId } from "mongodb";
import { prng } from "../../scripts/prng.ts";

const words =
  "order shipped delayed customer refund priority standard express warehouse invoice paid pending review fragile gift return exchange bundle discount loyalty coupon tracking carrier parcel signature weekend morning evening address changed contact requested support ticket resolved".split(
    " ",
  );
const cities = ["Lisbon", "Oslo", "Tokyo", "Lagos", "Lima", "Perth", "Quebec", "Seoul", "Turin", "Austin"];
const statuses = ["new", "paid", "packed", "shipped", "delivered", "returned"];

/** One document; `i` makes it unique, `random` varies its contents. */
export function orderDocument(i: number, random: () => number): Document {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const token = Buffer.alloc(48);
  for (let k = 0; k < token.length; k += 4) token.writeUInt32LE((random() * 2 ** 32) >>> 0, k);
  const lineCount = 1 + Math.floor(random() * 6);
  return {
    _id: ObjectId.createFromTime(1_700_000_000 + i),
    seq: i,
    customer: {
      name: `Customer ${Math.floor(random() * 50_000)}`,
      email: `c${Math.floor(random() * 50_000)}@example.com`,
      city: pick(cities),
      zip: String(10_000 + Math.floor(random() * 89_999)),
    },
    status: pick(statuses),
    placed_at: new Date(Date.UTC(2024, 0, 1) + Math.floor(random() * 3e10)),
    lines: Array.from({ length: lineCount }, () => ({
      sku: `SKU-${Math.floor(random() * 5000)}`,
      qty: new Int32(1 + Math.floor(random() * 5)),
      price_cents: new Int32(Math.floor(random() * 100_000)),
    })),
    notes: Array.from({ length: 300 + Math.floor(random() * 400) }, () => pick(words)).join(" "),
    token: new Binary(token),
  };
}

const collections = ["orders_a", "orders_b", "orders_c", "orders_d"];

/**
 * Fills `dbName` (dropped first) with `mib` MiB of BSON documents spread over 4 collections,
 * inserted in batches of 1000; returns the number of documents and their exact BSON bytes.
 */
export async function seedDatabase(
  client: MongoClient,
  dbName: string,
  mib: number,
): Promise<{ documents: number; bytes: number }> {
  const db = client.db(dbName);
  await db.dropDatabase();
  const perCollection = (mib * 1024 * 1024) / collections.length;
  const random = prng(42);
  let documents = 0;
  let bytes = 0;
  for (const name of collections) {
    let filled = 0;
    while (filled < perCollection) {
      const docs: Document[] = [];
      while (docs.length < 1000 && filled < perCollection) {
        const doc = orderDocument(documents++, random);
        filled += BSON.calculateObjectSize(doc);
        docs.push(doc);
      }
      await db.collection(name).insertMany(docs, { ordered: false });
    }
    bytes += filled;
  }
  await db.collection("orders_a").createIndex({ status: 1, placed_at: -1 });
  return { documents, bytes };
}
