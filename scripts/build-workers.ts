/**
 * Bundles both workers exactly as `wrangler deploy` would (`--dry-run --outdir`), for
 * tests and the self-hosted runtime, which run the same bundles under workerd.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export type WorkerBundles = { worker: string; aggregator: string };

export function buildWorkers(outDir = `${ROOT}dist`): WorkerBundles {
  const wrangler = `${ROOT}node_modules/.bin/wrangler`;
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };
  for (const [config, out] of [
    ["wrangler.toml", `${outDir}/worker`],
    ["aggregator/wrangler.toml", `${outDir}/aggregator`],
  ] as const) {
    execFileSync(wrangler, ["deploy", "--dry-run", "-c", config, "--outdir", out], {
      cwd: ROOT,
      env,
      stdio: "pipe",
    });
  }
  return { worker: `${outDir}/worker/index.js`, aggregator: `${outDir}/aggregator/index.js` };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(buildWorkers());
}
