// The resolver side of the outbound policy against real sockets on loopback: a socket given the
// checking lookup connects only when every address of the name is allowed, and the pinned lookup
// answers with the checked addresses whatever name it is asked about.
import { createServer, connect as netConnect, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkMongoHosts } from "#adapters/mongo-host-check.ts";
import { checkingLookup, pinnedLookup, resolveChecked } from "#adapters/outbound-guard.ts";
import { Allowlist, OutboundRefusedError } from "#core/outbound-policy.ts";

let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  port = typeof address === "object" && address ? address.port : 0;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Connects with `lookup`; resolves "connected" or the error's code. */
function connectWith(host: string, lookup: ReturnType<typeof checkingLookup>): Promise<string> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port, lookup, autoSelectFamily: true });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe("outbound guard", () => {
  it("the checking lookup refuses a name that resolves to loopback, and admits it when allowlisted", async () => {
    expect(
      await connectWith(
        "localhost",
        checkingLookup("mongodb", () => new Allowlist([])),
      ),
    ).toBe("EOUTBOUNDREFUSED");
    const loopback = new Allowlist(["127.0.0.0/8", "::1/128"]);
    expect(
      await connectWith(
        "localhost",
        checkingLookup("mongodb", () => loopback),
      ),
    ).toBe("connected");
  });

  it("the pinned lookup answers with the checked address whatever it is asked", async () => {
    const pinned = pinnedLookup([{ address: "127.0.0.1", family: 4 }]);
    expect(await connectWith("attacker-controlled.invalid", pinned)).toBe("connected");
  });

  it("resolveChecked refuses literals and names; checkMongoHosts checks every host of a URI", async () => {
    const none = new Allowlist([]);
    await expect(resolveChecked("[::1]", "webhook", none)).rejects.toBeInstanceOf(OutboundRefusedError);
    await expect(resolveChecked("10.0.0.1", "mongodb", none)).resolves.toEqual([
      { address: "10.0.0.1", family: 4 },
    ]);
    await expect(
      checkMongoHosts("mongodb://10.0.0.1:27017,169.254.169.254:27017/?replicaSet=rs", none),
    ).rejects.toThrow("169.254.169.254 is a cloud metadata endpoint (never allowed)");
    await expect(checkMongoHosts("mongodb://[::ffff:127.0.0.1]:27017/", none)).rejects.toThrow(/loopback/);
  });
});
