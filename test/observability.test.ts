import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promtool } from "./promtool";
import { ADMIN_TOKEN, type Stack, startStack } from "./stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ consumer: "aggregator" });
});
afterAll(() => stack?.close());

/** `promtool check metrics` on an exposition: its complaints, or "" when clean. */
function promtoolCheck(text: string): string {
  try {
    promtool(["check", "metrics"], text);
    return "";
  } catch (err) {
    return (err as Error).message;
  }
}

describe("health endpoints", () => {
  it("answers /health and /health/live without I/O", async () => {
    for (const path of ["/health", "/health/live"]) {
      const res = await stack.fetch(path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ok" });
    }
  });

  it("/ready is 200 with every dependency up and 503 naming Postgres when it is unreachable", async () => {
    const ok = await stack.fetch("/ready");
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: "ready", failed: [] });
    stack.wsProxy.pause();
    try {
      const down = await stack.fetch("/ready");
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ status: "unavailable", failed: ["postgres"] });
    } finally {
      stack.wsProxy.resume();
    }
  });

  it("/health/detailed needs the admin token and reports latency per dependency", async () => {
    expect((await stack.fetch("/health/detailed")).status).toBe(404);
    const res = await stack.fetch("/health/detailed", {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { dependencies: { name: string; ok: boolean; latencyMs: number }[] };
    expect(body.dependencies.map((d) => d.name)).toEqual(["kv", "redis", "postgres"]);
    expect(body.dependencies.every((d) => d.ok && d.latencyMs >= 0)).toBe(true);
  });

  it("/health/detailed takes the admin token as X-Api-Key too, but not beside a wrong Authorization", async () => {
    const status = async (headers: Record<string, string>) =>
      (await stack.fetch("/health/detailed", { headers })).status;
    expect(await status({ "X-Api-Key": ADMIN_TOKEN })).toBe(200);
    expect(await status({ "X-Api-Key": "wrong" })).toBe(404);
    expect(await status({ Authorization: "Bearer wrong", "X-Api-Key": ADMIN_TOKEN })).toBe(404);
  });
});

describe("/metrics", () => {
  it("counts redirects and lookups in valid Prometheus text", async () => {
    const slug = `m-${crypto.randomUUID().slice(0, 8)}`;
    await stack.api("POST", "/links", { url: "https://example.com/m", slug });
    const before = await (await stack.fetch("/metrics")).text();
    const count = (text: string) =>
      Number(/^edge_requests_total\{route="redirect",status="302"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    for (let i = 0; i < 3; i++) await stack.fetch(`/${slug}`);
    await stack.fetch("/does-not-exist-xyz");
    const res = await stack.fetch("/metrics");
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await res.text();
    expect(count(text) - count(before)).toBe(3);
    expect(text).toMatch(/^edge_requests_total\{route="redirect",status="404"\} [1-9]/m);
    expect(text).toMatch(/^edge_link_lookups_total\{result="kv_hit"\} [1-9]/m);
    expect(text).toMatch(/^edge_redirect_duration_seconds_count [1-9]/m);
    expect(promtoolCheck(text)).toBe("");
  });

  it("serves the aggregator's metrics, also valid", async () => {
    const aggregator = await stack.mf.getWorker("aggregator");
    const res = await aggregator.fetch("http://aggregator/metrics");
    const text = await res.text();
    expect(text).toContain("# TYPE aggregator_events_total counter");
    expect(text).toContain("aggregator_build_info");
    expect(promtoolCheck(text)).toBe("");
  });

  it("a broken exposition is caught by the same check", () => {
    expect(promtoolCheck('# TYPE x counter\nx{a="1"} not-a-number\n')).not.toBe("");
  });
});
