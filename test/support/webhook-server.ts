// A real HTTP server on loopback that records webhook deliveries and answers with a chosen status.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Delivery {
  /** performance.now() on arrival: monotonic, so gaps stay true when the wall clock is stepped. */
  at: number;
  path: string;
  body: Record<string, unknown>;
}

export interface WebhookServer {
  url: string;
  deliveries: Delivery[];
  /** Status for the next answers (default 200). */
  respondWith(status: number): void;
  /** Resolves when `count` deliveries have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<Delivery[]>;
  close(): Promise<void>;
}

export async function startWebhookServer(): Promise<WebhookServer> {
  const deliveries: Delivery[] = [];
  let status = 200;
  const server: Server = createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8").on("data", (chunk: string) => {
      text += chunk;
    });
    req.on("end", () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = { unparsed: text };
      }
      deliveries.push({ at: performance.now(), path: req.url ?? "", body });
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "refused");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    respondWith: (s) => {
      status = s;
    },
    waitFor: async (count, timeoutMs = 20_000) => {
      const until = performance.now() + timeoutMs;
      while (deliveries.length < count) {
        if (performance.now() > until)
          throw new Error(`expected ${count} webhook deliveries, got ${deliveries.length}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return deliveries;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
