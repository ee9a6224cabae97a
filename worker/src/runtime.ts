import type { ClickCounter, ClickSink, LinkStore } from "@shared/ports";
import { MissingSettingsError } from "@shared/settings";
import type { Redis } from "@upstash/redis/cloudflare";
import { CachedLinkStore } from "./adapters/cached-link-store";
import { KvFeedIndex, notingWrites } from "./adapters/kv-feed-index";
import { KvLinkStore } from "./adapters/kv-link-store";
import { QueueClickSink } from "./adapters/queue-click-sink";
import { createRedis } from "./adapters/redis";
import { RedisClickCounter } from "./adapters/redis-click-counter";
import { StdoutClickSink } from "./adapters/stdout-click-sink";
import { type Config, readConfig } from "./config";
import type { Env } from "./env";
import { DomainTable } from "./services/domain-table";
import { NegativeCache } from "./services/negative-cache";
import { TokenBucket } from "./services/token-bucket";

/** What the routes use, built once per isolate from the bindings. */
export type Runtime = {
  config: Config;
  links: LinkStore;
  /** The in-memory layer of `links`: a redirect of a link this isolate holds answers without a promise. */
  cachedLinks: CachedLinkStore;
  /** Which site (stored domain, redirects) a request's Host gets; kept in memory, refreshed from KV. */
  domains: DomainTable;
  counter: ClickCounter;
  clicks: ClickSink;
  redis: Redis;
  missing: NegativeCache;
  /** Postgres queries KV misses may still make (config.kvMissFallbackPerSecond). */
  fallbackBudget: TokenBucket;
  /**
   * Self-host: the index of the KV service's keys, so a never-seen slug costs no KV read; null where KV is
   * not the complete read model (Cloudflare: KV_MISS_FALLBACK=postgres) or there is no feed to follow.
   */
  keyIndex: KvFeedIndex | null;
  /** KV reads keys absent from the index may still make (a link created on another replica since the last pull). */
  absentReadBudget: TokenBucket;
};

/**
 * Per isolate and second: the index lags the store by up to a pull (about a second), so a link created on
 * another replica meanwhile is read from KV within this budget; past it, a flood of unknown slugs costs no reads.
 */
const ABSENT_READS_PER_SECOND = 20;

let cached: Runtime | undefined;

/**
 * The isolate's runtime, built from the bindings of its first request. workerd hands
 * each request a fresh `env` object with the same bindings, so keying on the object
 * would rebuild everything (and empty the link cache) per request.
 */
export function runtimeFor(env: Env): Runtime {
  if (cached) return cached;
  const config = readConfig(env);
  const redis = createRedis(config.redis.url, config.redis.token, config.redis.timeoutMs);
  if (config.missing.length) console.error(new MissingSettingsError("edge worker", config.missing).message);
  const links = new CachedLinkStore(new KvLinkStore(env.LINKS, config.kvCacheTtl), config.linkCacheMs);
  const keyIndex = env.KV_FEED && config.kvMissFallback === "none" ? new KvFeedIndex(env.KV_FEED) : null;
  const runtime: Runtime = {
    config,
    links: keyIndex ? notingWrites(links, keyIndex) : links,
    cachedLinks: links,
    domains: new DomainTable(
      env.LINKS,
      { defaultHost: config.defaultHost, unknownHosts: config.unknownHosts },
      config.domainTableRefreshMs,
      config.kvCacheTtl,
    ),
    counter: new RedisClickCounter(redis),
    // Self-host ships clicks from stdout (see StdoutClickSink); Cloudflare sends each to its Queue.
    clicks: config.clickSink === "stdout" ? new StdoutClickSink() : new QueueClickSink(env.CLICKS),
    redis,
    missing: new NegativeCache(10_000),
    fallbackBudget: new TokenBucket(config.kvMissFallbackPerSecond),
    keyIndex,
    absentReadBudget: new TokenBucket(ABSENT_READS_PER_SECOND),
  };
  cached = runtime;
  return runtime;
}
