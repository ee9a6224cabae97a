import IORedis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedis } from "../services/redis";
import { KvStore } from "./store";

let redis: RedisServer;
let raw: IORedis;
beforeAll(async () => {
  redis = await startRedis();
  raw = new IORedis(redis.url);
});
afterAll(async () => {
  raw?.disconnect();
  await redis?.dispose();
});

type Loading = { redis: IORedis; load(): Promise<void> };

/**
 * The store loads what Redis holds at start and at every reconnect, while it serves writes: a key deleted (or
 * written) here while its value was being read from Redis must not come back with the value read.
 */
describe("KvStore loading Redis while it serves", () => {
  it("keeps a key deleted, and a key written, while the load's reads of them were under way", async () => {
    const store = await KvStore.open(redis.url);
    try {
      // Held by Redis, not yet by this store: as after a start while Redis was down.
      await raw.hset("kv:link:gone", "v", "old");
      await raw.hset("kv:link:new", "v", "old");
      const inside = store as unknown as Loading;
      const pipeline = inside.redis.pipeline.bind(inside.redis);
      let writes: Promise<void>[] = [];
      inside.redis.pipeline = ((...args: Parameters<typeof pipeline>) => {
        const p = pipeline(...args);
        const exec = p.exec.bind(p);
        p.exec = ((...a: Parameters<typeof exec>) => {
          const answered = exec(...a);
          // Sent after the load's reads, on the same connection: Redis answers the reads first.
          writes = [
            store.delete("link:gone"),
            store.put("link:new", { value: Buffer.from("new"), metadata: null, expiresAt: null }),
          ];
          return answered;
        }) as typeof exec;
        return p;
      }) as typeof inside.redis.pipeline;
      await inside.load();
      await Promise.all(writes);
      expect(store.get("link:gone")).toBeUndefined();
      expect(store.get("link:new")?.value.toString()).toBe("new");
      expect(store.keys("link:")).toEqual(["link:new"]);
      expect(await raw.exists("kv:link:gone")).toBe(0);
    } finally {
      store.close();
    }
  });
});
