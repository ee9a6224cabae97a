import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
      REDIS_TIMEOUT_MS: "150",
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

const randomIp = () => `203.0.113.${Math.floor(Math.random() * 250) + 1}-${crypto.randomUUID().slice(0, 4)}`;

describe("rate limits on real Redis", () => {
  it("answers the 11th strict request within a second with 429, Retry-After and RateLimit headers", async () => {
    const ip = randomIp();
    const statuses: number[] = [];
    let last: Response | undefined;
    await atWindowStart();
    for (let i = 0; i < 11; i++) {
      last = await fromIp(ip, "/keys");
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
    expect(statuses[10]).toBe(429);
    expect(last?.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(last?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(last?.headers.get("ratelimit-limit")).toBe("10");
    expect(last?.headers.get("ratelimit-remaining")).toBe("0");
    // Another client is not affected.
    expect((await fromIp(randomIp(), "/keys")).status).toBe(200);
  });

  it("adds RateLimit headers to passing API responses", async () => {
    const res = await fromIp(randomIp(), "/links");
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit-limit")).toBe("100");
    expect(Number(res.headers.get("ratelimit-remaining"))).toBe(99);
  });

  it("limits one API key across IPs", async () => {
    const created = await (
      await stack.fetch("/api/v1/keys", {
        method: "POST",
        headers: {
          Authorization: `Bearer ${ADMIN_TOKEN}`,
          "Content-Type": "application/json",
          "CF-Connecting-IP": randomIp(),
        },
        body: JSON.stringify({ name: "busy", scopes: ["links:read"] }),
      })
    ).json();
    const key = (created as { key: string }).key;
    await atWindowStart();
    const statuses = await Promise.all(
      Array.from({ length: 31 }, async () => {
        const res = await stack.fetch("/api/v1/links?limit=1", {
          headers: { "X-Api-Key": key, "CF-Connecting-IP": randomIp() },
        });
        return res.status;
      }),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(30);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
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
