import { clickCounterKey } from "@shared/keys";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ consumer: "aggregator" });
});
afterAll(() => stack?.close());

const BROWSER =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
const CRAWLERS = [
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
  "curl/8.5.0",
];

type Stats = {
  totals: { clicks: number; humans: number; bots: number; uniqueVisitors: number };
  timeseries: { t: string; humans: number; bots: number }[];
  referrers: { value: string; clicks: number }[];
  countries: { value: string; clicks: number }[];
  browsers: { value: string; clicks: number }[];
};

/**
 * Polls `read` until it reaches `target` or `timeoutMs` passes, and returns the last value
 * either way, so that a shortfall or an overshoot fails with its number, not a timeout.
 */
async function settle(read: () => Promise<number>, target: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (value < target && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    value = await read();
  }
  return value;
}

async function stats(slug: string, query = ""): Promise<Stats> {
  const res = await stack.api("GET", `/links/${slug}/stats${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Stats;
}

describe("redirect → queue → aggregator → stats", () => {
  it("counts 10,000 clicks exactly, bots being the crawler user agents", async () => {
    const slug = `e2e-${crypto.randomUUID().slice(0, 8)}`;
    const created = await stack.api("POST", "/links", { url: "https://example.com/e2e", slug });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };

    const TOTAL = 10_000;
    let bots = 0;
    const concurrency = 32;
    let next = 0;
    const failures: number[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < TOTAL) {
          const i = next++;
          const isBot = i % 7 === 0;
          if (isBot) bots++;
          const res = await stack.fetch(`/${slug}`, {
            headers: {
              "User-Agent": isBot ? (CRAWLERS[i % CRAWLERS.length] as string) : `${BROWSER} v${i % 50}`,
              "CF-Connecting-IP": `198.51.100.${i % 200}`,
              Referer: i % 2 ? "https://www.news.example.org/" : "https://social.example.com/post",
            },
          });
          if (res.status !== 302) failures.push(res.status);
          await res.body?.cancel();
        }
      }),
    );
    expect(failures).toEqual([]);

    // Raw rows and rollups are written by one statement, so once the rows are all in, so are the rollups.
    const count = async (sql: string) => (await stack.db.query(sql, [id])).rows[0].n as number;
    const stored = await settle(
      () => count("select count(*)::int as n from click_events where link_id = $1"),
      TOTAL,
      120_000,
    );
    expect(stored).toBe(TOTAL);
    expect(await count("select sum(count)::int as n from click_rollups where link_id = $1")).toBe(TOTAL);
    const result = await stats(slug);
    expect(result.totals).toMatchObject({ clicks: TOTAL, humans: TOTAL - bots, bots });
    expect(result.totals.uniqueVisitors).toBeGreaterThan(0);
    expect(result.timeseries.reduce((s, p) => s + p.humans + p.bots, 0)).toBe(TOTAL);
    expect(result.referrers.map((r) => r.value).sort()).toEqual(["news.example.org", "social.example.com"]);
    expect(result.browsers[0]?.value).toBe("Safari");

    // The aggregator adds to the counter after its commit, so it may trail the rows briefly.
    const counter = await settle(
      async () => Number(await stack.redis.get(clickCounterKey(id))),
      TOTAL,
      10_000,
    );
    expect(counter).toBe(TOTAL);
  }, 240_000);
});

describe("GET /api/v1/links/{slug}/stats", () => {
  it("refuses bad ranges with 400 problem+json", async () => {
    const slug = `range-${crypto.randomUUID().slice(0, 8)}`;
    await stack.api("POST", "/links", { url: "https://example.com/r", slug });
    for (const query of [
      "?from=2026-02-01&to=2026-01-01",
      "?from=2020-01-01&to=2026-01-01&interval=hour",
      "?from=yesterday",
      "?interval=week",
    ]) {
      const res = await stack.api("GET", `/links/${slug}/stats${query}`);
      expect(res.status, query).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
  });

  it("returns a gap-free hourly series and 404 for an unknown link", async () => {
    const slug = `series-${crypto.randomUUID().slice(0, 8)}`;
    await stack.api("POST", "/links", { url: "https://example.com/s", slug });
    const s = await stats(slug, "?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&interval=hour");
    expect(s.timeseries).toHaveLength(24);
    expect(s.totals.clicks).toBe(0);
    expect((await stack.api("GET", "/links/does-not-exist/stats")).status).toBe(404);
  });
});

describe("GET /api/v1/stats", () => {
  it("summarises the caller's links", async () => {
    const res = await stack.api("GET", "/stats");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { links: number; clicks: { total: number } };
    const { rows } = await stack.db.query("select count(*)::int as n from links where deleted_at is null");
    expect(body.links).toBe(rows[0].n);
  });
});
