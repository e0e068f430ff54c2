// README's table of event detail shapes against the events core/events.ts builds: a field added to an
// event and not documented (or documented and gone) fails here, so rules written against the bus can
// trust the table.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  backupEvent,
  type DomainEvent,
  drillEvent,
  drillStaleEvent,
  restoreEvent,
  scheduleStaleEvent,
} from "#core/events.ts";
import {
  makeBackup,
  makeDatabase,
  makeDrill,
  makeRestore,
  makeSchedule,
  makeVerification,
} from "#test/support/fixtures.ts";

/** detail-type -> documented fields, from the README's events table. */
async function documentedDetails(): Promise<Map<string, string[]>> {
  const readme = await readFile(join(import.meta.dirname, "../../README.md"), "utf8");
  const table = new Map<string, string[]>();
  for (const line of readme.split("\n")) {
    const cells = line.match(/^\| (`[A-Za-z]+`(?:, `[A-Za-z]+`)*) +\| `([a-z0-9_, ]+)` +\|$/);
    if (!cells) continue;
    const fields = cells[2]!.split(", ");
    for (const type of cells[1]!.matchAll(/`([A-Za-z]+)`/g)) table.set(type[1]!, fields);
  }
  return table;
}

function sampleEvents(): DomainEvent[] {
  const verification = makeVerification();
  const events = [
    backupEvent(makeBackup({ status: "completed" })),
    backupEvent(makeBackup({ status: "failed", error: "boom" })),
    restoreEvent(makeRestore({ status: "completed" })),
    restoreEvent(makeRestore({ status: "failed" })),
    drillEvent(makeDrill({ status: "completed", result: verification })),
    drillEvent(makeDrill({ status: "failed", result: { ...verification, status: "failed", error: "x" } })),
    drillStaleEvent(makeDatabase(), 7, null, new Date()),
    scheduleStaleEvent(makeSchedule(), new Date().toISOString(), null, new Date()),
  ];
  return events.filter((e): e is DomainEvent => e !== undefined);
}

describe("README events table", () => {
  it("documents every event type with exactly the fields of its detail, in order", async () => {
    const documented = await documentedDetails();
    const events = sampleEvents();
    expect(events).toHaveLength(8);
    for (const event of events) {
      expect(documented.get(event.type), event.type).toEqual(Object.keys(event.detail));
    }
    expect([...documented.keys()].sort()).toEqual([...new Set(events.map((e) => e.type))].sort());
  });
});
