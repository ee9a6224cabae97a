import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisGateway } from "./redis-rest-gateway";
import { type RedisServer, startRedis } from "./services/redis";

const TOKEN = "gateway-test-token";
let server: RedisServer;
let gateway: Awaited<ReturnType<typeof startRedisGateway>>;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  gateway = await startRedisGateway({ redisUrl: server.url, token: TOKEN });
  // Defaults on purpose (auto-pipelining, base64 responses): the client as users run it.
  redis = new Redis({ url: gateway.url, token: TOKEN, enableTelemetry: false });
});
afterAll(async () => {
  await gateway?.close();
  await server?.dispose();
});

describe("Upstash REST gateway with the real @upstash/redis client", () => {
  it("round-trips strings, unicode, numbers and JSON", async () => {
    await redis.set("s", "plain");
    await redis.set("u", "grüße 🚀 — 日本");
    await redis.set("j", { a: 1, b: ["x"] });
    expect(await redis.get("s")).toBe("plain");
    expect(await redis.get("u")).toBe("grüße 🚀 — 日本");
    expect(await redis.get("j")).toEqual({ a: 1, b: ["x"] });
    expect(await redis.get("missing")).toBeNull();
    expect(await redis.incr("n")).toBe(1);
    expect(await redis.incrby("n", 41)).toBe(42);
  });

  it("answers status replies other than OK, hashes and lists", async () => {
    expect(await redis.ping()).toBe("PONG");
    await redis.hset("h", { f1: "v1", f2: 2 });
    expect(await redis.hgetall("h")).toEqual({ f1: "v1", f2: 2 });
    await redis.rpush("l", "a", "b", "c");
    expect(await redis.lrange("l", 0, -1)).toEqual(["a", "b", "c"]);
  });

  it("runs pipelines and transactions", async () => {
    const p = redis.pipeline();
    p.set("p1", "x");
    p.incr("p2");
    p.get("p1");
    expect(await p.exec()).toEqual(["OK", 1, "x"]);
    const tx = redis.multi();
    tx.incr("t");
    tx.incr("t");
    expect(await tx.exec()).toEqual([1, 2]);
  });

  it("runs Lua scripts through EVAL and EVALSHA", async () => {
    expect(await redis.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", ["lua"], [5])).toBe(5);
    const sha = await redis.scriptLoad("return ARGV[1]");
    expect(await redis.evalsha(sha, [], ["hello"])).toBe("hello");
    await expect(redis.evalsha("0".repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
  });

  it("surfaces Redis errors and refuses a wrong token", async () => {
    await redis.set("str", "x");
    await expect(redis.incr("str")).rejects.toThrow(/not an integer/);
    const intruder = new Redis({ url: gateway.url, token: "wrong", enableTelemetry: false, retry: false });
    await expect(intruder.get("s")).rejects.toThrow(/Unauthorized/);
  });
});

describe("@upstash/ratelimit over the gateway", () => {
  it("refuses the 11th request within the window of a 10/s sliding window, then allows again", async () => {
    const limiter = new Ratelimit({ redis, limiter: Ratelimit.slidingWindow(10, "1 s"), prefix: "rl-test" });
    const id = crypto.randomUUID();
    const results = [];
    for (let i = 0; i < 11; i++) results.push((await limiter.limit(id)).success);
    expect(results.slice(0, 10).every(Boolean)).toBe(true);
    expect(results[10]).toBe(false);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await limiter.limit(id)).success).toBe(true);
  });

  it("counts a fixed window exactly", async () => {
    const limiter = new Ratelimit({ redis, limiter: Ratelimit.fixedWindow(3, "10 s"), prefix: "rl-fixed" });
    const id = crypto.randomUUID();
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await limiter.limit(id));
    expect(outcomes.map((o) => o.success)).toEqual([true, true, true, false]);
    expect(outcomes[3]?.remaining).toBe(0);
  });
});
