import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { displayPrefix, generateApiKey, hashApiKey } from "../shared/api-keys";
import { ADMIN_TOKEN, type Stack, startStack } from "./stack";

let stack: Stack;
beforeAll(async () => {
  // The shipped defaults (10/s strict, 100/s per IP) except the per-key tier, lowered to test it.
  stack = await startStack({
    consumer: "recorder",
    vars: {
      RATE_LIMIT_STRICT_PER_SECOND: "10",
      RATE_LIMIT_API_PER_SECOND: "100",
      RATE_LIMIT_KEY_PER_SECOND: "30",
      // Not the shipped 150 ms: on a loaded test machine a Redis round trip can take longer, and a limiter that
      // fails open lets a burst through. slow-redis.test.ts holds the budget itself.
      REDIS_TIMEOUT_MS: "1000",
    },
  });
});
afterAll(() => stack?.close());

const fromIp = (ip: string, path: string, extra: Record<string, string> = {}) =>
  stack.fetch(`/api/v1${path}`, {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "CF-Connecting-IP": ip, ...extra },
  });
/**
 * The limiter is a sliding window of one second aligned to the clock: a burst that
 * straddles a boundary is weighted across two windows. Starting a burst just after a
 * boundary keeps it in one window, so the count is exact.
 */
async function atWindowStart(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
}

/**
 * Sends a burst that starts at a window boundary and is answered within that window, so the
 * limiter's count is exact. A loaded machine can stretch a burst past the window: then the
 * exact count is not what the limiter promises, so the burst is tried again with fresh
 * callers (`attempt` gets the try's number), at most five times.
 */
async function burstInOneWindow(
  size: number,
  attempt: (n: number) => Promise<(i: number) => Promise<Response>>,
) {
  for (let n = 1; n <= 5; n++) {
    const send = await attempt(n);
    await atWindowStart();
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: size }, (_, i) => send(i)));
    if (Date.now() - started < 950) return answers;
  }
  throw new Error(
    `could not answer ${size} requests within one second in five tries: the machine is too loaded`,
  );
}

const randomIp = () => `203.0.113.${Math.floor(Math.random() * 250) + 1}-${crypto.randomUUID().slice(0, 4)}`;

describe("rate limits on real Redis", () => {
  it("answers the 11th strict request within a second with 429, Retry-After and RateLimit headers", async () => {
    const answers = await burstInOneWindow(11, async () => {
      const ip = randomIp();
      return () => fromIp(ip, "/keys");
    });
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(10).fill(200), 429]);
    const refused = answers.find((r) => r.status === 429);
    expect(refused?.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(refused?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused?.headers.get("ratelimit-limit")).toBe("10");
    expect(refused?.headers.get("ratelimit-remaining")).toBe("0");
    // Another client is not affected.
    expect((await fromIp(randomIp(), "/keys")).status).toBe(200);
  }, 60_000);

  it("adds RateLimit headers to passing API responses", async () => {
    const res = await fromIp(randomIp(), "/links");
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit-limit")).toBe("100");
    expect(Number(res.headers.get("ratelimit-remaining"))).toBe(99);
  });

  it("fails open when Redis is unreachable: the API and redirects keep answering within the timeout", async () => {
    const slug = `fo-${crypto.randomUUID().slice(0, 8)}`;
    const created = await stack.api(
      "POST",
      "/links",
      { url: "https://example.com/fo", slug },
      { "CF-Connecting-IP": randomIp() },
    );
    expect(created.status).toBe(201);
    await stack.gateway.close();
    try {
      const started = Date.now();
      const api = await fromIp(randomIp(), `/links/${slug}`);
      const redirect = await stack.fetch(`/${slug}`);
      const limited = await stack.api("POST", "/links", { url: "https://example.com/fo2", maxClicks: 1 });
      const limitedSlug = ((await limited.json()) as { slug: string }).slug;
      const withLimit = await stack.fetch(`/${limitedSlug}`);
      expect(api.status).toBe(200);
      expect(api.headers.get("ratelimit-limit")).toBeNull();
      expect(redirect.status).toBe(302);
      expect(withLimit.status).toBe(302);
      expect(Date.now() - started).toBeLessThan(5000);
      const metrics = await (await stack.fetch("/metrics")).text();
      expect(metrics).toMatch(/^edge_rate_limit_fail_open_total\{tier="api"\} [1-9]/m);
      expect(metrics).toMatch(/^edge_redis_failures_total\{op="click_limit"\} [1-9]/m);
    } finally {
      await stack.restartGateway();
    }
    expect((await fromIp(randomIp(), "/links")).headers.get("ratelimit-limit")).toBe("100");
  });
});

describe("the per-key tier", () => {
  // A stack of its own with a low per-key limit: every request with a key first looks the key up in
  // Postgres, and a burst of the shipped 30 could not be answered within one window on a busy machine.
  const KEY_LIMIT = 4;
  let keyStack: Stack;
  beforeAll(async () => {
    keyStack = await startStack({
      consumer: "recorder",
      vars: {
        RATE_LIMIT_STRICT_PER_SECOND: "100",
        RATE_LIMIT_API_PER_SECOND: "100",
        RATE_LIMIT_KEY_PER_SECOND: String(KEY_LIMIT),
        REDIS_TIMEOUT_MS: "1000",
      },
    });
  });
  afterAll(() => keyStack?.close());

  it("limits one API key across IPs", async () => {
    // A new key for each try: a stretched burst leaves its count in the key's sliding window. Stored
    // directly: through the API, the admin token's own per-key count (shared Redis) would limit the setup.
    const answers = await burstInOneWindow(KEY_LIMIT + 1, async () => {
      const key = generateApiKey();
      await keyStack.db.query(
        "insert into api_keys (name, owner_id, key_hash, prefix, scopes) values ('busy', 'busy-owner', $1, $2, $3)",
        [await hashApiKey(key), displayPrefix(key), ["links:read"]],
      );
      return (i: number) =>
        keyStack.fetch("/api/v1/links?limit=1", {
          headers: { "X-Api-Key": key, "CF-Connecting-IP": `${randomIp()}-${i}` },
        });
    });
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(KEY_LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
  }, 60_000);
});
