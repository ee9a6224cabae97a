import type { ClickCounter, ClickSink, LinkStore } from "@shared/ports";
import { MissingSettingsError } from "@shared/settings";
import type { Redis } from "@upstash/redis/cloudflare";
import { CachedLinkStore } from "./adapters/cached-link-store";
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
  /** Which site (stored domain, redirects) a request's Host gets; kept in memory, refreshed from KV. */
  domains: DomainTable;
  counter: ClickCounter;
  clicks: ClickSink;
  redis: Redis;
  missing: NegativeCache;
  /** Postgres queries KV misses may still make (config.kvMissFallbackPerSecond). */
  fallbackBudget: TokenBucket;
};

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
  const runtime: Runtime = {
    config,
    links: new CachedLinkStore(new KvLinkStore(env.LINKS, config.kvCacheTtl), config.linkCacheMs),
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
  };
  cached = runtime;
  return runtime;
}
