import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHangingServer } from "./hanging-server";
import { type Stack, startStack } from "./stack";

/**
 * A Redis that accepts and then never answers: only the client's abort timeout
 * (REDIS_TIMEOUT_MS) stands between it and a redirect that hangs. (The fail-open test in
 * rate-limit.test.ts refuses connections, which fails fast with or without a timeout.)
 */
const BUDGET_MS = 300;
/**
 * What the redirect costs besides the Redis wait: measured 27–80 ms over the budget on a
 * two-core machine shared with other test runs. 250 ms leaves room for worse load and
 * still fails a timeout that is merely doubled (600 ms).
 */
const MARGIN_MS = 250;

let redis: Awaited<ReturnType<typeof startHangingServer>>;
let stack: Stack;
beforeAll(async () => {
  redis = await startHangingServer();
  stack = await startStack({
    consumer: "recorder",
    vars: { UPSTASH_REDIS_REST_URL: redis.url, REDIS_TIMEOUT_MS: String(BUDGET_MS) },
  });
});
afterAll(async () => {
  await stack?.close();
  await redis?.close();
});

/** Times one redirect, giving up (status 0) after `capMs` so that a hang fails with its number. */
async function timedRedirect(path: string, capMs: number): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const status = await Promise.race([
    stack.fetch(path).then((res) => res.status),
    new Promise<number>((resolve) => setTimeout(() => resolve(0), capMs)),
  ]);
  return { status, ms: Math.round(performance.now() - started) };
}

describe("a Redis that hangs", () => {
  it("costs a limited link's redirect no more than the Redis budget, and the redirect fails open", async () => {
    // The API's rate limiter fails open after the same budget, so creating links still works.
    const res = await stack.api("POST", "/links", { url: "https://example.com/slow", maxClicks: 1 });
    expect(res.status).toBe(201);
    const { slug } = (await res.json()) as { slug: string };
    const before = redis.requests();

    const first = await timedRedirect(`/${slug}`, 5_000);
    expect(first.status, `status 0 is no answer within 5 s; took ${first.ms} ms`).toBe(302);
    // It did wait on Redis (a test that never reached it would prove nothing) ...
    expect(redis.requests()).toBeGreaterThan(before);
    expect(first.ms, "ms waited").toBeGreaterThanOrEqual(BUDGET_MS - 10);
    // ... and no longer than the budget allows.
    expect(first.ms, "ms waited").toBeLessThan(BUDGET_MS + MARGIN_MS);
    // Failing open means the limit of 1 is not enforced while Redis cannot count.
    expect((await timedRedirect(`/${slug}`, 5_000)).status).toBe(302);
    const metrics = await (await stack.fetch("/metrics")).text();
    expect(metrics).toMatch(/^edge_redis_failures_total\{op="click_limit"\} [1-9]/m);
  });
});
