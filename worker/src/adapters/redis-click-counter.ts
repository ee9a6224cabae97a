import { clickCounterKey } from "@shared/keys";
import type { ClickCounter } from "@shared/ports";
import type { Redis } from "@upstash/redis/cloudflare";

/** ClickCounter over Redis (Upstash REST in production, the project's gateway locally). */
export class RedisClickCounter implements ClickCounter {
  constructor(private readonly redis: Pick<Redis, "incr" | "get">) {}

  increment(linkId: number): Promise<number> {
    return this.redis.incr(clickCounterKey(linkId));
  }

  async current(linkId: number): Promise<number> {
    const value = await this.redis.get<number | string>(clickCounterKey(linkId));
    return value == null ? 0 : Number(value);
  }
}
