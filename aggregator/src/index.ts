import { openDatabase } from "@shared/db/client";
import { Redis } from "@upstash/redis/cloudflare";
import { handleClickBatch } from "./handle-batch";
import { reconcileCounters } from "./reconcile";

/** Bindings and secrets of the aggregator worker. */
export type AggregatorEnv = {
  DATABASE_URL: string;
  /** Local and self-host only: the Neon driver's WebSocket-to-TCP proxy. */
  DB_WS_PROXY?: string;
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
};

export default {
  /** Consumes `clicks` (and `clicks-dlq` while a replay is running: writes are idempotent). */
  async queue(batch, env) {
    const outcome = await handleClickBatch(batch, () => {
      const { pool, close } = openDatabase({ url: env.DATABASE_URL, wsProxy: env.DB_WS_PROXY });
      return { db: pool, close };
    });
    console.log(JSON.stringify({ queue: batch.queue, ...outcome }));
  },

  /** Cron: repairs Redis click counters that fell behind Postgres, and reports the drift. */
  async scheduled(_controller, env) {
    const { pool, close } = openDatabase({ url: env.DATABASE_URL, wsProxy: env.DB_WS_PROXY });
    try {
      const redis = new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
      console.log(JSON.stringify({ reconcile: await reconcileCounters(pool, redis) }));
    } finally {
      await close();
    }
  },
} satisfies ExportedHandler<AggregatorEnv>;
