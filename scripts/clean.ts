// `npm run clean`: removes local mode's data dir ($DATA_DIR, default .mbm-data) together with its demo
// MongoDB's cluster, which as root lives outside it (under /var/tmp). Stop local mode first.
import { join, resolve } from "node:path";
import { removeDataDir, sharedDemoRoot } from "./local-servers.ts";

const repoRoot = resolve(import.meta.dirname, "..");
const dataDir = resolve(process.env.DATA_DIR ?? join(repoRoot, ".mbm-data"));
try {
  const removed = removeDataDir(dataDir, process.env.MBM_DEMO_CLUSTER_ROOT || sharedDemoRoot);
  process.stdout.write(
    removed.length > 0
      ? `removed:\n${removed.map((p) => `  ${p}\n`).join("")}`
      : `nothing to remove for ${dataDir}\n`,
  );
} catch (error) {
  process.stderr.write(`clean: ${(error as Error).message}\n`);
  process.exit(1);
}
