// loadOnFirstCall: the adapter is imported on the first call, once, shared by concurrent calls, and
// tried again after a failed load; methods keep their `this`; plain fields need no load.
import { describe, expect, it } from "vitest";
import { loadOnFirstCall } from "#adapters/load-on-first-call.ts";
import type { BlobStore, Notifier } from "#core/ports.ts";

interface Greeter {
  readonly channel: string;
  greet(name: string): Promise<string>;
  count(): Promise<number>;
}

class RealGreeter implements Greeter {
  readonly channel = "real";
  #calls = 0;
  async greet(name: string) {
    this.#calls++;
    return `hello ${name}`;
  }
  async count() {
    return this.#calls;
  }
}

describe("loadOnFirstCall", () => {
  it("loads nothing until a method is called, then once for concurrent calls", async () => {
    let loads = 0;
    const port = loadOnFirstCall<Greeter>(
      async () => {
        loads++;
        await new Promise((r) => setTimeout(r, 10));
        return new RealGreeter();
      },
      { greet: true, count: true },
      { channel: "lazy" },
    );
    expect(port.channel).toBe("lazy");
    expect(loads).toBe(0);
    expect(await Promise.all([port.greet("a"), port.greet("b")])).toEqual(["hello a", "hello b"]);
    expect(await port.count()).toBe(2); // the same instance, its private state intact
    expect(loads).toBe(1);
  });

  it("rejects the calls of a failed load and loads again on the next call", async () => {
    let loads = 0;
    const port = loadOnFirstCall<Greeter>(
      async () => {
        loads++;
        if (loads === 1) throw new Error("chunk missing");
        return new RealGreeter();
      },
      { greet: true, count: true },
      { channel: "lazy" },
    );
    await expect(port.greet("a")).rejects.toThrow("chunk missing");
    await expect(port.greet("b")).resolves.toBe("hello b");
    expect(loads).toBe(2);
  });

  it("requires every method of the port and its plain fields (checked by tsc over this file)", () => {
    const never = (): Promise<never> => Promise.reject(new Error("not loaded in this test"));
    // @ts-expect-error `delete` is missing: a port method cannot be forgotten
    loadOnFirstCall<BlobStore>(never, { upload: true, download: true, head: true });
    // @ts-expect-error a Notifier's `channel` must be given up front
    loadOnFirstCall<Notifier>(never, { notify: true });
    const notifier = loadOnFirstCall<Notifier>(never, { notify: true }, { channel: "sns" });
    expect(notifier.channel).toBe("sns");
    expect(
      Object.keys(
        loadOnFirstCall<BlobStore>(never, { upload: true, download: true, head: true, delete: true }),
      ).sort(),
    ).toEqual(["delete", "download", "head", "upload"]);
  });
});
