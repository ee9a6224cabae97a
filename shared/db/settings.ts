import { type DatabaseHandle, openDatabase } from "./client";

/**
 * How long each use of Postgres waits for a connection, side by side so the trade-offs read together.
 * Not settings: each follows from what waits on it.
 */
export const CONNECT_TIMEOUT_MS = {
  /** API routes and the aggregator's writes: a caller that can wait; past 5 s a hung Postgres should fail. */
  standard: 5000,
  /**
   * A redirect's KV miss. The redirect stops waiting after `dbFallbackTimeoutMs` (1.5 s by default); this
   * bounds how long the abandoned attempt may still hold a connection in the background.
   */
  kvMiss: 2000,
  /** /ready and /health/detailed answer within a second per dependency: a hung Postgres reads as down. */
  probe: 1000,
} as const;

export type DatabaseUse = keyof typeof CONNECT_TIMEOUT_MS;

/** Where Postgres is and how long each use waits for it: one entry in each worker's config. */
export type DatabaseSettings = {
  url: string;
  /** Local and self-host only: host:port/path of the Neon driver's WebSocket-to-TCP proxy. */
  wsProxy?: string;
  connectTimeoutMs: Readonly<Record<DatabaseUse, number>>;
};

/** The database entry of a worker's config, from DATABASE_URL and DB_WS_PROXY. */
export function readDatabaseSettings(env: { DATABASE_URL: string; DB_WS_PROXY?: string }): DatabaseSettings {
  return { url: env.DATABASE_URL, wsProxy: env.DB_WS_PROXY, connectTimeoutMs: CONNECT_TIMEOUT_MS };
}

/**
 * Opens Postgres for one use; the caller closes it (in waitUntil on a request path).
 *
 * @example const handle = openDatabaseFor(rt.config.database, "probe");
 */
export function openDatabaseFor(settings: DatabaseSettings, use: DatabaseUse): DatabaseHandle {
  return openDatabase({
    url: settings.url,
    wsProxy: settings.wsProxy,
    connectTimeoutMs: settings.connectTimeoutMs[use],
  });
}
