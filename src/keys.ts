/**
 * Every KV and Redis key string the service uses, built in one place so that the
 * worker, the aggregator and the self-host adapters can never disagree on a prefix.
 */

/** KV key of the compact link record the redirect reads. */
export const linkKey = (slug: string): string => `link:${slug}`;

/** Redis counter of redirects served for a slug (approximate; Postgres is the truth). */
export const clickCounterKey = (slug: string): string => `clicks:${slug}`;

/** Prefix under which every @upstash/ratelimit key lives. */
export const RATE_LIMIT_PREFIX = "rl";

/** Rate-limit prefix for one tier (`rl:strict`, `rl:api`, `rl:key`). */
export const rateLimitPrefix = (tier: string): string => `${RATE_LIMIT_PREFIX}:${tier}`;
