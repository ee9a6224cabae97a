/**
 * The self-hosted topology from local processes, the Docker-free twin of
 * docker-compose.test.yml: N workerd replicas of the edge worker behind nginx, the
 * aggregator in workerd fed by the Redis Streams broker, the KV service, Redis with
 * the Upstash REST gateway, Postgres with the Neon WebSocket proxy, and optionally
 * Prometheus. `npm run selfhost` runs it; tests start it with `startCluster()`.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { buildWorkers, type WorkerBundles } from "../scripts/build-workers";
import { migrateDatabase } from "../scripts/migrate";
import { serveShipperMetrics } from "./click-shipper-metrics";
import { startKvService } from "./kv-service";
import { nginxConfig } from "./nginx-config";
import { startQueueBroker } from "./queue-broker";
import { startRedisGateway } from "./redis-rest-gateway";
import { repairAtStart } from "./repair";
import { loadOrCreateSecrets, type SelfhostSecrets } from "./secrets";
import { freePort } from "./services/free-port";
import { startNginx } from "./services/nginx";
import { type Durability, startPostgres } from "./services/postgres";
import { startPrometheus } from "./services/prometheus";
import { startRedis } from "./services/redis";
import { type WorkerdProcess, workerd } from "./services/workerd";
import { Supervisor } from "./supervisor";
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
export type Cluster = Awaited<ReturnType<typeof startCluster>>;

export async function startCluster(opts: ClusterOptions = {}) {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "selfhost-"));
  mkdirSync(dir, { recursive: true });
  // mkdtemp makes it 0700: as root, Postgres runs as its own user and must pass through to data/postgres.
  if (!opts.dir) chmodSync(dir, 0o711);
  const port = async (name: keyof NonNullable<ClusterOptions["ports"]>) =>
    opts.ports?.[name] ?? (await freePort());
  const dataDir = opts.dataDir ?? join(dir, "data");
  const secrets = opts.secrets ?? loadOrCreateSecrets(dataDir);
  const adminToken = secrets.adminToken;
  // One internal token for every service only the cluster's own processes call.
  const { internalToken, metricsToken } = secrets;
  const stops: Array<() => Promise<unknown>> = [];
  const supervisor = new Supervisor();
  /** Each stop gets 10 s, so one stuck service cannot keep Ctrl-C from finishing. */
  const onStop = (fn: () => Promise<unknown>, name = fn.toString().slice(6, 40)) =>
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

  try {
    const bundles = opts.bundles ?? buildWorkers(join(dir, "bundles"));
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

    const shared = {
      DATABASE_URL: databaseUrl,
      DB_WS_PROXY: wsProxy.url,
      UPSTASH_REDIS_REST_URL: gateway.url,
      UPSTASH_REDIS_REST_TOKEN: internalToken,
      METRICS_TOKEN: metricsToken,
    };
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
        vars: { ...shared, QUEUE_PUSH_TOKEN: internalToken },
      }),
    );
    await aggregator.start();
    onStop(() => aggregator.stop());

    const broker = await startQueueBroker({
      redisUrl: redis.url,
      port: await port("broker"),
      token: internalToken,
      consumerUrl: `${aggregator.url}/__queue/clicks`,
      consumerToken: internalToken,
    });
    onStop(() => broker.close());

    const edgeVars = {
      ...shared,
      ADMIN_TOKEN: adminToken,
      VISITOR_SALT: secrets.visitorSalt,
      TRUST_REQUEST_ID: "true",
      // nginx sets it from the connection's address, after clearing what the client sent.
      CLIENT_IP_HEADER: "X-Real-IP",
      HEALTH_DETAILED_PUBLIC: "false",
      ...opts.vars,
    };
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
            address: `127.0.0.1:${replicaPort}`,
            kvAddress: kv.address,
            queueAddress: `127.0.0.1:${broker.port}`,
            internalToken,
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
      metricsToken,
      extraMetrics: () => supervisor.metrics(),
    });
    onStop(() => shipperMetrics.close());

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

    const prometheus = opts.prometheus
      ? await startPrometheus({
          dir: join(dir, "prometheus"),
          port: opts.prometheus.port ?? (await freePort()),
          scrapeInterval: opts.prometheus.scrapeInterval,
          metricsToken,
          targets: {
            edge: replicas.map((r) => `127.0.0.1:${r.port}`),
            "click-shipper": [`127.0.0.1:${shipperMetrics.port}`],
            aggregator: [`127.0.0.1:${aggregatorPort}`],
          },
        })
      : null;
    if (prometheus) onStop(() => prometheus.stop());

    // Registered last, so stopped first: nothing is brought back while the rest shuts down.
    if (postgres) supervisor.watch("postgres", postgres);
    supervisor.watch("redis", redis);
    supervisor.watch("aggregator", aggregator);
    for (const replica of replicas) supervisor.watch(`edge-${replica.index + 1}`, replica);
    supervisor.watch("nginx", nginx);
    if (prometheus) supervisor.watch("prometheus", prometheus);
    onStop(() => supervisor.close());

    return {
      dir,
      dataDir,
      supervisor,
      lbUrl: nginx.url,
      nginx,
      adminToken,
      secrets,
      databaseUrl,
      bundles,
      postgres,
      redis,
      gateway,
      wsProxy,
      shipperMetrics,
      kv,
      broker,
      aggregator,
      replicas,
      prometheus,
      async close() {
        for (const stop of stops) await stop().catch(() => {});
        if (!opts.dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const stop of stops) await stop().catch(() => {});
    throw err;
  }
}
