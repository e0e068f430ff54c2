// The Lambda bundles as `cdk synth` builds them (infra/function-bundle.ts): a cold start must read
// neither the MongoDB driver nor tr46's tables, and must import no AWS SDK package but DynamoDB's.
// These are what brought the API's cold start from 1.5 MiB and 310 ms to 0.8 MiB and 180 ms
// (test/bench); a static import added in the wrong place would quietly undo them.
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { scratchDir } from "#test/support/env.ts";
import { bundleFunction, coldStart, functionEntries } from "../../infra/function-bundle.ts";

const repoRoot = resolve(import.meta.dirname, "../..");

describe("Lambda bundles", () => {
  const dir = scratchDir("bundles-");
  it.each(Object.entries(functionEntries))(
    "%s: a cold start loads only the table's SDK client",
    (name, entry) => {
      const bundle = bundleFunction(join(repoRoot, entry), join(dir, name));
      const { outputs, external } = coldStart(bundle);
      const packages = new Set(
        outputs.flatMap((file) =>
          Object.keys(bundle.metafile.outputs[file]?.inputs ?? {}).flatMap(
            (input) => input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1] ?? [],
          ),
        ),
      );
      expect([...packages].filter((p) => ["mongodb", "bson", "tr46"].includes(p))).toEqual([]);
      const sdk = external.filter((p) => p.startsWith("@aws-sdk/")).sort();
      expect(sdk).toEqual(["@aws-sdk/client-dynamodb", "@aws-sdk/lib-dynamodb"]);
      // The driver is still there, for the routes that need it: a chunk of its own.
      const all = Object.values(bundle.metafile.outputs).flatMap((o) => Object.keys(o.inputs));
      expect(all.some((input) => input.includes("node_modules/mongodb/"))).toBe(true);
    },
  );
});
