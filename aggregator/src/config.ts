import { type DatabaseSettings, readDatabaseSettings } from "@shared/db/settings";
import { missingNames } from "@shared/settings";
import type { AggregatorEnv } from "./env";

/** The aggregator's settings, read from the environment once per isolate. */
export type AggregatorConfig = {
  database: DatabaseSettings;
  redis: { url: string; token: string };
  /** Bearer token /metrics requires; null: /metrics is public. */
  metricsToken: string | null;
  /** Self-host only: the broker's token; null: the broker routes (/__queue/*, /__reconcile) do not exist. */
  queuePushToken: string | null;
  /** Required settings that are unset, logged once per isolate (docs/decisions.md). */
  missing: readonly string[];
};

/** Without these no click is stored (Postgres) and no counter follows it (Redis). */
const REQUIRED = ["DATABASE_URL", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"] as const;
/** Self-host (the broker pushes, QUEUE_PUSH_TOKEN set) is on a shared network: /metrics must not be public. */
const REQUIRED_IN_SELF_HOST = [...REQUIRED, "METRICS_TOKEN"] as const;

/** The aggregator's settings; a missing required value is listed in `missing`, never thrown. */
export function readConfig(env: AggregatorEnv): AggregatorConfig {
  const queuePushToken = env.QUEUE_PUSH_TOKEN || null;
  return {
    database: readDatabaseSettings(env),
    redis: { url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN },
    metricsToken: env.METRICS_TOKEN || null,
    queuePushToken,
    missing: missingNames(env, queuePushToken ? REQUIRED_IN_SELF_HOST : REQUIRED),
  };
}
