import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import IORedis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisGateway } from "./redis-rest-gateway";
import { type RedisServer, startRedis } from "./services/redis";

const TOKEN = "gateway-test-token";
let server: RedisServer;
let gateway: Awaited<ReturnType<typeof startRedisGateway>>;
/** The client as users run it: defaults on purpose (auto-pipelining, base64 responses, JSON parsing). */
let redis: Redis;
/** The same client without JSON parsing, to compare exact strings. */
let raw: Redis;
/** Straight to Redis, to see the bytes the gateway wrote. */
let direct: IORedis;

beforeAll(async () => {
  server = await startRedis();
  gateway = await startRedisGateway({ redisUrl: server.url, token: TOKEN });
  redis = new Redis({ url: gateway.url, token: TOKEN, enableTelemetry: false });
  raw = new Redis({
    url: gateway.url,
    token: TOKEN,
    enableTelemetry: false,
    automaticDeserialization: false,
  });
  direct = new IORedis(server.url);
});
afterAll(async () => {
  direct?.disconnect();
  await gateway?.close();
  await server?.dispose();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;
const post = (path: string, body: string, token = TOKEN) =>
  fetch(`${gateway.url}${path}`, { method: "POST", body, headers: { Authorization: `Bearer ${token}` } });

describe("Upstash REST gateway with the real @upstash/redis client", () => {
  it("stores strings byte for byte, unicode and control characters included", async () => {
    const values = {
      plain: "plain",
      unicode: "grüße 🚀 — 日本",
      binaryish: "\u0000\u0001\u007f\u00ff\r\n\t end",
      okLike: "OK",
      base64Like: "T0s=",
      empty: "",
    };
    for (const [key, value] of Object.entries(values)) await raw.set(key, value);
    for (const [key, value] of Object.entries(values)) {
      expect(await raw.get(key)).toBe(value);
      expect(await direct.getBuffer(key)).toEqual(Buffer.from(value, "utf8"));
    }
  });

  it("round-trips JSON values and answers null for a missing key", async () => {
    await redis.set("json", { a: 1, b: ["x", null], c: "ü" });
    expect(await redis.get("json")).toEqual({ a: 1, b: ["x", null], c: "ü" });
    await redis.set("number", 42);
    expect(await redis.get("number")).toBe(42);
    expect(await redis.get("missing")).toBeNull();
    expect(await redis.mget("number", "missing")).toEqual([42, null]);
  });

  it("counts with INCR and INCRBY", async () => {
    expect(await redis.incr("counter")).toBe(1);
    expect(await redis.incrby("counter", 41)).toBe(42);
    expect(await redis.decr("counter")).toBe(41);
    expect(await direct.get("counter")).toBe("41");
  });

  it("answers hashes as Redis does, field order and numeric field names kept", async () => {
    await redis.hset("hash", { z: "last?", "10": "ten", "2": 2 });
    expect(await redis.hget("hash", "z")).toBe("last?");
    expect(await redis.hincrby("hash", "2", 5)).toBe(7);
    expect(await redis.hgetall("hash")).toEqual({ z: "last?", "10": "ten", "2": 7 });
    // Insertion order, not the order a JS object would give ("2" before "10" before "z").
    await raw.exec(["HSET", "ordered", "z", "a", "10", "b", "2", "c"]);
    expect(await raw.exec(["HGETALL", "ordered"])).toEqual(["z", "a", "10", "b", "2", "c"]);
    expect(await redis.hgetall("no-such-hash")).toBeNull();
  });

  it("passes status replies other than OK, and base64-encodes an OK nested in an array", async () => {
    expect(await redis.ping()).toBe("PONG");
    expect(await redis.type("counter")).toBe("string");
    const nested = await redis.eval("return {redis.call('SET', KEYS[1], 'v'), {'OK', 1}}", ["lua:ok"], []);
    expect(nested).toEqual(["OK", ["OK", 1]]);
  });

  it("runs explicit pipelines, keeping each command's own error", async () => {
    await redis.set("text", "not a number");
    const p = redis.pipeline();
    p.set("p1", "x");
    p.incr("text");
    p.get("p1");
    const results = await p.exec({ keepErrors: true });
    expect(results.map((r) => r.result)).toEqual(["OK", undefined, "x"]);
    expect(results[1]?.error).toMatch(/not an integer/);
  });

  it("runs redis.multi() as one MULTI/EXEC transaction", async () => {
    const tx = redis.multi();
    tx.set("tx", 1);
    tx.incr("tx");
    tx.incr("tx");
    tx.get("tx");
    expect(await tx.exec()).toEqual(["OK", 2, 3, 3]);
  });

  it("runs Lua through EVAL, SCRIPT LOAD and EVALSHA, and reports NOSCRIPT", async () => {
    expect(await redis.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", ["lua"], [5])).toBe(5);
    const sha = await redis.scriptLoad("return ARGV[1]");
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await redis.evalsha(sha, [], ["hello"])).toBe("hello");
    await expect(redis.evalsha("0".repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
  });

  it("turns a Redis error into a thrown error and keeps serving", async () => {
    await redis.set("str", "x");
    await expect(redis.incr("str")).rejects.toThrow(/ERR value is not an integer/);
    await expect(redis.lpush("str", "a")).rejects.toThrow(/WRONGTYPE/);
    expect(await redis.get("str")).toBe("x");
  });

  it("refuses a wrong token, also one of the right length", async () => {
    for (const token of ["wrong", "x".repeat(TOKEN.length)]) {
      const intruder = new Redis({ url: gateway.url, token, enableTelemetry: false, retry: false });
      await expect(intruder.get("plain")).rejects.toThrow(/Unauthorized/);
    }
  });
});

describe("Upstash REST gateway over HTTP", () => {
  it("answers 401 without a token and /health without one", async () => {
    const res = await fetch(gateway.url, { method: "POST", body: '["GET","plain"]' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "Unauthorized" });
    const health = await fetch(`${gateway.url}/health`);
    expect([health.status, await health.text()]).toEqual([200, "ok"]);
  });

  it("answers plain JSON without Upstash-Encoding, and 400 with an error for bad requests", async () => {
    expect(await (await post("/", '["GET","unicode"]')).json()).toEqual({ result: "grüße 🚀 — 日本" });
    const badJson = await post("/", "[not json");
    expect(badJson.status).toBe(400);
    expect(await errorOf(badJson)).toMatch(/^ERR .*JSON/);
    const redisError = await post("/", '["NOSUCHCOMMAND"]');
    expect(redisError.status).toBe(400);
    expect(await errorOf(redisError)).toMatch(/^ERR unknown command/);
    expect((await post("/pipeline", '[["GET"], "x"]')).status).toBe(400);
  });

  it("accepts the path form: URL-decoded segments, query options, body as last argument", async () => {
    const set = await fetch(`${gateway.url}/set/${encodeURIComponent("a/b c")}/v1?EX=100`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(await set.json()).toEqual({ result: "OK" });
    expect(await direct.get("a/b c")).toBe("v1");
    expect(await direct.ttl("a/b c")).toBeGreaterThan(90);
    expect(await (await post("/set/from-body", "body value")).json()).toEqual({ result: "OK" });
    expect(await direct.get("from-body")).toBe("body value");
  });

  it("refuses commands that would change the shared connection", async () => {
    const multi = await post("/", '["MULTI"]');
    expect(multi.status).toBe(400);
    expect(await errorOf(multi)).toMatch(/MULTI is not supported/);
    expect(await (await post("/", '["SELECT","1"]')).json()).toEqual({
      error: "ERR SELECT is not supported over REST",
    });
    expect(await (await post("/", '["GET","plain"]')).json()).toEqual({ result: "plain" });
  });

  it("aborts a whole transaction when Redis refuses one of its commands", async () => {
    const res = await post("/multi-exec", '[["SET","tx-abort","1"],["NOSUCHCOMMAND"]]');
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatch(/^EXECABORT .*unknown command/);
    expect(await direct.exists("tx-abort")).toBe(0);
  });

  it("runs a blocking command on its own connection, so other requests do not wait", async () => {
    const started = Date.now();
    const blocked = post("/", '["BLPOP","never-filled","1"]');
    await sleep(100);
    expect(await (await post("/", '["GET","plain"]')).json()).toEqual({ result: "plain" });
    expect(Date.now() - started).toBeLessThan(800);
    expect(await (await blocked).json()).toEqual({ result: null });
  });
});

describe("Upstash REST gateway while Redis restarts", () => {
  let flaky: RedisServer;
  let flakyGateway: Awaited<ReturnType<typeof startRedisGateway>>;
  beforeAll(async () => {
    flaky = await startRedis({ persist: true });
    flakyGateway = await startRedisGateway({ redisUrl: flaky.url, token: TOKEN });
  });
  afterAll(async () => {
    await flakyGateway?.close();
    await flaky?.dispose();
  });

  it("answers 503 while Redis is down and serves the persisted data once it is back", async () => {
    const client = new Redis({ url: flakyGateway.url, token: TOKEN, enableTelemetry: false });
    await client.set("survives", "yes");
    await flaky.stop();
    const down = await fetch(flakyGateway.url, {
      method: "POST",
      body: '["GET","survives"]',
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(down.status).toBe(503);
    expect(await errorOf(down)).toMatch(/^ERR Redis unavailable/);
    await expect(client.get("survives")).rejects.toThrow(/Redis unavailable/);

    await flaky.start();
    let value: unknown;
    for (let i = 0; i < 50 && value === undefined; i++) {
      value = await client.get("survives").catch(() => sleep(100).then(() => undefined));
    }
    expect(value).toBe("yes");
  });
});

/** Sleeps until just after a window boundary, so a burst of requests lands in one window. */
async function untilWindowStart(windowMs: number): Promise<number> {
  await sleep(windowMs - (Date.now() % windowMs) + 5);
  return Math.floor(Date.now() / windowMs);
}

describe("@upstash/ratelimit 2.0.8 over the gateway", () => {
  const limiters = {
    "sliding window": Ratelimit.slidingWindow(10, "1 s"),
    "fixed window": Ratelimit.fixedWindow(10, "1 s"),
  };
  for (const [name, limiter] of Object.entries(limiters)) {
    it(`${name}: refuses the 11th request within the window, then allows again after it`, async () => {
      // No ephemeral cache: every decision comes from the Lua script in Redis.
      const ratelimit = new Ratelimit({ redis, limiter, prefix: `rl:${name}`, ephemeralCache: false });
      const id = crypto.randomUUID();
      const window = await untilWindowStart(1000);
      const outcomes = [];
      for (let i = 0; i < 11; i++) outcomes.push(await ratelimit.limit(id));
      expect(Math.floor(Date.now() / 1000), "the burst must fit in one window").toBe(window);

      expect(outcomes.map((o) => o.success)).toEqual([...Array(10).fill(true), false]);
      expect(outcomes.map((o) => o.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0]);
      const refused = outcomes[10];
      expect(refused?.reset).toBe((window + 1) * 1000);

      await sleep((refused?.reset ?? 0) - Date.now() + 100);
      expect((await ratelimit.limit(id)).success).toBe(true);
    });
  }
});
