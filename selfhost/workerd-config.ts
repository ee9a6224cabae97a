/**
 * `bundlePath` is relative to the config file's directory: capnp resolves an absolute
 * `embed` path against its import roots, not the file system.
 *
 * workerd configurations for the self-hosted cluster: the same bundles `wrangler
 * deploy` uploads, with the Cloudflare bindings pointed at local services — KV at the
 * KV service, the queue at the Redis Streams broker — and plain-text vars for secrets.
 * Those services require the deployment's internal token, which workerd adds to every
 * request of the binding (`injectRequestHeaders`): the worker never sees it. Every
 * self-host config carries METRICS_TOKEN, so `/metrics` is never public there.
 */

import { bearer, requireToken } from "./internal-auth";

/** The same date as both wrangler.toml files. */
export const COMPATIBILITY_DATE = "2026-11-17";

/**
 * V8 flags for every workerd process of the cluster. With V8's default young generation
 * a workerd isolate lets garbage pile up (RSS 36 MB → 220 MB over 120k requests to a
 * constant 302) and answers stall 70–135 ms when it is collected; 1 MB semi-spaces keep
 * it near 75 MB with stalls of 20–30 ms (docs/benchmarks.md).
 */
export const V8_FLAGS = ["--max-semi-space-size=1"];

const str = (s: string) => JSON.stringify(s);

/** Throws unless the self-host vars carry METRICS_TOKEN. */
function requireMetricsToken(vars: Record<string, string>): Record<string, string> {
  if (!vars.METRICS_TOKEN)
    throw new Error("self-hosted workers need METRICS_TOKEN: /metrics must not be public");
  return vars;
}

const textBindings = (vars: Record<string, string>) =>
  Object.entries(vars).map(([name, value]) => `(name = ${str(name)}, text = ${str(value)})`);

function config(opts: {
  service: string;
  bundlePath: string;
  address: string;
  bindings: string[];
  externals: Array<{ name: string; address: string; token: string }>;
  /** Read-only folders served as services (the dashboard's files), bound by name. */
  disks?: Array<{ name: string; path: string }>;
  /** More fields of the Worker struct (Durable Object namespaces and their storage). */
  workerFields?: string[];
}): string {
  const services = [
    `(name = ${str(opts.service)}, worker = .worker)`,
    ...(opts.disks ?? []).map(
      (d) => `(name = ${str(d.name)}, disk = (path = ${str(d.path)}, writable = false))`,
    ),
    ...opts.externals.map(
      (e) =>
        `(name = ${str(e.name)}, external = (address = ${str(e.address)}, http = (injectRequestHeaders = [(name = "Authorization", value = ${str(bearer(e.token))})])))`,
    ),
    // The default outbound service, opened to this machine so the worker reaches the
    // Redis gateway and the Postgres proxy on 127.0.0.1.
    `(name = "internet", network = (allow = ["public", "private", "local"]))`,
  ];
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    ${services.join(",\n    ")}
  ],
  sockets = [ (name = "http", address = ${str(opts.address)}, http = (), service = ${str(opts.service)}) ],
  v8Flags = [ ${V8_FLAGS.map(str).join(", ")} ],
);

const worker :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed ${str(opts.bundlePath)}) ],
  compatibilityDate = ${str(COMPATIBILITY_DATE)},${(opts.workerFields ?? []).map((f) => `\n  ${f},`).join("")}
  bindings = [
    ${opts.bindings.join(",\n    ")}
  ],
);
`;
}

/**
 * One edge replica: KV and queue bindings served by the local KV service and broker.
 * Clicks leave as stdout lines (CLICK_SINK=stdout), so whoever runs this workerd must
 * ship them: `workerd({ shipClicksTo })` or selfhost/container-entry.ts. ASSETS is the dashboard's files
 * (`dist/assets`, built by dashboard/build.ts) through a read-only disk service, as Workers static assets
 * serve them on Cloudflare; the worker adds the headers itself in both.
 */
export function edgeConfig(opts: {
  bundlePath: string;
  /** Absolute path of the built dashboard files (scripts/build-workers.ts puts them beside the bundles). */
  assetsPath: string;
  address: string;
  kvAddress: string;
  queueAddress: string;
  /** What the KV service and the broker require (selfhost/internal-auth.ts). */
  internalToken: string;
  vars: Record<string, string>;
}): string {
  const token = requireToken(opts.internalToken, "edge config");
  return config({
    service: "edge",
    bundlePath: opts.bundlePath,
    address: opts.address,
    bindings: [
      '(name = "LINKS", kvNamespace = "kvstore")',
      // The same service's change feed of keys, for the isolate's key index (worker/src/adapters/kv-feed-index.ts).
      '(name = "KV_FEED", service = "kvstore")',
      '(name = "CLICKS", queue = "qstore")',
      '(name = "ASSETS", service = "assets")',
      ...textBindings({ CLICK_SINK: "stdout", KV_MISS_FALLBACK: "none", ...requireMetricsToken(opts.vars) }),
    ],
    externals: [
      { name: "kvstore", address: opts.kvAddress, token },
      { name: "qstore", address: opts.queueAddress, token },
    ],
    disks: [{ name: "assets", path: opts.assetsPath }],
  });
}

/**
 * The aggregator: its queue handler is fed by the broker through POST /__queue/clicks, which
 * it hands to the ClickWriter Durable Object (aggregator/src/click-writer.ts) to reuse Postgres
 * connections. The object stores nothing, so its storage is memory; kept from eviction, its
 * pool's idle timeout decides when a connection closes.
 */
export function aggregatorConfig(opts: {
  bundlePath: string;
  address: string;
  vars: Record<string, string>;
}): string {
  return config({
    service: "aggregator",
    bundlePath: opts.bundlePath,
    address: opts.address,
    bindings: [
      '(name = "CLICK_WRITER", durableObjectNamespace = "ClickWriter")',
      ...textBindings(requireMetricsToken(opts.vars)),
    ],
    externals: [],
    workerFields: [
      'durableObjectNamespaces = [ (className = "ClickWriter", uniqueKey = "aggregator-click-writer", preventEviction = true) ]',
      "durableObjectStorage = (inMemory = void)",
    ],
  });
}

/** The vars and secrets each worker reads (worker/src/env.ts, aggregator/src/env.ts). */
export const EDGE_VARS = [
  "DATABASE_URL",
  "DB_WS_PROXY",
  "UPSTASH_REDIS_REST_URL",
  "UPSTASH_REDIS_REST_TOKEN",
  "ADMIN_TOKEN",
  "VISITOR_SALT",
  "PUBLIC_BASE_URL",
  "UNKNOWN_HOSTS",
  "DOMAIN_TABLE_REFRESH_SECONDS",
  "KV_CACHE_TTL",
  "LINK_CACHE_SECONDS",
  "REDIS_TIMEOUT_MS",
  "DB_FALLBACK_TIMEOUT_MS",
  "RATE_LIMIT_STRICT_PER_SECOND",
  "RATE_LIMIT_API_PER_SECOND",
  "RATE_LIMIT_KEY_PER_SECOND",
  "PASSWORD_ATTEMPTS_PER_MINUTE_PER_IP",
  "PASSWORD_ATTEMPTS_PER_MINUTE_PER_LINK",
  "FORWARD_QUERY",
  "TRUST_REQUEST_ID",
  "ALLOW_PRIVATE_TARGETS",
  "CLIENT_IP_HEADER",
  "COUNTRY_HEADER",
  "CORS_ORIGINS",
  "METRICS_TOKEN",
  "HEALTH_DETAILED_PUBLIC",
  "CLICK_SINK",
] as const;

export const AGGREGATOR_VARS = [
  "DATABASE_URL",
  "DB_WS_PROXY",
  "UPSTASH_REDIS_REST_URL",
  "UPSTASH_REDIS_REST_TOKEN",
  "QUEUE_PUSH_TOKEN",
  "METRICS_TOKEN",
] as const;
