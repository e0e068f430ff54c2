import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "#functions/logger.ts";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  return { log: createLogger("test", { destination }), lines };
}

describe("logger", () => {
  it("censors credential fields and URI passwords wherever they appear", () => {
    const { log, lines } = capture();
    log.info(
      { password: "hunter2", server: { password: "hunter3", host: "h" } },
      "connect mongodb://u:hunter4@h/",
    );
    log.error({
      err: new Error("failed: mongodb://u:hunter5@h:1/", { cause: new Error("mongodb+srv://a:hunter6@c/") }),
    });
    const text = lines.join("");
    for (const secret of ["hunter2", "hunter3", "hunter4", "hunter5", "hunter6"])
      expect(text).not.toContain(secret);
    expect(text).toContain("mongodb://u:****@h/");
  });

  it("keeps an error's type and message", () => {
    const { log, lines } = capture();
    class SomethingError extends Error {
      override name = "SomethingError";
    }
    log.error({ err: new SomethingError("it broke") }, "failed");
    const entry = JSON.parse(lines[0] ?? "{}");
    expect(entry.err).toMatchObject({ type: "SomethingError", message: "it broke" });
  });
});
