/**
 * `npm run dev`: the whole service on this machine with embedded defaults.
 * - Redis: a local redis-server (installed with apt-get when missing) behind the
 *   project's Upstash REST gateway, so the worker uses @upstash/redis as in production.
 * - Postgres: DATABASE_URL when set, else an embedded PGlite under .dev/pglite.
 * - Both workers in one `wrangler dev` process, so they share the clicks queue.
 */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startRedisGateway } from "../selfhost/redis-rest-gateway";
import { loadOrCreateSecrets } from "../selfhost/secrets";
import { ensureDebianPackages, onPath } from "../selfhost/services/ensure-packages";
import { startPglite } from "../selfhost/services/pglite";
import { startRedis } from "../selfhost/services/redis";
import { postgresAddress, startWsProxy } from "../selfhost/ws-proxy";
import { migrateDatabase } from "./migrate";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PORT = Number(process.env.PORT ?? 8787);

ensureDebianPackages([{ pkg: "redis-server", present: () => onPath("redis-server") }]);
mkdirSync(`${ROOT}.dev`, { recursive: true });
// Generated once into .dev/secrets.json like the runner's, so no token is the same on two machines.
const secrets = loadOrCreateSecrets(`${ROOT}.dev`);
const ADMIN_TOKEN = secrets.adminToken;
const GATEWAY_TOKEN = secrets.internalToken;

const redis = await startRedis({ dir: `${ROOT}.dev/redis`, persist: true });
const gateway = await startRedisGateway({ redisUrl: redis.url, token: GATEWAY_TOKEN });
const pglite = process.env.DATABASE_URL ? null : await startPglite({ dataDir: `${ROOT}.dev/pglite` });
const databaseUrl = process.env.DATABASE_URL ?? (pglite as NonNullable<typeof pglite>).url;
const wsProxy = await startWsProxy({ target: postgresAddress(databaseUrl), token: secrets.internalToken });
await migrateDatabase(databaseUrl);

const vars = [
  `DATABASE_URL=${databaseUrl}`,
  `DB_WS_PROXY=${wsProxy.url}`,
  `UPSTASH_REDIS_REST_URL=${gateway.url}`,
  `UPSTASH_REDIS_REST_TOKEN=${GATEWAY_TOKEN}`,
  `ADMIN_TOKEN=${ADMIN_TOKEN}`,
  `VISITOR_SALT=${secrets.visitorSalt}`,
].join("\n");
// wrangler reads .dev.vars beside each config; both are git-ignored. They hold ADMIN_TOKEN and
// VISITOR_SALT, so only the owner may read them. `mode` applies only when the file is created, so
// one left by an older run (0644) is narrowed before the secrets are written into it.
for (const file of [`${ROOT}.dev.vars`, `${ROOT}aggregator/.dev.vars`]) {
  if (existsSync(file)) chmodSync(file, 0o600);
  writeFileSync(file, `${vars}\n`, { mode: 0o600 });
}

const wrangler = spawn(
  `${ROOT}node_modules/.bin/wrangler`,
  [
    "dev",
    "-c",
    "wrangler.toml",
    "-c",
    "aggregator/wrangler.toml",
    "--ip",
    "127.0.0.1",
    "--port",
    String(PORT),
  ],
  { cwd: ROOT, stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
);

const base = `http://127.0.0.1:${PORT}`;
void waitForHealth(base).then(() => {
  console.log(`
  edge-redirect is running at ${base}   (admin token: ${ADMIN_TOKEN})

  Dashboard:      ${base}/dashboard/   (sign in with the admin token or an API key)
  API reference:  ${base}/docs/

  Create a link and follow it:
    curl -s -X POST ${base}/api/v1/links -H 'Authorization: Bearer ${ADMIN_TOKEN}' \\
      -H 'Content-Type: application/json' -d '{"url":"https://example.com","slug":"hello"}'
    curl -si ${base}/hello
`);
});

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  wrangler.kill("SIGTERM");
  await Promise.allSettled([gateway.close(), wsProxy.close(), pglite?.close()]);
  await redis.stop();
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
wrangler.on("exit", (code) => void stop(code ?? 0));

async function waitForHealth(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
