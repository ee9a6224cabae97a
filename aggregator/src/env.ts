/**
 * Secrets of the aggregator worker (aggregator/wrangler.toml); read only by config.ts, which also says which
 * are required.
 */
export type AggregatorEnv = {
  DATABASE_URL: string;
  /** Local and self-host only: the Neon driver's WebSocket-to-TCP proxy. */
  DB_WS_PROXY?: string;
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  /** Self-host only: the broker's bearer token for POST /__queue/{queue}. Unset, the route does not exist. */
  QUEUE_PUSH_TOKEN?: string;
  /**
   * Self-host only: the Durable Object that writes pushed batches over kept Postgres connections
   * (click-writer.ts). Unset, each batch opens its own.
   */
  CLICK_WRITER?: DurableObjectNamespace;
  /** When set, /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN?: string;
};
