/**
 * Every KV and Redis key string the service uses, built in one place so that the
 * worker, the aggregator and the self-host adapters can never disagree on a prefix.
 */

/**
 * KV key of the compact link record the redirect reads. The default domain (stored as "")
 * keeps the key it had before there were several domains, `link:{slug}`, so existing KV data
 * needs no migration; another domain's links live under `link:{domain}/{slug}`, which cannot
 * collide with it (a slug has no `/`, a normalized domain no `/` either).
 */
export const linkKey = (domain: string, slug: string): string =>
  domain === "" ? `link:${slug}` : `link:${domain}/${slug}`;

/** Prefix of every link record key, whatever its domain (the self-host repair lists them). */
export const LINK_KEY_PREFIX = "link:";

/** KV key of the domain table every edge isolate keeps in memory (shared/domains/table.ts). */
export const DOMAIN_TABLE_KEY = "config:domains";

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
