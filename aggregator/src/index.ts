import { openDatabase } from "@shared/db/client";
import { PROMETHEUS_CONTENT_TYPE } from "@shared/metrics/registry";
import { hasBearer } from "@shared/secrets-equal";
import { Redis } from "@upstash/redis/cloudflare";
import { handleClickBatch } from "./handle-batch";
import { recordReconcile, registry } from "./metrics";
import { handlePushedBatch } from "./push-endpoint";
import { reconcileCounters } from "./reconcile";
import { redisCounters } from "./redis-counters";

/** Bindings and secrets of the aggregator worker. */
export type AggregatorEnv = {
  DATABASE_URL: string;
  /** Local and self-host only: the Neon driver's WebSocket-to-TCP proxy. */
  DB_WS_PROXY?: string;
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  /** Self-host only: the broker's bearer token for POST /__queue/{queue}. Unset, the route does not exist. */
  QUEUE_PUSH_TOKEN?: string;
  /** When set, /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN?: string;
};

let redisFor: { env: AggregatorEnv; redis: Redis } | undefined;
/** One REST client per isolate: it holds no connection, only settings. */
function redis(env: AggregatorEnv): Redis {
  if (redisFor?.env !== env) {
    redisFor = {
      env,
      redis: new Redis({
        url: env.UPSTASH_REDIS_REST_URL,
        token: env.UPSTASH_REDIS_REST_TOKEN,
        enableTelemetry: false,
      }),
    };
  }
  return redisFor.redis;
}

const openPool = (env: AggregatorEnv) => () => {
  const { pool, close } = openDatabase({ url: env.DATABASE_URL, wsProxy: env.DB_WS_PROXY });
  return { db: pool, close };
};

async function reconcile(env: AggregatorEnv) {
  const { pool, close } = openDatabase({ url: env.DATABASE_URL, wsProxy: env.DB_WS_PROXY });
  try {
    const report = await reconcileCounters(pool, redis(env));
    recordReconcile(report);
    return report;
  } finally {
    await close();
  }
}

export default {
  /** Consumes `clicks` (and `clicks-dlq` while a replay is running: writes are idempotent). */
  async queue(batch, env) {
    const outcome = await handleClickBatch(batch, openPool(env), redisCounters(redis(env)));
    console.log(JSON.stringify({ queue: batch.queue, ...outcome }));
  },

  /** Cron: repairs Redis click counters that fell behind Postgres, and reports the drift. */
  async scheduled(_controller, env) {
    console.log(JSON.stringify({ reconcile: await reconcile(env) }));
  },

  /** Health and metrics; in self-host also the broker's push endpoint and a reconcile trigger. */
  async fetch(request, env) {
    const url = new URL(request.url);
    const authorization = request.headers.get("authorization");
    const unauthorized = () => new Response("unauthorized\n", { status: 401 });
    if (url.pathname === "/health") return Response.json({ status: "ok" });
    if (url.pathname === "/metrics") {
      if (env.METRICS_TOKEN && !(await hasBearer(authorization, env.METRICS_TOKEN))) return unauthorized();
      return new Response(registry.render(), { headers: { "Content-Type": PROMETHEUS_CONTENT_TYPE } });
    }
    // The broker's routes exist only where QUEUE_PUSH_TOKEN is set (self-host), never on Cloudflare.
    const internal = url.pathname.startsWith("/__queue/") || url.pathname === "/__reconcile";
    if (!env.QUEUE_PUSH_TOKEN || !internal || request.method !== "POST")
      return new Response("not found\n", { status: 404 });
    if (!(await hasBearer(authorization, env.QUEUE_PUSH_TOKEN))) return unauthorized();
    if (url.pathname === "/__reconcile") return Response.json(await reconcile(env));
    const queue = url.pathname.slice("/__queue/".length);
    return handlePushedBatch(request, queue, openPool(env), redisCounters(redis(env)));
  },
} satisfies ExportedHandler<AggregatorEnv>;
