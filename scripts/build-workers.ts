/**
 * Bundles both workers exactly as `wrangler deploy` would (`--dry-run --outdir`), for
 * tests and the self-hosted runtime, which run the same bundles under workerd.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export type WorkerBundles = { worker: string; aggregator: string };

export function buildWorkers(outDir = `${ROOT}dist`): WorkerBundles {
  return {
    worker: buildWorker("wrangler.toml", `${outDir}/worker`),
    aggregator: buildWorker("aggregator/wrangler.toml", `${outDir}/aggregator`),
  };
}

/**
 * One worker's bundle from `config` in `root` (another checkout of this project, e.g. the
 * A side of `npm run bench:ab`), with this checkout's wrangler. Returns its index.js.
 */
export function buildWorker(config: string, outDir: string, root = ROOT): string {
  const wrangler = `${ROOT}node_modules/.bin/wrangler`;
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };
  execFileSync(wrangler, ["deploy", "--dry-run", "-c", config, "--outdir", outDir], {
    cwd: root,
    env,
    stdio: "pipe",
  });
  return `${outDir}/index.js`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(buildWorkers());
}
