// The real components the benchmark talks to, started with the project's own code
// (scripts/local-servers.ts, as the vitest global setup does): moto's server for DynamoDB and S3, and
// FerretDB on a fresh PostgreSQL cluster, each on a free loopback port. Plus one scratch directory
// for everything the run writes (local stores, archives, bundles), removed by `stop`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type RunningMongo,
  type RunningServer,
  startFerretDb,
  startMoto,
} from "../../scripts/local-servers.ts";

export interface BenchServers {
  awsEndpoint: string;
  mongo: Pick<RunningMongo, "host" | "port" | "username" | "password">;
  /** Removed with everything in it by `stop`. */
  scratch: string;
  stop(): Promise<void>;
}

export async function startServers(): Promise<BenchServers> {
  const started: RunningServer[] = [];
  const scratch = mkdtempSync(join(tmpdir(), "mbm-bench-"));
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await Promise.allSettled(started.map((s) => s.stop()));
      rmSync(scratch, { recursive: true, force: true });
    })();
    return stopping;
  };
  try {
    const track = <T extends RunningServer>(s: T) => {
      started.push(s);
      return s;
    };
    const [moto, mongo] = await Promise.all([startMoto().then(track), startFerretDb().then(track)]);
    return {
      awsEndpoint: moto.url,
      mongo: { host: mongo.host, port: mongo.port, username: mongo.username, password: mongo.password },
      scratch,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
