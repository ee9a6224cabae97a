import { clickCounterKey } from "@shared/keys";
import type { Redis } from "@upstash/redis/cloudflare";
import type { ClickCounters } from "./handle-batch";

/** ClickCounters over Redis: one pipeline of INCRBY per batch. */
export function redisCounters(redis: Pick<Redis, "pipeline">): ClickCounters {
  return {
    async add(byLink) {
      const pipeline = redis.pipeline();
      for (const [linkId, n] of byLink) pipeline.incrby(clickCounterKey(linkId), n);
      await pipeline.exec();
    },
  };
}
