/**
 * Bundles both workers exactly as `wrangler deploy` would (`--dry-run --outdir`), for
 * tests and the self-hosted runtime, which run the same bundles under workerd.
 */
import { execFileSync } from "node:child_process";
import { cpSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Each worker's index.js, and the dashboard's files (`assets`), a copy taken with this build. */
export type WorkerBundles = { worker: string; aggregator: string; assets: string };

export function buildWorkers(outDir = `${ROOT}dist`): WorkerBundles {
  const worker = buildWorker("wrangler.toml", `${outDir}/worker`);
  // wrangler's [build] step wrote them into dist/assets; a copy beside the bundles stays as it was built
  // while another build (a rolling restart's) writes dist/assets again.
  const assets = `${outDir}/assets`;
  if (assets !== assetsOf(ROOT)) cpSync(assetsOf(ROOT), assets, { recursive: true });
  return { worker, aggregator: buildWorker("aggregator/wrangler.toml", `${outDir}/aggregator`), assets };
}

/** Where wrangler.toml's `[assets]` folder is in a checkout. */
const assetsOf = (root: string) => `${root}dist/assets`;

/** The dashboard's files of the bundle `workerBundle` (`<outDir>/worker/index.js`) that buildWorkers made. */
export const assetsBeside = (workerBundle: string): string => join(dirname(workerBundle), "../assets");

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
