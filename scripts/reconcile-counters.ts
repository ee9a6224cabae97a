/**
 * Runs the aggregator's counter reconciliation once, from a shell:
 *   DATABASE_URL=… UPSTASH_REDIS_REST_URL=… UPSTASH_REDIS_REST_TOKEN=… npm run counters:reconcile
 * A deploy that moves click counters to new keys (slug → link id) runs it before the edge
 * deploy, so no click limit reopens while the 15-minute cron has not yet run.
 */
import { Redis } from "@upstash/redis";
import pg from "pg";
import { reconcileCounters } from "../aggregator/src/reconcile";

const { DATABASE_URL, UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN } = process.env;
if (!DATABASE_URL || !UPSTASH_REDIS_REST_URL || !UPSTASH_REDIS_REST_TOKEN) {
  console.error(
    "usage: DATABASE_URL=… UPSTASH_REDIS_REST_URL=… UPSTASH_REDIS_REST_TOKEN=… npm run counters:reconcile",
  );
  process.exit(2);
}
const client = new pg.Client({ connectionString: DATABASE_URL });
await client.connect();
try {
  const redis = new Redis({
    url: UPSTASH_REDIS_REST_URL,
    token: UPSTASH_REDIS_REST_TOKEN,
    enableTelemetry: false,
  });
  console.log(JSON.stringify(await reconcileCounters(client, redis)));
} finally {
  await client.end();
}
