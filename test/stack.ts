import { Redis } from "@upstash/redis";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import pg from "pg";
import { inject } from "vitest";
import { startRedisGateway } from "../selfhost/redis-rest-gateway";
import { COMPATIBILITY_DATE } from "../selfhost/workerd-config";
import { postgresAddress, startWsProxy } from "../selfhost/ws-proxy";
import { createTestDatabase } from "./databases";

export const ADMIN_TOKEN = "test-admin-token";
const GATEWAY_TOKEN = "test-gateway-token";

/** A queue consumer for tests that records every message body, so tests can read what the edge sent. */
const RECORDER_SCRIPT = `
export default {
  async queue(batch, env) {
    for (const m of batch.messages) await env.RECEIVED.put(m.body.id, JSON.stringify(m.body));
    batch.ackAll();
  },
  async fetch(request, env) {
    const list = await env.RECEIVED.list();
    const bodies = await Promise.all(list.keys.map((k) => env.RECEIVED.get(k.name, "json")));
    return Response.json(bodies);
  },
};`;

export type StackOptions = {
  /** Which consumer takes the clicks queue: the real aggregator, or a recorder for assertions. */
  consumer?: "aggregator" | "recorder";
  vars?: Record<string, string>;
  /** A database prepared by the test (test/databases.ts); by default a fresh copy of the migrated template. */
  databaseUrl?: string;
};

export type Stack = Awaited<ReturnType<typeof startStack>>;

/**
 * One test file's service: its own Postgres database (copied from the migrated
 * template), Upstash REST gateway, Neon WebSocket proxy and workerd (Miniflare)
 * running the same bundles `wrangler deploy` uploads.
 */
export async function startStack(options: StackOptions = {}) {
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase());

  let [wsProxy, gateway] = await Promise.all([
    startWsProxy({ target: postgresAddress(databaseUrl), token: `proxy-${crypto.randomUUID()}` }),
    startRedisGateway({ redisUrl: inject("redisUrl"), token: GATEWAY_TOKEN }),
  ]);
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const redis = new Redis({ url: gateway.url, token: GATEWAY_TOKEN, enableTelemetry: false });

  const shared = {
    DATABASE_URL: databaseUrl,
    DB_WS_PROXY: wsProxy.url,
    UPSTASH_REDIS_REST_URL: gateway.url,
    UPSTASH_REDIS_REST_TOKEN: GATEWAY_TOKEN,
  };
  // Miniflare 5 takes wrangler-shaped options; the converter keeps the workers below in the flat v4 shape.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      workers: [
        edgeWorker(shared, options.vars),
        consumerWorker(options.consumer ?? "aggregator", shared, options.vars),
      ],
    }),
  );
  await mf.ready;

  const origin = "https://sho.test";
  const { fetchEdge, api, received } = edgeClient(mf, origin);
  return {
    mf,
    origin,
    databaseUrl,
    db,
    redis,
    wsProxy,
    get gateway() {
      return gateway;
    },
    /** Starts the Redis gateway again on its old port after a test closed it. */
    async restartGateway() {
      gateway = await startRedisGateway({
        redisUrl: inject("redisUrl"),
        token: GATEWAY_TOKEN,
        port: gateway.port,
      });
    },
    fetch: fetchEdge,
    api,
    received,
    async close() {
      await mf.dispose();
      await Promise.allSettled([db.end(), wsProxy.close(), gateway.close()]);
    },
  };
}

/** The edge worker from the bundle `wrangler deploy` uploads, with the vars a test stack needs. */
function edgeWorker(shared: Record<string, string>, vars?: Record<string, string>) {
  return {
    name: "edge",
    modules: true,
    scriptPath: inject("workerBundle"),
    compatibilityDate: COMPATIBILITY_DATE,
    kvNamespaces: ["LINKS"],
    queueProducers: { CLICKS: "clicks" },
    // The self-hosted form of the binding (a read-only disk service); wrangler dev serves the same folder.
    serviceBindings: { ASSETS: { disk: { path: inject("assetsDir"), writable: false } } },
    bindings: {
      ...shared,
      ADMIN_TOKEN,
      VISITOR_SALT: "test-salt",
      // As wrangler.toml sets it on Cloudflare, whose edge writes this header itself.
      CLIENT_IP_HEADER: "CF-Connecting-IP",
      KV_CACHE_TTL: "60",
      REDIS_TIMEOUT_MS: "300",
      // Generous limits: test files share one Redis and one client IP; rate-limit.test.ts sets its own.
      RATE_LIMIT_STRICT_PER_SECOND: "100000",
      RATE_LIMIT_API_PER_SECOND: "100000",
      RATE_LIMIT_KEY_PER_SECOND: "100000",
      ...vars,
    },
  };
}

/** The clicks queue's consumer: the real aggregator, or the recorder. */
function consumerWorker(
  consumer: NonNullable<StackOptions["consumer"]>,
  shared: Record<string, string>,
  vars?: Record<string, string>,
) {
  return consumer === "aggregator"
    ? {
        name: "aggregator",
        modules: true,
        scriptPath: inject("aggregatorBundle"),
        compatibilityDate: COMPATIBILITY_DATE,
        queueConsumers: { clicks: { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 3 } },
        bindings: { ...shared, ...vars },
      }
    : {
        name: "recorder",
        modules: true,
        script: RECORDER_SCRIPT,
        compatibilityDate: COMPATIBILITY_DATE,
        kvNamespaces: ["RECEIVED"],
        queueConsumers: { clicks: { maxBatchSize: 100, maxBatchTimeout: 1 } },
      };
}

/** How tests talk to the stack: requests to the edge, the API as the admin, what the recorder received. */
function edgeClient(mf: Miniflare, origin: string) {
  const fetchEdge = (path: string, init: RequestInit = {}) =>
    mf.dispatchFetch(`${origin}${path}`, {
      redirect: "manual",
      ...init,
    } as never) as unknown as Promise<Response>;

  /** Calls the API as the admin, with a JSON body when given. */
  const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetchEdge(`/api/v1${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });

  /** Queue messages the recorder consumer received. */
  const received = async (): Promise<Array<Record<string, unknown>>> => {
    const recorder = await mf.getWorker("recorder");
    const res = await recorder.fetch("http://recorder/");
    return (await res.json()) as Array<Record<string, unknown>>;
  };
  return { fetchEdge, api, received };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
}

/** A new API key of `ownerId` with `scopes`, made through `POST /api/v1/keys` with the admin token. */
export async function apiKeyOf(stack: Stack, ownerId: string, scopes: string[]): Promise<string> {
  const res = await stack.api("POST", "/keys", { name: ownerId, ownerId, scopes });
  if (res.status !== 201) throw new Error(`POST /keys answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}
