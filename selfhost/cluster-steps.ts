/**
 * The steps `startCluster` (cluster.ts) takes, one per group of services, in the order
 * they start: data services, the clicks queue, the edge replicas, nginx, Prometheus.
 * Each registers its own stops, so a failure part-way stops exactly what was started.
 */
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { assetsBeside, type WorkerBundles } from "../scripts/build-workers";
import { migrateDatabase } from "../scripts/migrate";
import { serveShipperMetrics } from "./click-shipper-metrics";
import { startKvService } from "./kv-service";
import { nginxConfig } from "./nginx-config";
import { startQueueBroker } from "./queue-broker";
import { startRedisGateway } from "./redis-rest-gateway";
import { repairAtStart } from "./repair";
import type { SelfhostSecrets } from "./secrets";
import { freePort } from "./services/free-port";
import { startNginx } from "./services/nginx";
import { type Durability, startPostgres } from "./services/postgres";
import { startPrometheus } from "./services/prometheus";
import { startRedis } from "./services/redis";
import { type WorkerdProcess, workerd } from "./services/workerd";
import type { Supervisor } from "./supervisor";
import { aggregatorConfig, edgeConfig } from "./workerd-config";
import { postgresAddress, startWsProxy } from "./ws-proxy";

export type ClusterOptions = {
  replicas?: number;
  /** Fixed ports for a long-running cluster; free ports when left out (tests). */
  ports?: Partial<
    Record<
      "lb" | "aggregator" | "gateway" | "kv" | "broker" | "wsProxy" | "redis" | "postgres" | "shipperMetrics",
      number
    >
  >;
  replicaPorts?: number[];
  /** Postgres to use instead of starting one. */
  databaseUrl?: string;
  /** Where configs, logs and bundles go; a temporary directory when left out. */
  dir?: string;
  /** What must survive a restart: Postgres, Redis, secrets.json. `<dir>/data` when left out. */
  dataDir?: string;
  /** Tests and benchmarks may trade Postgres's crash safety for speed, and must say so. */
  durability?: Durability;
  /** Generated into `<dataDir>/secrets.json` (or read from it) when left out. */
  secrets?: SelfhostSecrets;
  /** Extra vars for the edge worker (e.g. lower limits). */
  vars?: Record<string, string>;
  bundles?: WorkerBundles;
  /** Also start Prometheus scraping every replica and the aggregator, with the alert rules. */
  prometheus?: { port?: number; scrapeInterval?: string };
};

export type Replica = WorkerdProcess & { index: number; reconfigure(bundlePath: string): void };

type PortName = keyof NonNullable<ClusterOptions["ports"]>;

/** What every start step shares: where files go, the secrets, ports, and the stops to run on close. */
export type StartContext = {
  opts: ClusterOptions;
  dir: string;
  secrets: SelfhostSecrets;
  supervisor: Supervisor;
  port(name: PortName): Promise<number>;
  onStop(fn: () => Promise<unknown>): void;
};

/**
 * Postgres (migrated), Redis and the services in front of them (REST gateway, Neon
 * WebSocket proxy, KV), with KV repaired from Postgres.
 */
export async function startDataServices({ opts, secrets, port, onStop }: StartContext, dataDir: string) {
  const { internalToken } = secrets;
  const postgres = opts.databaseUrl
    ? null
    : await startPostgres({
        port: opts.ports?.postgres,
        dataDir: join(dataDir, "postgres"),
        password: secrets.postgresPassword,
        durability: opts.durability,
      });
  if (postgres) onStop(() => postgres.dispose());
  const databaseUrl = opts.databaseUrl ?? (postgres?.url as string);
  await migrateDatabase(databaseUrl);

  const redis = await startRedis({
    port: opts.ports?.redis,
    dir: join(dataDir, "redis"),
    persist: true,
    password: secrets.redisPassword,
  });
  onStop(() => redis.stop());
  const gateway = await startRedisGateway({
    redisUrl: redis.url,
    token: internalToken,
    port: await port("gateway"),
  });
  onStop(() => gateway.close());
  const wsProxy = await startWsProxy({
    target: postgresAddress(databaseUrl),
    token: internalToken,
    port: await port("wsProxy"),
  });
  onStop(() => wsProxy.close());
  const kv = await startKvService({ redisUrl: redis.url, token: internalToken, port: await port("kv") });
  onStop(() => kv.close());
  // Before any replica serves: the edge must not answer from records Postgres contradicts.
  await repairAtStart({
    databaseUrl,
    records: kv.records,
    gateway: { url: gateway.url, token: internalToken },
  });
  return { postgres, databaseUrl, redis, gateway, wsProxy, kv };
}

export type DataServices = Awaited<ReturnType<typeof startDataServices>>;

/** The vars the edge and the aggregator both need to reach Postgres and Redis. */
function sharedVars({ secrets }: StartContext, data: DataServices) {
  return {
    DATABASE_URL: data.databaseUrl,
    DB_WS_PROXY: data.wsProxy.url,
    UPSTASH_REDIS_REST_URL: data.gateway.url,
    // One internal token for every service only the cluster's own processes call.
    UPSTASH_REDIS_REST_TOKEN: secrets.internalToken,
    METRICS_TOKEN: secrets.metricsToken,
  };
}

/** The clicks queue: the aggregator that consumes it, then the broker that delivers to it. */
export async function startQueue(ctx: StartContext, data: DataServices, bundles: WorkerBundles) {
  const { dir, secrets, port, onStop } = ctx;
  const { internalToken } = secrets;
  const aggregatorPort = await port("aggregator");
  const aggregator = workerd({
    configPath: join(dir, "aggregator.capnp"),
    port: aggregatorPort,
    logPath: join(dir, "aggregator.log"),
  });
  aggregator.configure(
    aggregatorConfig({
      bundlePath: relative(dir, bundles.aggregator),
      address: `127.0.0.1:${aggregatorPort}`,
      vars: { ...sharedVars(ctx, data), QUEUE_PUSH_TOKEN: internalToken },
    }),
  );
  await aggregator.start();
  onStop(() => aggregator.stop());

  const broker = await startQueueBroker({
    redisUrl: data.redis.url,
    port: await port("broker"),
    token: internalToken,
    consumerUrl: `${aggregator.url}/__queue/clicks`,
    consumerToken: internalToken,
  });
  onStop(() => broker.close());
  return { aggregator, broker };
}

type Broker = Awaited<ReturnType<typeof startQueueBroker>>;

/** The edge replicas, started together, and the endpoint that serves their click shipping metrics. */
export async function startReplicas(
  ctx: StartContext,
  data: DataServices,
  broker: Broker,
  bundles: WorkerBundles,
) {
  const { opts, dir, secrets, supervisor, port, onStop } = ctx;
  const edgeVars = {
    ...sharedVars(ctx, data),
    ADMIN_TOKEN: secrets.adminToken,
    VISITOR_SALT: secrets.visitorSalt,
    TRUST_REQUEST_ID: "true",
    // nginx sets it from the connection's address, after clearing what the client sent.
    CLIENT_IP_HEADER: "X-Real-IP",
    HEALTH_DETAILED_PUBLIC: "false",
    ...opts.vars,
  };
  // A rolling restart's fresh bundles bring their own dashboard files; a bundle built alone (bench:ab's A
  // side) has none beside it and serves the cluster's.
  const assetsFor = (bundlePath: string) =>
    existsSync(assetsBeside(bundlePath)) ? assetsBeside(bundlePath) : bundles.assets;
  const count = opts.replicas ?? 3;
  const replicas: Replica[] = [];
  for (let i = 0; i < count; i++) {
    const replicaPort = opts.replicaPorts?.[i] ?? (await freePort());
    const proc = workerd({
      configPath: join(dir, `edge-${i + 1}.capnp`),
      port: replicaPort,
      logPath: join(dir, `edge-${i + 1}.log`),
      shipClicksTo: broker.appendJson,
    });
    const reconfigure = (bundlePath: string) =>
      proc.configure(
        edgeConfig({
          bundlePath: relative(dir, bundlePath),
          assetsPath: resolve(assetsFor(bundlePath)),
          address: `127.0.0.1:${replicaPort}`,
          kvAddress: data.kv.address,
          queueAddress: `127.0.0.1:${broker.port}`,
          internalToken: secrets.internalToken,
          vars: edgeVars,
        }),
      );
    reconfigure(bundles.worker);
    replicas.push(Object.assign(proc, { index: i, reconfigure }));
  }
  await Promise.all(replicas.map((r) => r.start()));
  onStop(() => Promise.all(replicas.map((r) => r.stop())));
  const shipperMetrics = await serveShipperMetrics({
    port: await port("shipperMetrics"),
    replicas: replicas.map((r) => ({ replica: `edge-${r.index + 1}`, stats: r.clicks })),
    metricsToken: secrets.metricsToken,
    extraMetrics: () => supervisor.metrics(),
  });
  onStop(() => shipperMetrics.close());
  return { replicas, shipperMetrics };
}

/** nginx in front of every replica. */
export async function startLoadBalancer({ dir, port, onStop }: StartContext, replicas: Replica[]) {
  const lbPort = await port("lb");
  const nginxPrefix = join(dir, "nginx");
  const nginx = await startNginx({
    prefix: nginxPrefix,
    port: lbPort,
    config: nginxConfig({
      listen: `127.0.0.1:${lbPort}`,
      replicas: replicas.map((r) => ({ address: `127.0.0.1:${r.port}` })),
      prefix: nginxPrefix,
      user: process.getuid?.() === 0 ? "root" : undefined,
    }),
  });
  onStop(() => nginx.stop());
  return nginx;
}

/** Prometheus scraping every replica, the click shipper and the aggregator, when asked for. */
export async function startMonitoring(
  { opts, dir, secrets, onStop }: StartContext,
  scraped: { replicas: Replica[]; shipperMetrics: { port: number }; aggregator: WorkerdProcess },
) {
  if (!opts.prometheus) return null;
  const prometheus = await startPrometheus({
    dir: join(dir, "prometheus"),
    port: opts.prometheus.port ?? (await freePort()),
    scrapeInterval: opts.prometheus.scrapeInterval,
    metricsToken: secrets.metricsToken,
    targets: {
      edge: scraped.replicas.map((r) => `127.0.0.1:${r.port}`),
      "click-shipper": [`127.0.0.1:${scraped.shipperMetrics.port}`],
      aggregator: [`127.0.0.1:${scraped.aggregator.port}`],
    },
  });
  onStop(() => prometheus.stop());
  return prometheus;
}
