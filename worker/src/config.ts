import { type DatabaseSettings, readDatabaseSettings } from "@shared/db/settings";
import { normalizeHost } from "@shared/domains/host";
import { missingNames, wholeNumberOr } from "@shared/settings";
import type { Env } from "./env";

/** Settings read from the environment once per isolate, not per request; bindings stay on `env`. */
export type Config = {
  database: DatabaseSettings;
  redis: { url: string; token: string; timeoutMs: number };
  /** Bootstrap secret with every scope; null: only API keys authenticate. */
  adminToken: string | null;
  /** Salt of the daily visitor hash; null: redirects go on, no click is recorded. */
  visitorSalt: string | null;
  /** Bearer token /metrics requires; null: /metrics is public. */
  metricsToken: string | null;
  healthDetailedPublic: boolean;
  /** Requests per second of each rate-limit tier (middleware/rate-limit.ts). */
  rateLimitPerSecond: { strict: number; api: number; key: number };
  /** Password attempts per minute on a password link, per client IP and per link (redirect/unlock.ts). */
  passwordAttemptsPerMinute: { ip: number; link: number };
  /** FORWARD_QUERY=true: links that do not say forward the short URL's query string to the target. */
  forwardQueryByDefault: boolean;
  /** "stdout": self-host writes clicks as lines for selfhost/click-shipper.ts; "queue": the CLICKS Queue. */
  clickSink: "queue" | "stdout";
  kvCacheTtl: number;
  /** Milliseconds an isolate keeps a link record it read; 0 turns the cache off. */
  linkCacheMs: number;
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
  /**
   * The default domain: PUBLIC_BASE_URL's host, normalized (shared/domains/host.ts), with its
   * port unless 80 or 443. Its links are stored with the domain "" and keep the KV key they had
   * before there were several domains. Null without PUBLIC_BASE_URL.
   */
  defaultHost: string | null;
  /** What a request whose Host is no configured domain gets: the default domain, or a 404. */
  unknownHosts: "default" | "not-found";
  /** Milliseconds an isolate serves its domain table before re-reading it in the background. */
  domainTableRefreshMs: number;
  corsOrigins: readonly string[];
  trustRequestId: boolean;
  /** Accept loopback, private and link-local link targets (ALLOW_PRIVATE_TARGETS=true, local development). */
  allowPrivateTargets: boolean;
  /** The one header a trusted proxy sets to the client's address; null trusts none (docs/security.md). */
  clientIpHeader: string | null;
  /** The header a trusted proxy sets to the client's country; null: Cloudflare's request.cf only. */
  countryHeader: string | null;
  /** Required settings that are unset: /ready names them (docs/decisions.md). */
  missing: readonly string[];
};

type KvMissFallback = "postgres" | "none";

/**
 * Without these the worker cannot do its whole job: the API (ADMIN_TOKEN, DATABASE_URL), click limits and
 * rate limits (Redis), click recording (VISITOR_SALT). Each missing one degrades, none stops redirects.
 */
const REQUIRED = [
  "ADMIN_TOKEN",
  "DATABASE_URL",
  "UPSTASH_REDIS_REST_URL",
  "UPSTASH_REDIS_REST_TOKEN",
  "VISITOR_SALT",
] as const;
/** A self-hosted replica (clicks on stdout) sits on a shared network: its /metrics must not be public. */
const REQUIRED_IN_SELF_HOST = [...REQUIRED, "METRICS_TOKEN"] as const;

/**
 * The edge worker's settings, each parsed and defaulted here. A missing required value is listed in
 * `missing`, not thrown: redirects need none of them. Throws only for a PUBLIC_BASE_URL that is not a URL.
 */
export function readConfig(env: Env): Config {
  const base = env.PUBLIC_BASE_URL ? env.PUBLIC_BASE_URL.replace(/\/+$/, "") : null;
  const clickSink = env.CLICK_SINK === "stdout" ? "stdout" : "queue";
  return {
    database: readDatabaseSettings(env),
    redis: {
      url: env.UPSTASH_REDIS_REST_URL,
      token: env.UPSTASH_REDIS_REST_TOKEN,
      timeoutMs: wholeNumberOr(env.REDIS_TIMEOUT_MS, 150, 1),
    },
    adminToken: env.ADMIN_TOKEN || null,
    visitorSalt: env.VISITOR_SALT || null,
    metricsToken: env.METRICS_TOKEN || null,
    healthDetailedPublic: env.HEALTH_DETAILED_PUBLIC === "true",
    rateLimitPerSecond: {
      strict: wholeNumberOr(env.RATE_LIMIT_STRICT_PER_SECOND, 10, 1),
      api: wholeNumberOr(env.RATE_LIMIT_API_PER_SECOND, 100, 1),
      key: wholeNumberOr(env.RATE_LIMIT_KEY_PER_SECOND, 1000, 1),
    },
    passwordAttemptsPerMinute: {
      ip: wholeNumberOr(env.PASSWORD_ATTEMPTS_PER_MINUTE_PER_IP, 10, 1),
      link: wholeNumberOr(env.PASSWORD_ATTEMPTS_PER_MINUTE_PER_LINK, 60, 1),
    },
    forwardQueryByDefault: env.FORWARD_QUERY === "true",
    clickSink,
    kvCacheTtl: wholeNumberOr(env.KV_CACHE_TTL, 60, 30),
    linkCacheMs: wholeNumberOr(env.LINK_CACHE_SECONDS, 5, 0) * 1000,
    dbFallbackTimeoutMs: wholeNumberOr(env.DB_FALLBACK_TIMEOUT_MS, 1500, 1),
    negativeCacheSeconds: 10,
    // Anything but "none" keeps the fallback: a typo must not turn new links into 404s on Cloudflare.
    kvMissFallback: env.KV_MISS_FALLBACK?.trim().toLowerCase() === "none" ? "none" : "postgres",
    kvMissFallbackPerSecond: wholeNumberOr(env.KV_MISS_FALLBACK_PER_SECOND, 10, 0),
    publicBaseUrl: base,
    publicHost: base ? new URL(base).hostname : null,
    defaultHost: base ? (normalizeHost(new URL(base).host).host ?? null) : null,
    // Anything but "not-found" keeps today's behaviour: every Host reaches the default domain.
    unknownHosts: env.UNKNOWN_HOSTS?.trim().toLowerCase() === "not-found" ? "not-found" : "default",
    domainTableRefreshMs: wholeNumberOr(env.DOMAIN_TABLE_REFRESH_SECONDS, 5, 1) * 1000,
    trustRequestId: env.TRUST_REQUEST_ID === "true",
    allowPrivateTargets: env.ALLOW_PRIVATE_TARGETS === "true",
    clientIpHeader: env.CLIENT_IP_HEADER?.trim().toLowerCase() || null,
    countryHeader: env.COUNTRY_HEADER?.trim().toLowerCase() || null,
    corsOrigins: (env.CORS_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean),
    missing: missingNames(env, clickSink === "stdout" ? REQUIRED_IN_SELF_HOST : REQUIRED),
  };
}
