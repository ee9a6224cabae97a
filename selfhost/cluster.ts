/**
 * The self-hosted topology from local processes, the Docker-free twin of
 * docker-compose.test.yml: N workerd replicas of the edge worker behind nginx, the
 * aggregator in workerd fed by the Redis Streams broker, the KV service, Redis with
 * the Upstash REST gateway, Postgres with the Neon WebSocket proxy, and optionally
 * Prometheus. `npm run selfhost` runs it; tests start it with `startCluster()`.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildWorkers } from "../scripts/build-workers";
import {
  type ClusterOptions,
  type Replica,
  type StartContext,
  startDataServices,
  startLoadBalancer,
  startMonitoring,
  startQueue,
  startReplicas,
} from "./cluster-steps";
import { loadOrCreateSecrets } from "./secrets";
import { freePort } from "./services/free-port";
import { type Restartable, Supervisor } from "./supervisor";

export type { ClusterOptions, Replica } from "./cluster-steps";
export type Cluster = Awaited<ReturnType<typeof startCluster>>;

/**
 * Starts the whole topology, each service only once what it depends on answers, and
 * returns a handle whose `close()` stops them in the reverse order.
 *
 * @example const cluster = await startCluster({ durability: "off-for-tests" }); … await cluster.close();
 */
export async function startCluster(opts: ClusterOptions = {}) {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "selfhost-"));
  mkdirSync(dir, { recursive: true });
  // mkdtemp makes it 0700: as root, Postgres runs as its own user and must pass through to data/postgres.
  if (!opts.dir) chmodSync(dir, 0o711);
  const dataDir = opts.dataDir ?? join(dir, "data");
  const secrets = opts.secrets ?? loadOrCreateSecrets(dataDir);
  const stops = stopList();
  const supervisor = new Supervisor();
  const ctx: StartContext = {
    opts,
    dir,
    secrets,
    supervisor,
    port: async (name) => opts.ports?.[name] ?? (await freePort()),
    onStop: stops.add,
  };

  try {
    const bundles = opts.bundles ?? buildWorkers(join(dir, "bundles"));
    const data = await startDataServices(ctx, dataDir);
    const { aggregator, broker } = await startQueue(ctx, data, bundles);
    const { replicas, shipperMetrics } = await startReplicas(ctx, data, broker, bundles);
    const nginx = await startLoadBalancer(ctx, replicas);
    const prometheus = await startMonitoring(ctx, { replicas, shipperMetrics, aggregator });
    // Registered last, so stopped first: nothing is brought back while the rest shuts down.
    superviseAll(ctx, { ...data, aggregator, replicas, nginx, prometheus });

    return {
      dir,
      dataDir,
      supervisor,
      lbUrl: nginx.url,
      nginx,
      adminToken: secrets.adminToken,
      secrets,
      bundles,
      ...data,
      shipperMetrics,
      broker,
      aggregator,
      replicas,
      prometheus,
      async close() {
        await stops.runAll();
        if (!opts.dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stops.runAll();
    throw err;
  }
}

/** Stops run newest first; each gets 10 s, so one stuck service cannot keep Ctrl-C from finishing. */
function stopList() {
  const stops: Array<() => Promise<unknown>> = [];
  return {
    add(fn: () => Promise<unknown>, name = fn.toString().slice(6, 40)) {
      stops.unshift(() =>
        Promise.race([
          fn(),
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error(`stopping ${name} timed out`)), 10_000).unref(),
          ),
        ]).catch((err) => {
          if (process.env.SELFHOST_DEBUG) console.error(String(err));
        }),
      );
    },
    async runAll() {
      for (const stop of stops) await stop().catch(() => {});
    },
  };
}

/** Hands every process that can die on its own to the supervisor, whose close is the first stop. */
function superviseAll(
  { supervisor, onStop }: StartContext,
  procs: {
    postgres: Restartable | null;
    redis: Restartable;
    aggregator: Restartable;
    replicas: Replica[];
    nginx: Restartable;
    prometheus: Restartable | null;
  },
) {
  if (procs.postgres) supervisor.watch("postgres", procs.postgres);
  supervisor.watch("redis", procs.redis);
  supervisor.watch("aggregator", procs.aggregator);
  for (const replica of procs.replicas) supervisor.watch(`edge-${replica.index + 1}`, replica);
  supervisor.watch("nginx", procs.nginx);
  if (procs.prometheus) supervisor.watch("prometheus", procs.prometheus);
  onStop(() => supervisor.close());
}
