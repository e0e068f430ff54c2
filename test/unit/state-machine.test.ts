import { describe, expect, it } from "vitest";
import { JobStatus } from "#core/entities.ts";
import { ConflictError } from "#core/errors.ts";
import { assertTransition, canTransition, isTerminal, statusesAllowedBefore } from "#core/state-machine.ts";

describe("job state machine", () => {
  const legal: Array<[string, string]> = [
    ["queued", "running"],
    ["running", "completed"],
    ["running", "failed"],
    ["queued", "failed"],
    ["queued", "cancelled"],
    ["running", "cancelled"],
  ];

  it("allows exactly the documented moves", () => {
    for (const from of JobStatus.options) {
      for (const to of JobStatus.options) {
        const expected = legal.some(([f, t]) => f === from && t === to);
        expect(canTransition(from, to), `${from} -> ${to}`).toBe(expected);
      }
    }
  });

  it("never leaves a terminal state", () => {
    for (const from of JobStatus.options.filter(isTerminal)) {
      for (const to of JobStatus.options) expect(canTransition(from, to)).toBe(false);
    }
  });

  it("names both states when refusing", () => {
    expect(() => assertTransition("backup", "b1", "completed", "running")).toThrow(ConflictError);
    expect(() => assertTransition("backup", "b1", "completed", "running")).toThrow(
      "backup b1 is completed; it cannot become running",
    );
    expect(statusesAllowedBefore("running")).toEqual(["queued"]);
  });
});
