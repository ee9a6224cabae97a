/**
 * `npm run selfhost`: the self-hosted cluster on fixed local ports until Ctrl-C.
 * `npm run selfhost:restart` asks it (on the control port) for a rolling restart.
 */
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { buildWorkers } from "../scripts/build-workers";
import { startCluster } from "./cluster";
import { rollingRestart } from "./rolling-restart";
import { ensureDebianPackages, onPath } from "./services/ensure-packages";

export const CONTROL_PORT = Number(process.env.SELFHOST_CONTROL_PORT ?? 8099);
const ROOT = fileURLToPath(new URL("..", import.meta.url));

ensureDebianPackages([
  { pkg: "redis-server", present: () => onPath("redis-server") },
  { pkg: "nginx", present: () => onPath("nginx") },
  { pkg: "postgresql", present: () => onPath("pg_ctl") || onPath("/usr/lib/postgresql/15/bin/pg_ctl") },
]);

console.log("building bundles and starting the cluster…");
const cluster = await startCluster({
  dir: `${ROOT}.selfhost`,
  databaseUrl: process.env.DATABASE_URL,
  adminToken: process.env.ADMIN_TOKEN ?? "selfhost-admin-token",
  ports: {
    lb: 8080,
    aggregator: 8090,
    gateway: 8079,
    kv: 8070,
    broker: 8071,
    shipperMetrics: 8072,
    wsProxy: 5433,
    redis: 6380,
    postgres: 5434,
  },
  replicaPorts: [8081, 8082, 8083],
  prometheus: onPath("prometheus") ? { port: 9090 } : undefined,
});

const control = createServer(async (req, res) => {
  if (req.method !== "POST" || req.url !== "/rolling-restart") return void res.writeHead(404).end();
  const lines: string[] = [];
  const previous = cluster.bundles.worker;
  const fresh = buildWorkers(`${cluster.dir}/bundles-${Date.now()}`);
  const result = await rollingRestart(cluster, {
    bundlePath: fresh.worker,
    previousBundlePath: previous,
    log: (line) => {
      lines.push(line);
      console.log(line);
    },
  });
  if (!result.rolledBack) cluster.bundles.worker = fresh.worker;
  res
    .writeHead(result.rolledBack ? 500 : 200, { "Content-Type": "application/json" })
    .end(JSON.stringify({ ...result, log: lines }));
});
control.listen(CONTROL_PORT, "127.0.0.1");

console.log(`
  self-hosted edge-redirect
    load balancer   ${cluster.lbUrl}
    replicas        ${cluster.replicas.map((r) => r.url).join("  ")}
    aggregator      ${cluster.aggregator.url}/metrics
    prometheus      ${cluster.prometheus?.url ?? "(not installed: apt-get install prometheus)"}
    admin token     ${cluster.adminToken}
    rolling restart npm run selfhost:restart
    logs            ${cluster.dir}/*.log
  Ctrl-C stops everything.
`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log("stopping…");
  control.close();
  await cluster.close();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
