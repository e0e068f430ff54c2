// A TCP proxy on 127.0.0.1 in front of a real server (the test FerretDB) that keeps every byte a
// client sends through it. The driver needs real answers to reach its authentication step, so the
// proxy forwards both ways; tests then ask whether a secret ever crossed it.
import { connect, createServer, type Server, type Socket } from "node:net";

export interface RecordingProxy {
  host: "127.0.0.1";
  port: number;
  /** How many client connections it has accepted. */
  connections(): number;
  /** Everything clients sent, concatenated. */
  received(): Buffer;
  close(): Promise<void>;
}

export async function recordingProxy(target: { host: string; port: number }): Promise<RecordingProxy> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return {
    host: "127.0.0.1",
    port: address.port,
    connections: () => accepted,
    received: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
