import { openDatabaseFor } from "@shared/db/settings";
import { MissingSettingsError } from "@shared/settings";
import { Redis } from "@upstash/redis/cloudflare";
import { type AggregatorConfig, readConfig } from "./config";
import type { AggregatorEnv } from "./env";
import type { Queryable } from "./writer";

/** What the aggregator's handlers use, built once per isolate from the bindings. */
export type AggregatorRuntime = {
  config: AggregatorConfig;
  /** One REST client per isolate: it holds no connection, only settings. */
  redis: Redis;
  /** A Postgres pool for one batch or one reconciliation; the caller closes it. */
  openPool(): { db: Queryable; close(): Promise<void> };
};

let cached: AggregatorRuntime | undefined;

/**
 * The isolate's runtime, built from the bindings of its first event. workerd hands each
 * request a fresh `env` object with the same bindings, so keying on the object would
 * rebuild it per request (as the worker's runtimeFor explains).
 */
export function runtimeFor(env: AggregatorEnv): AggregatorRuntime {
  if (cached) return cached;
  const config = readConfig(env);
  if (config.missing.length) console.error(new MissingSettingsError("aggregator", config.missing).message);
  cached = {
    config,
    redis: new Redis({ url: config.redis.url, token: config.redis.token, enableTelemetry: false }),
    openPool: () => {
      const { pool, close } = openDatabaseFor(config.database, "standard");
      return { db: pool, close };
    },
  };
  return cached;
}
