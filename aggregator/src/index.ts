import { openDatabase } from "@shared/db/client";
import { PROMETHEUS_CONTENT_TYPE } from "@shared/metrics/registry";
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
    const bearer = request.headers.get("authorization");
    if (url.pathname === "/health") return Response.json({ status: "ok" });
    if (url.pathname === "/metrics") {
      if (env.METRICS_TOKEN && bearer !== `Bearer ${env.METRICS_TOKEN}`)
        return new Response("unauthorized\n", { status: 401 });
      return new Response(registry.render(), { headers: { "Content-Type": PROMETHEUS_CONTENT_TYPE } });
    }
    const internal =
      env.QUEUE_PUSH_TOKEN && bearer === `Bearer ${env.QUEUE_PUSH_TOKEN}` && request.method === "POST";
    if (internal && url.pathname.startsWith("/__queue/")) {
      const queue = url.pathname.slice("/__queue/".length);
      return handlePushedBatch(request, queue, openPool(env), redisCounters(redis(env)));
    }
    if (internal && url.pathname === "/__reconcile") return Response.json(await reconcile(env));
    return new Response("not found\n", { status: 404 });
  },
} satisfies ExportedHandler<AggregatorEnv>;
