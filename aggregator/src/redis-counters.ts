import { clickCounterKey } from "@shared/keys";
import type { Redis } from "@upstash/redis/cloudflare";
import type { ClickCounters } from "./handle-batch";

/** ClickCounters over Redis: one pipeline of INCRBY per batch. */
export function redisCounters(redis: Pick<Redis, "pipeline">): ClickCounters {
  return {
    async add(bySlug) {
      const pipeline = redis.pipeline();
      for (const [slug, n] of bySlug) pipeline.incrby(clickCounterKey(slug), n);
      await pipeline.exec();
    },
  };
}
