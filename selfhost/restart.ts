/**
 * `npm run selfhost:restart`: asks the running `npm run selfhost` for a rolling restart of the replicas,
 * with the internal token from the runner's data directory (same variables as selfhost/run.ts).
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bearer } from "./internal-auth";
import { loadOrCreateSecrets } from "./secrets";

const port = Number(
  process.env.SELFHOST_CONTROL_PORT ?? 8099 + Number(process.env.SELFHOST_PORT_OFFSET ?? 0),
);
const runDir = resolve(process.env.SELFHOST_DIR ?? fileURLToPath(new URL("../.selfhost", import.meta.url)));
const { internalToken } = loadOrCreateSecrets(resolve(process.env.SELFHOST_DATA_DIR ?? join(runDir, "data")));
const res = await fetch(`http://127.0.0.1:${port}/rolling-restart`, {
  method: "POST",
  headers: { Authorization: bearer(internalToken) },
}).catch(() => null);
if (!res) {
  console.error(`no cluster answers on 127.0.0.1:${port}; start one with npm run selfhost`);
  process.exit(2);
}
if (res.status === 401) {
  console.error("the runner refused the token: is SELFHOST_DATA_DIR the running runner's data directory?");
  process.exit(2);
}
const body = (await res.json().catch(() => ({}))) as {
  replaced?: number;
  rolledBack?: boolean;
  log?: string[];
  error?: string;
};
for (const line of body.log ?? []) console.log(line);
if (body.error !== undefined || body.rolledBack === undefined) {
  console.error(`the rolling restart failed (${res.status}): ${body.error ?? "no answer"}`);
  process.exit(1);
}
console.log(body.rolledBack ? "smoke test failed: rolled back" : `replaced ${body.replaced} replicas`);
process.exit(body.rolledBack ? 1 : 0);
