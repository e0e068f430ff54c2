// An HTTP server on a free loopback port, listening before it has a handler: tests that wire several
// servers to each other (each one's config names the others' origins) open them all first, then
// attach the handlers. Port 0 lets the kernel pick, so nothing can take the port in between.
import { createServer, type RequestListener, type Server } from "node:http";

export interface LoopbackServer {
  /** http://127.0.0.1:<port>, no trailing slash. */
  origin: string;
  server: Server;
  /** Starts answering requests; until then they wait. */
  handle(listener: RequestListener): void;
  close(): Promise<void>;
}

export async function listenOnLoopback(): Promise<LoopbackServer> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  let pending: Array<Parameters<RequestListener>> = [];
  let listener: RequestListener | undefined;
  server.on("request", (req, res) => {
    if (listener) listener(req, res);
    else pending.push([req, res]);
  });
  return {
    origin: `http://127.0.0.1:${address.port}`,
    server,
    handle(next) {
      listener = next;
      for (const [req, res] of pending) next(req, res);
      pending = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        // The browser keeps connections alive; close them so close() does not wait for its timeout.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
