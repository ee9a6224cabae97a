/**
 * Every KV and Redis key string the service uses, built in one place so that the
 * worker, the aggregator and the self-host adapters can never disagree on a prefix.
 */

/** KV key of the compact link record the redirect reads. */
export const linkKey = (slug: string): string => `link:${slug}`;

/**
 * Redis counter of redirects served for one link (approximate; Postgres is the truth).
 * Keyed by link id, not slug: a slug freed by a delete and taken again is a new link
 * whose limit starts at zero. `clicks:id:` cannot collide with the older `clicks:{slug}`
 * keys, since slugs have no colon.
 */
export const clickCounterKey = (linkId: number): string => `clicks:id:${linkId}`;

/** Prefix under which every @upstash/ratelimit key lives. */
export const RATE_LIMIT_PREFIX = "rl";

/** Rate-limit prefix for one tier (`rl:strict`, `rl:api`, `rl:key`). */
export const rateLimitPrefix = (tier: string): string => `${RATE_LIMIT_PREFIX}:${tier}`;
