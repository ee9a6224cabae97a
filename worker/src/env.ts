import type { ClickEvent } from "@shared/events";

/**
 * Bindings and secrets of the edge worker (wrangler.toml, .dev.vars.example). Settings are read only by
 * config.ts, which also says which are required; the rest of the code reads bindings from here.
 */
export type Env = {
  LINKS: KVNamespace;
  CLICKS: Queue<ClickEvent>;
  /** The dashboard's and API reference's files (dist/assets): Workers static assets, or a workerd disk service. */
  ASSETS?: Fetcher;
  /**
   * Self-host only: the KV service's change feed of keys (selfhost/kv-service/change-log.ts), same service as
   * LINKS; the isolate's key index follows it (adapters/kv-feed-index.ts).
   */
  KV_FEED?: Fetcher;
  /** Self-host only: "stdout" writes clicks as lines for selfhost/click-shipper.ts instead of CLICKS. */
  CLICK_SINK?: string;
  /** Postgres (Neon in production). */
  DATABASE_URL: string;
  /** Local and self-host only: host:port/path of the WebSocket-to-TCP proxy for the Neon driver. */
  DB_WS_PROXY?: string;
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  /** Bootstrap secret with every scope. */
  ADMIN_TOKEN: string;
  /** Salt of the daily visitor hash. Unset, redirects go on but no click is recorded (and /ready says so). */
  VISITOR_SALT?: string;
  /** Public origin of short links, e.g. https://sho.rt; defaults to the request's origin. */
  PUBLIC_BASE_URL?: string;
  /** "default" (default): a Host that is no configured domain gets the default domain; "not-found": a 404. */
  UNKNOWN_HOSTS?: string;
  /** Seconds an isolate serves its in-memory domain table before re-reading it from KV in the background (default 5). */
  DOMAIN_TABLE_REFRESH_SECONDS?: string;
  /** Seconds the edge may cache a KV read (Cloudflare's minimum is 30). */
  KV_CACHE_TTL?: string;
  /** Seconds an isolate keeps link records in memory in front of KV (default 5; 0 = off). */
  LINK_CACHE_SECONDS?: string;
  /** Milliseconds before a Redis call on the redirect path gives up and fails open. */
  REDIS_TIMEOUT_MS?: string;
  /** Requests per second: per IP on key endpoints, per IP on the API, per API key. */
  RATE_LIMIT_STRICT_PER_SECOND?: string;
  RATE_LIMIT_API_PER_SECOND?: string;
  RATE_LIMIT_KEY_PER_SECOND?: string;
  /** Password attempts per minute on password links: per client IP (default 10) and per link (default 60). */
  PASSWORD_ATTEMPTS_PER_MINUTE_PER_IP?: string;
  PASSWORD_ATTEMPTS_PER_MINUTE_PER_LINK?: string;
  /** "true": links that do not say forward the short URL's query string to their target (default: off). */
  FORWARD_QUERY?: string;
  /** Self-host only: "true" when a trusted load balancer sets X-Request-Id (nginx's $request_id). */
  TRUST_REQUEST_ID?: string;
  /** "true" accepts link targets on localhost and loopback, private or link-local addresses. */
  ALLOW_PRIVATE_TARGETS?: string;
  /**
   * The header holding the client's address, set by a proxy in front that overwrites what clients send:
   * "CF-Connecting-IP" on Cloudflare (wrangler.toml), "X-Real-IP" behind the self-host nginx. Unset, no
   * header is trusted (but CF-Connecting-IP where the request came through Cloudflare, with `request.cf`):
   * every client shares one rate-limit bucket and visitors are not told apart.
   */
  CLIENT_IP_HEADER?: string;
  /** Self-host: a header a trusted proxy sets to the client's country (e.g. from GeoIP). Unset, no country. */
  COUNTRY_HEADER?: string;
  /** Comma-separated origins allowed to call the API from browsers ("*" for any); unset, no CORS. */
  CORS_ORIGINS?: string;
  /** When set, /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN?: string;
  /** "true" makes /health/detailed public; otherwise it needs the admin token. */
  HEALTH_DETAILED_PUBLIC?: string;
  /** Milliseconds a KV miss may wait for Postgres. */
  DB_FALLBACK_TIMEOUT_MS?: string;
  /** "postgres" (default): a KV miss may ask Postgres; "none": a KV miss is a 404 (self-host, where KV is complete). */
  KV_MISS_FALLBACK?: string;
  /** Postgres queries per second each isolate may spend on KV misses (default 10). */
  KV_MISS_FALLBACK_PER_SECOND?: string;
};

/** Who is calling the API. */
export type Principal = { ownerId: string; scopes: readonly string[]; keyId: number | null };

export type AppEnv = { Bindings: Env; Variables: { principal: Principal } };
