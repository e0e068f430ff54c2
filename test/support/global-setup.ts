// vitest global setup: one moto server and one FerretDB for the whole run, on free loopback ports,
// and with MBM_TEST_LOCALSTACK=1 one LocalStack too (`npm run test:localstack`, README "AWS emulators").
// Tests read their addresses with `inject(...)` (see test/support/env.ts).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import {
  type RunningServer,
  startFerretDb,
  startLocalStack,
  startMoto,
} from "../../scripts/local-servers.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** moto: every AWS service, or only DynamoDB and ECS when LocalStack runs. */
    awsEndpoint: string;
    /** LocalStack's endpoint for LOCALSTACK_SERVICES, or "" when this run does not start it. */
    localstackEndpoint: string;
    mongo: { host: string; port: number; username: string; password: string };
    /** A directory for this run's temporary files, removed when the run ends. */
    scratch: string;
  }
}

export default async function setup(project: TestProject) {
  // The console's browser tests and local mode serve web/build: build it once, before any test.
  execFileSync(process.execPath, [join(import.meta.dirname, "../../scripts/build-web.ts"), "--quiet"], {
    stdio: "inherit",
  });
  const started: RunningServer[] = [];
  const scratch = mkdtempSync(join(tmpdir(), "mbm-test-run-"));
  project.provide("scratch", scratch);
  const stop = async () => {
    await Promise.allSettled(started.map((s) => s.stop()));
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    const track = <T extends RunningServer>(s: T) => {
      started.push(s);
      return s;
    };
    // Each server is tracked as soon as it is up, so a failure of the other still stops it.
    const withLocalStack = process.env.MBM_TEST_LOCALSTACK === "1";
    const [moto, mongo, localstack] = await Promise.all([
      startMoto().then(track),
      startFerretDb().then(track),
      withLocalStack ? startLocalStack(join(scratch, "localstack")).then(track) : undefined,
    ]);
    project.provide("awsEndpoint", moto.url);
    project.provide("localstackEndpoint", localstack?.url ?? "");
    project.provide("mongo", {
      host: mongo.host,
      port: mongo.port,
      username: mongo.username,
      password: mongo.password,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return stop;
}
