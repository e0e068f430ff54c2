// The sample data local mode puts in its demo MongoDB, so a newcomer has something real to back up and
// restore: a small shop (`shop`) and its web analytics (`analytics`), about 5,300 documents of varied
// BSON with secondary indexes (two of them unique).
//
// Deterministic: one seeded generator, fixed dates, ObjectIds made from both, so every fill produces
// the same documents. Idempotent: each database gets an `about` document once it is complete; a
// database that has it is left alone, and one without it (absent, or a fill cut short) is completed
// with the same documents, existing ones kept (duplicate _ids are skipped, nothing is dropped).
//
// FerretDB v1 rejects Decimal128 and arrays nested directly in arrays, so neither is used; money is
// a double rounded to cents next to integer cents.
import { type Document, MongoBulkWriteError, type MongoClient, ObjectId } from "mongodb";
import { prng } from "./prng.ts";

export interface DemoDataOptions {
  /** Prepended to the database names (`<prefix>shop`, `<prefix>analytics`); for tests sharing a server. */
  prefix?: string;
}

export interface DemoDataResult {
  /** database name (with prefix) -> collection -> number of documents now in it. */
  databases: Record<string, Record<string, number>>;
  /** Whether this call inserted anything (false when both databases were already complete). */
  filled: boolean;
}

/** Bumped when the data set changes; recorded in each database's `about` document. */
const demoDataVersion = 1;

const MARKER_COLLECTION = "about";
const MARKER_ID = "mongo-backup-manager-demo";
const BATCH = 1000;

/** The demo databases and their collections (each database also has the one-document `about`). */
export const demoCollections = {
  shop: ["customers", "products", "orders", "reviews"],
  analytics: ["events", "daily_rollups"],
} as const;

export const demoDataSize = {
  customers: 500,
  products: 120,
  orders: 1500,
  reviews: 600,
  events: 2500,
  days: 90,
};

interface IndexSpec {
  key: Record<string, 1 | -1>;
  name: string;
  unique?: boolean;
}

interface DemoDatabase {
  name: "shop" | "analytics";
  description: string;
  collections: Record<string, Document[]>;
  indexes: Record<string, IndexSpec[]>;
}

/** Helpers over one seeded mulberry32 stream (./prng.ts): the same on every machine. */
function generator(seed: number) {
  const next = prng(seed);
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const chance = (p: number) => next() < p;
  const money = (min: number, max: number) => Math.round((min + next() * (max - min)) * 100) / 100;
  const hex = (bytes: number) =>
    Array.from({ length: bytes }, () => int(0, 255).toString(16).padStart(2, "0")).join("");
  /** An ObjectId whose timestamp is `at`, the rest from the generator. */
  const objectId = (at: Date) =>
    new ObjectId(
      Math.floor(at.getTime() / 1000)
        .toString(16)
        .padStart(8, "0") + hex(8),
    );
  return { next, int, pick, chance, money, hex, objectId };
}

const words = (list: string) => list.split("|");

const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);
const ANALYTICS_START = Date.UTC(2025, 0, 1);

const firstNames = words(
  "Ava|Liam|Zoë|Łukasz|José|Mei|Ingrid|Olu|Priya|Mateo|Sofia|Ярослав|Hana|Noah|Aoife|Ægir",
);
const lastNames = words(
  "Smith|García|Nowak|Müller|Rossi|Tanaka|O'Brien|Silva|Dubois|Nguyen|Okafor|Patel|山田|Ben Ali",
);
const cities = [
  { city: "Lisbon", country: "PT" },
  { city: "Oslo", country: "NO" },
  { city: "Tokyo", country: "JP" },
  { city: "Toronto", country: "CA" },
  { city: "Berlin", country: "DE" },
  { city: "Austin", country: "US" },
  { city: "Nairobi", country: "KE" },
  { city: "São Paulo", country: "BR" },
  { city: "Kraków", country: "PL" },
  { city: "Melbourne", country: "AU" },
] as const;
const streets = ["Main St", "Rua Augusta", "Karl Johans gate", "Queen St W", "Unter den Linden", "Elm Ave"];
const categories = [
  "books",
  "kitchen",
  "garden",
  "toys",
  "audio",
  "outdoor",
  "stationery",
  "lighting",
] as const;
const adjectives = ["Classic", "Compact", "Deluxe", "Eco", "Smart", "Vintage", "Ultra", "Handmade", "Travel"];
const nouns: Record<(typeof categories)[number], readonly string[]> = {
  books: ["Cookbook", "Field Guide", "Atlas", "Novel", "Sketchbook"],
  kitchen: ["Kettle", "Knife Set", "Teapot", "Grinder", "Skillet"],
  garden: ["Trowel", "Planter", "Hose", "Seed Kit", "Pruner"],
  toys: ["Puzzle", "Kite", "Robot Kit", "Board Game", "Yo-yo"],
  audio: ["Headphones", "Speaker", "Turntable", "Radio", "Earbuds"],
  outdoor: ["Tent", "Lantern", "Backpack", "Hammock", "Water Bottle"],
  stationery: ["Notebook", "Fountain Pen", "Planner", "Pencil Case", "Stamp Set"],
  lighting: ["Desk Lamp", "String Lights", "Floor Lamp", "Night Light", "Candle"],
};
const colors = ["black", "white", "red", "sage", "navy", "oak", "copper", null] as const;
const sizes = ["S", "M", "L", "XL", null] as const;
const orderStatuses = [
  "pending",
  "paid",
  "shipped",
  "delivered",
  "delivered",
  "delivered",
  "cancelled",
  "refunded",
];
const paymentMethods = ["card", "card", "card", "paypal", "bank_transfer", "gift_card"] as const;
const reviewTitles = [
  "Exactly as described",
  "Great value",
  "Not what I expected",
  "Would buy again",
  "Broke after a week",
  "Lovely quality — très bien",
  "Fast delivery 🚚",
  "Meh",
];
const reviewPhrases = [
  "The packaging was nice.",
  "Works well for everyday use.",
  "Colour is slightly different from the photos.",
  "My kids love it.",
  "Instructions were confusing.",
  "Sturdy and well made.",
  "Arrived a day late, but fine.",
  "Five stars from me!",
];
const eventTypes = [
  "page_view",
  "page_view",
  "page_view",
  "search",
  "add_to_cart",
  "checkout",
  "purchase",
] as const;
const pages = ["/", "/products", "/products/:sku", "/cart", "/checkout", "/account", "/help"];
const referrers = ["https://www.google.com/", "https://news.ycombinator.com/", "https://t.co/", null, null];
const searches = ["lamp", "gift for dad", "tent 4 person", "kettle", "fountain pen", "puzzle 1000", "café"];
const browsers = ["Firefox", "Chrome", "Safari", "Edge"] as const;
const systems = ["Linux", "Windows", "macOS", "iOS", "Android"] as const;

/** Builds the whole data set. Pure: the same output every time. */
export function buildDemoData(): DemoDatabase[] {
  const g = generator(20240101);
  const size = demoDataSize;

  const customers = Array.from({ length: size.customers }, (_, i) => {
    const created = new Date(START + i * 0.7 * DAY + g.int(0, DAY - 1));
    const first = g.pick(firstNames);
    const last = g.pick(lastNames);
    const home = g.pick(cities);
    const addresses = [
      {
        kind: "shipping",
        street: `${g.int(1, 250)} ${g.pick(streets)}`,
        city: home.city,
        country: home.country,
        postcode: String(g.int(10000, 99999)),
      },
    ];
    if (g.chance(0.3)) {
      const other = g.pick(cities);
      addresses.push({
        kind: "billing",
        street: `${g.int(1, 250)} ${g.pick(streets)}`,
        city: other.city,
        country: other.country,
        postcode: String(g.int(10000, 99999)),
      });
    }
    const points = g.int(0, 5000);
    return {
      _id: g.objectId(created),
      customer_no: 10_001 + i,
      name: { first, last },
      email: `${first.toLowerCase().replace(/[^a-z]/g, "x")}.${i}@example.com`,
      phone: g.chance(0.6) ? `+1-555-${String(g.int(0, 9999)).padStart(4, "0")}` : null,
      created_at: created,
      is_active: g.chance(0.9),
      marketing_opt_in: g.chance(0.4),
      loyalty: { tier: points > 3500 ? "gold" : points > 1500 ? "silver" : "bronze", points },
      addresses,
      tags: ["newsletter", "wholesale", "vip", "returning", "b2b"].filter(() => g.chance(0.25)),
      notes: g.chance(0.1) ? "Prefers delivery after 5pm." : null,
    };
  });

  const products = Array.from({ length: size.products }, (_, i) => {
    const category = g.pick(categories);
    const price = g.money(3, 250);
    const created = new Date(START - 200 * DAY + i * DAY);
    const ratingCount = g.int(0, 300);
    return {
      _id: `SKU-${String(i + 1).padStart(5, "0")}`,
      name: `${g.pick(adjectives)} ${g.pick(nouns[category])}`,
      category,
      price,
      price_cents: Math.round(price * 100),
      currency: "EUR",
      in_stock: g.chance(0.85),
      stock: g.int(0, 400),
      attributes: { color: g.pick(colors), size: g.pick(sizes), weight_g: g.int(20, 12_000) },
      tags: ["new", "sale", "bestseller", "eco", "gift"].filter(() => g.chance(0.2)),
      rating: { average: ratingCount ? Math.round((1 + g.next() * 4) * 10) / 10 : null, count: ratingCount },
      created_at: created,
      discontinued_at: g.chance(0.08) ? new Date(created.getTime() + g.int(30, 400) * DAY) : null,
    };
  });

  const orders = Array.from({ length: size.orders }, (_, i) => {
    const placed = new Date(START + 30 * DAY + i * 0.2 * DAY + g.int(0, DAY / 5));
    // A customer who had signed up by then.
    const signedUp = Math.min(customers.length, Math.floor((placed.getTime() - START) / (0.7 * DAY)));
    const customer = customers[g.int(0, signedUp - 1)] as (typeof customers)[number];
    const items = Array.from({ length: g.int(1, 5) }, () => {
      const product = g.pick(products);
      const qty = g.int(1, 4);
      return {
        sku: product._id,
        name: product.name,
        qty,
        unit_price: product.price,
        line_total: Math.round(product.price * qty * 100) / 100,
        options: { color: product.attributes.color, gift_wrap: g.chance(0.1) },
      };
    });
    const subtotal = Math.round(items.reduce((s, it) => s + it.line_total, 0) * 100) / 100;
    const shipping = subtotal > 100 ? 0 : 4.95;
    const tax = Math.round(subtotal * 0.2 * 100) / 100;
    const status = g.pick(orderStatuses);
    const address = customer.addresses[0];
    return {
      _id: g.objectId(placed),
      order_no: 500_001 + i,
      customer_id: customer._id,
      placed_at: placed,
      status,
      items,
      item_count: items.reduce((s, it) => s + it.qty, 0),
      totals: { subtotal, shipping, tax, total: Math.round((subtotal + shipping + tax) * 100) / 100 },
      shipping_address: address ? { city: address.city, country: address.country } : null,
      payment: {
        method: g.pick(paymentMethods),
        paid_at: status === "pending" ? null : new Date(placed.getTime() + g.int(1, 3600) * 1000),
      },
      coupon: g.chance(0.15) ? g.pick(["WELCOME10", "SPRING24", "FREESHIP"]) : null,
      is_gift: g.chance(0.1),
    };
  });

  const reviews = Array.from({ length: size.reviews }, (_, i) => {
    const order = g.pick(orders);
    const item = g.pick(order.items);
    const at = new Date(order.placed_at.getTime() + g.int(2, 60) * DAY);
    const rating = g.int(1, 5);
    return {
      _id: g.objectId(at),
      product_id: item?.sku ?? "SKU-00001",
      customer_id: order.customer_id,
      order_id: order._id,
      rating,
      title: g.pick(reviewTitles),
      body: Array.from({ length: g.int(1, 4) }, () => g.pick(reviewPhrases)).join(" "),
      created_at: at,
      verified_purchase: i % 7 !== 0,
      helpful_votes: g.int(0, 40),
      response:
        rating <= 2 && g.chance(0.6)
          ? {
              by: "Support team",
              text: "Sorry to hear that — we have sent you a replacement.",
              at: new Date(at.getTime() + DAY),
            }
          : null,
    };
  });

  const events = Array.from({ length: size.events }, (_, i) => {
    const at = new Date(ANALYTICS_START + i * ((size.days * DAY) / size.events) + g.int(0, 60_000));
    const type = g.pick(eventTypes);
    const customer = g.chance(0.55) ? g.pick(customers) : null;
    const product = g.pick(products);
    const properties: Document =
      type === "search"
        ? { query: g.pick(searches), results: g.int(0, 48) }
        : type === "page_view"
          ? { scroll_depth: Math.round(g.next() * 100) / 100 }
          : type === "purchase"
            ? { order_total: g.money(5, 600), items: g.int(1, 6), currency: "EUR" }
            : { sku: product._id, price: product.price };
    const mobile = g.chance(0.45);
    return {
      _id: g.objectId(at),
      type,
      at,
      session_id: `s-${g.hex(6)}`,
      customer_id: customer ? customer._id : null,
      page: { path: g.pick(pages).replace(":sku", product._id), referrer: g.pick(referrers) },
      device: {
        os: g.pick(mobile ? systems.slice(3) : systems.slice(0, 3)),
        browser: g.pick(browsers),
        mobile,
      },
      duration_ms: g.int(50, 120_000),
      properties,
    };
  });

  const dailyRollups = Array.from({ length: size.days }, (_, d) => {
    const date = new Date(ANALYTICS_START + d * DAY);
    const pageViews = g.int(800, 4000);
    const visitors = Math.round(pageViews / (1.5 + g.next() * 2));
    const orderCount = g.int(5, 80);
    const revenue = g.money(orderCount * 20, orderCount * 90);
    const mobile = g.int(30, 60);
    return {
      _id: date.toISOString().slice(0, 10),
      date,
      page_views: pageViews,
      unique_visitors: visitors,
      orders: orderCount,
      revenue,
      conversion_rate: Math.round((orderCount / visitors) * 10_000) / 10_000,
      top_products: Array.from({ length: 3 }, (_, k) => ({
        rank: k + 1,
        sku: g.pick(products)._id,
        units: g.int(3, 40),
      })),
      by_device: { desktop: 100 - mobile - 5, mobile, tablet: 5 },
      is_weekend: [0, 6].includes(date.getUTCDay()),
      notes: d % 30 === 0 ? "Monthly newsletter sent" : null,
    };
  });

  return [
    {
      name: "shop",
      description: "An online shop: customers, products, orders with their line items, and product reviews.",
      collections: { customers, products, orders, reviews },
      indexes: {
        customers: [{ key: { email: 1 }, name: "email_unique", unique: true }],
        orders: [
          { key: { order_no: 1 }, name: "order_no_unique", unique: true },
          { key: { customer_id: 1, placed_at: -1 }, name: "customer_recent_orders" },
        ],
        products: [{ key: { category: 1, price: 1 }, name: "category_price" }],
        reviews: [{ key: { product_id: 1, rating: -1 }, name: "product_rating" }],
      },
    },
    {
      name: "analytics",
      description: "The shop's web analytics: raw events and one rollup document per day.",
      collections: { events, daily_rollups: dailyRollups },
      indexes: {
        events: [
          { key: { type: 1, at: -1 }, name: "type_at" },
          { key: { session_id: 1 }, name: "session" },
        ],
      },
    },
  ];
}

/** Inserts `docs`, skipping those whose _id is already there (a fill that was cut short). */
async function insertMissing(client: MongoClient, db: string, collection: string, docs: Document[]) {
  const coll = client.db(db).collection(collection);
  for (let start = 0; start < docs.length; start += BATCH) {
    try {
      await coll.insertMany(docs.slice(start, start + BATCH), { ordered: false });
    } catch (error) {
      const duplicatesOnly =
        error instanceof MongoBulkWriteError &&
        Object.values(error.writeErrors ?? {}).every((e) => e.code === 11000);
      if (!duplicatesOnly) throw error;
    }
  }
}

async function countAll(client: MongoClient, db: string, collections: string[]) {
  const counts = await Promise.all(
    collections.map((name) => client.db(db).collection(name).countDocuments({})),
  );
  return Object.fromEntries(collections.map((name, i) => [name, counts[i] as number]));
}

/**
 * Fills the demo databases `shop` and `analytics` (see the top of this file), unless they are
 * already there, and returns how many documents each collection holds.
 */
export async function fillDemoData(
  client: MongoClient,
  options: DemoDataOptions = {},
): Promise<DemoDataResult> {
  const prefix = options.prefix ?? "";
  const result: DemoDataResult = { databases: {}, filled: false };
  let data: DemoDatabase[] | undefined;
  for (const [name, names] of Object.entries(demoCollections)) {
    const dbName = `${prefix}${name}`;
    const db = client.db(dbName);
    const marker = await db.collection<{ _id: string }>(MARKER_COLLECTION).findOne({ _id: MARKER_ID });
    if (!marker) {
      data ??= buildDemoData();
      const spec = data.find((d) => d.name === name) as DemoDatabase;
      // Collections are independent: fill them side by side.
      await Promise.all(
        Object.entries(spec.collections).map(async ([collection, docs]) => {
          await insertMissing(client, dbName, collection, docs);
          for (const index of spec.indexes[collection] ?? []) {
            await db
              .collection(collection)
              .createIndex(index.key, { name: index.name, ...(index.unique ? { unique: true } : {}) });
          }
        }),
      );
      // Written last: its presence means the database is complete.
      await db.collection<{ _id: string } & Document>(MARKER_COLLECTION).replaceOne(
        { _id: MARKER_ID },
        {
          _id: MARKER_ID,
          version: demoDataVersion,
          description: spec.description,
          note: "Sample data created by mongo-backup-manager's local mode. Back it up, change or drop it, restore it.",
          collections: Object.fromEntries(
            Object.entries(spec.collections).map(([c, docs]) => [c, docs.length]),
          ),
        },
        { upsert: true },
      );
      result.filled = true;
    }
    result.databases[dbName] = await countAll(client, dbName, [...names, MARKER_COLLECTION]);
  }
  return result;
}
