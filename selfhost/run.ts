/**
 * `npm run selfhost`: the self-hosted cluster on fixed local ports until Ctrl-C.
 * `npm run selfhost:restart` asks it (on the control port) for a rolling restart.
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildWorkers } from "../scripts/build-workers";
import { startCluster } from "./cluster";
import { startControl } from "./control";
import { rollingRestart } from "./rolling-restart";
import { loadOrCreateSecrets, SECRET_ENV } from "./secrets";
import { ensureDebianPackages, onPath } from "./services/ensure-packages";

/** Added to every fixed port, so a second runner (a test, say) can run beside the usual one. */
const OFFSET = Number(process.env.SELFHOST_PORT_OFFSET ?? 0);
const CONTROL_PORT = Number(process.env.SELFHOST_CONTROL_PORT ?? 8099 + OFFSET);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Configs, logs and bundles: rebuilt at every start. */
const RUN_DIR = resolve(process.env.SELFHOST_DIR ?? `${ROOT}.selfhost`);
/** Postgres, Redis and secrets.json: everything that must survive a restart (and be backed up). */
const DATA_DIR = resolve(process.env.SELFHOST_DATA_DIR ?? join(RUN_DIR, "data"));

ensureDebianPackages([
  { pkg: "redis-server", present: () => onPath("redis-server") },
  { pkg: "nginx", present: () => onPath("nginx") },
  { pkg: "postgresql", present: () => onPath("pg_ctl") || onPath("/usr/lib/postgresql/15/bin/pg_ctl") },
]);

console.log("building bundles and starting the cluster…");
const cluster = await startCluster({
  dir: RUN_DIR,
  dataDir: DATA_DIR,
  secrets: loadOrCreateSecrets(DATA_DIR),
  databaseUrl: process.env.DATABASE_URL,
  ports: {
    lb: 8080 + OFFSET,
    aggregator: 8090 + OFFSET,
    gateway: 8079 + OFFSET,
    kv: 8070 + OFFSET,
    broker: 8071 + OFFSET,
    shipperMetrics: 8072 + OFFSET,
    wsProxy: 5433 + OFFSET,
    redis: 6380 + OFFSET,
    postgres: 5434 + OFFSET,
  },
  replicaPorts: [8081 + OFFSET, 8082 + OFFSET, 8083 + OFFSET],
  prometheus:
    onPath("prometheus") && process.env.SELFHOST_PROMETHEUS !== "off" ? { port: 9090 + OFFSET } : undefined,
});

const control = await startControl({
  port: CONTROL_PORT,
  token: cluster.secrets.internalToken,
  async restart(log) {
    const previous = cluster.bundles.worker;
    const fresh = buildWorkers(`${cluster.dir}/bundles-${Date.now()}`);
    const result = await rollingRestart(cluster, {
      bundlePath: fresh.worker,
      previousBundlePath: previous,
      log,
    });
    if (!result.rolledBack) cluster.bundles.worker = fresh.worker;
    return result;
  },
});

console.log(`
  self-hosted edge-redirect
    load balancer   ${cluster.lbUrl}
    replicas        ${cluster.replicas.map((r) => r.url).join("  ")}
    aggregator      ${cluster.aggregator.url}/metrics
    prometheus      ${cluster.prometheus ? `${cluster.prometheus.url} (user "metrics", password: "metricsToken" in secrets.json)` : "(not installed: apt-get install prometheus)"}
    data            ${cluster.dataDir}
    admin token     ${process.env[SECRET_ENV.adminToken] ? `from ${SECRET_ENV.adminToken}` : `"adminToken" in ${join(cluster.dataDir, "secrets.json")}`}
    rolling restart npm run selfhost:restart
    logs            ${cluster.dir}/*.log
  Ctrl-C stops everything.
`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log("stopping…");
  await control.close();
  await cluster.close();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
