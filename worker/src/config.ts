import type { Env } from "./env";

/** Settings read from the environment once per isolate, not per request. */
export type Config = {
  kvCacheTtl: number;
  /** Milliseconds an isolate keeps a link record it read; 0 turns the cache off. */
  linkCacheMs: number;
  redisTimeoutMs: number;
  dbFallbackTimeoutMs: number;
  /** Seconds a slug unknown to KV and Postgres is remembered as missing. */
  negativeCacheSeconds: number;
  /**
   * How a KV miss is answered: "postgres" asks Postgres, at most `kvMissFallbackPerSecond`
   * times a second per isolate, because Cloudflare's KV takes up to a minute to show a new
   * link everywhere; "none" answers 404 at once, for a KV that is complete and strongly
   * consistent (the self-hosted KV service).
   */
  kvMissFallback: KvMissFallback;
  kvMissFallbackPerSecond: number;
  publicBaseUrl: string | null;
  publicHost: string | null;
  corsOrigins: readonly string[];
  trustRequestId: boolean;
  /** Accept loopback, private and link-local link targets (ALLOW_PRIVATE_TARGETS=true, local development). */
  allowPrivateTargets: boolean;
  /** The one header a trusted proxy sets to the client's address; null trusts none (docs/security.md). */
  clientIpHeader: string | null;
  /** The header a trusted proxy sets to the client's country; null: Cloudflare's request.cf only. */
  countryHeader: string | null;
};

export type KvMissFallback = "postgres" | "none";

const intOr = (raw: string | undefined, fallback: number, min: number): number => {
  const n = raw === undefined ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isFinite(n) && n >= min ? n : fallback;
};

export function readConfig(env: Env): Config {
  const base = env.PUBLIC_BASE_URL ? env.PUBLIC_BASE_URL.replace(/\/+$/, "") : null;
  return {
    kvCacheTtl: intOr(env.KV_CACHE_TTL, 60, 30),
    linkCacheMs: intOr(env.LINK_CACHE_SECONDS, 5, 0) * 1000,
    redisTimeoutMs: intOr(env.REDIS_TIMEOUT_MS, 150, 1),
    dbFallbackTimeoutMs: intOr(env.DB_FALLBACK_TIMEOUT_MS, 1500, 1),
    negativeCacheSeconds: 10,
    // Anything but "none" keeps the fallback: a typo must not turn new links into 404s on Cloudflare.
    kvMissFallback: env.KV_MISS_FALLBACK?.trim().toLowerCase() === "none" ? "none" : "postgres",
    kvMissFallbackPerSecond: intOr(env.KV_MISS_FALLBACK_PER_SECOND, 10, 0),
    publicBaseUrl: base,
    publicHost: base ? new URL(base).hostname : null,
    trustRequestId: env.TRUST_REQUEST_ID === "true",
    allowPrivateTargets: env.ALLOW_PRIVATE_TARGETS === "true",
    clientIpHeader: env.CLIENT_IP_HEADER?.trim().toLowerCase() || null,
    countryHeader: env.COUNTRY_HEADER?.trim().toLowerCase() || null,
    corsOrigins: (env.CORS_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean),
  };
}
