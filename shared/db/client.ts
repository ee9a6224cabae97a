import { Pool } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import { configureNeon } from "./neon-config";
import * as schema from "./schema";

export type Database = NeonDatabase<typeof schema>;

export type DatabaseHandle = { db: Database; pool: Pool; close(): Promise<void> };

/**
 * Opens Postgres through the Neon serverless driver. In Workers a pool cannot outlive
 * the request that opened it, so callers open one per request and close it in waitUntil.
 * `wsProxy` is set only for plain Postgres (local runs, self-host).
 */
export function openDatabase(opts: {
  url: string;
  wsProxy?: string;
  connectTimeoutMs?: number;
}): DatabaseHandle {
  configureNeon({ wsProxy: opts.wsProxy });
  const pool = new Pool({
    connectionString: opts.url,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    max: 4,
  });
  // A dropped connection must not crash the isolate; the query that used it fails instead.
  pool.on("error", () => {});
  return { db: drizzle(pool, { schema }), pool, close: () => pool.end() };
}
