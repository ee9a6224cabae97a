import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabaseBefore } from "./databases";
import { type Stack, startStack } from "./stack";

/**
 * Moving to several domains (issue #16) with no downtime and no change to short URLs: a
 * database and KV as the single-domain release left them (links live, deleted, limited,
 * their clicks and rollups; KV records under `link:{slug}` written literally, as that release
 * wrote them) are migrated, and every old short URL must redirect from KV alone (the lookup
 * metric counts KV hits, and the Postgres fallback is off, so a miss would be a 404) and every
 * old stat must be the same.
 */

const HOST = "sho.test";
const HOUR = Date.UTC(2026, 10, 20, 9);
const OLD = [
  { slug: "old-a", url: "https://a.example/", humans: 7, bots: 2 },
  { slug: "old-b", url: "https://b.example/path?q=1", humans: 3, bots: 0, status: 301 },
  { slug: "old-c", url: "https://c.example/", humans: 0, bots: 0, maxClicks: 1000 },
];

let stack: Stack;
const ids: Record<string, number> = {};

/** The counters of edge_link_lookups_total and of the Postgres fallback's queries. */
async function lookups() {
  const text = await (await stack.fetch("/metrics")).text();
  const value = (metric: string, label: string) =>
    Number(new RegExp(`^${metric}\\{${label}\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
  return {
    kvHit: value("edge_link_lookups_total", 'result="kv_hit"'),
    dbHit: value("edge_link_lookups_total", 'result="db_hit"'),
    fallbackQueries: ["found", "not_found", "failed"]
      .map((o) => value("edge_kv_miss_fallback_total", `outcome="${o}"`))
      .reduce((a, b) => a + b, 0),
  };
}

beforeAll(async () => {
  const { url, migrateRest } = await createDatabaseBefore("short_domains");
  const pg = await import("pg");
  const db = new pg.default.Client({ connectionString: url });
  await db.connect();
  const records: Array<[string, string]> = [];
  try {
    // The single-domain schema: no domain column anywhere.
    for (const link of OLD) {
      const { rows } = await db.query(
        "insert into links (slug, url, status_code, max_clicks, owner_id) values ($1, $2, $3, $4, 'admin') returning id",
        [link.slug, link.url, link.status ?? 302, link.maxClicks ?? null],
      );
      const id = Number(rows[0].id);
      ids[link.slug] = id;
      records.push([
        `link:${link.slug}`,
        JSON.stringify({
          v: 1,
          id,
          u: link.url,
          ...(link.status ? { s: link.status } : {}),
          ...(link.maxClicks ? { m: link.maxClicks } : {}),
        }),
      ]);
      for (const [isBot, n] of [
        [false, link.humans],
        [true, link.bots],
      ] as const) {
        for (let i = 0; i < n; i++) {
          await db.query(
            `insert into click_events (id, link_id, slug, ts, country, referrer_host, device, browser, os, is_bot, visitor_hash)
             values ($1, $2, $3, $4, 'DE', 'news.example', 'desktop', 'Chrome', 'Windows', $5, $6)`,
            [crypto.randomUUID(), id, link.slug, new Date(HOUR + i * 1000), isBot, `visitor-${i % 3}`],
          );
        }
        if (n > 0) {
          await db.query(
            `insert into click_rollups (link_id, hour, is_bot, country, referrer_host, device, browser, os, rule, count)
             values ($1, $2, $3, 'DE', 'news.example', 'desktop', 'Chrome', 'Windows', '', $4)`,
            [id, new Date(HOUR), isBot, n],
          );
        }
      }
    }
    const { rows } = await db.query(
      "insert into links (slug, url, owner_id, deleted_at) values ('old-deleted', 'https://d.example/', 'admin', now()) returning id",
    );
    records.push(["link:old-deleted", JSON.stringify({ v: 1, id: Number(rows[0].id), u: "", d: 1 })]);
  } finally {
    await db.end();
  }

  await migrateRest();
  stack = await startStack({
    consumer: "recorder",
    databaseUrl: url,
    // The self-host setting: a KV miss is a 404 without asking Postgres, so only KV can answer.
    vars: { PUBLIC_BASE_URL: `https://${HOST}`, KV_MISS_FALLBACK: "none" },
  });
  const kv = await stack.mf.getKVNamespace("LINKS");
  for (const [key, value] of records) await kv.put(key, value);
});
afterAll(() => stack?.close());

describe("migrating a single-domain deployment", () => {
  it("leaves every old link on the default domain", async () => {
    const { rows } = await stack.db.query("select slug, domain from links order by slug");
    expect(rows).toEqual([
      { slug: "old-a", domain: "" },
      { slug: "old-b", domain: "" },
      { slug: "old-c", domain: "" },
      { slug: "old-deleted", domain: "" },
    ]);
  });

  it("redirects every old short URL from KV, without Postgres", async () => {
    const start = await lookups();
    for (const link of OLD) {
      const res = await stack.fetch(`/${link.slug}`, { method: "HEAD" });
      expect(res.status, link.slug).toBe(link.status ?? 302);
      expect(res.headers.get("location")).toBe(link.url);
    }
    expect((await stack.fetch("/old-deleted")).status).toBe(404);
    const end = await lookups();
    expect(end.kvHit - start.kvHit).toBe(OLD.length + 1);
    expect(end.dbHit - start.dbHit).toBe(0);
    expect(end.fallbackQueries - start.fallbackQueries).toBe(0);
  });

  it("keeps every old stat", async () => {
    for (const link of OLD) {
      const res = await stack.api(
        "GET",
        `/links/${link.slug}/stats?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z`,
      );
      expect(res.status, await res.clone().text()).toBe(200);
      const stats = (await res.json()) as {
        totals: { clicks: number; humans: number; bots: number; uniqueVisitors: number };
        countries: unknown;
        domains: unknown;
      };
      expect(stats.totals, link.slug).toEqual({
        clicks: link.humans + link.bots,
        humans: link.humans,
        bots: link.bots,
        uniqueVisitors: Math.min(link.humans, 3),
      });
      if (link.humans > 0) {
        expect(stats.countries).toEqual([{ value: "DE", clicks: link.humans }]);
        expect(stats.domains).toEqual([{ value: "(none)", clicks: link.humans }]);
      }
    }
    const summary = (await (await stack.api("GET", "/stats")).json()) as {
      links: number;
      clicks: { total: number; humans: number; bots: number };
      topLinks: unknown[];
    };
    expect(summary.links).toBe(OLD.length);
    expect(summary.clicks).toMatchObject({ total: 12, humans: 10, bots: 2 });
    expect(summary.topLinks).toEqual([
      { domain: HOST, slug: "old-a", clicks: 9 },
      { domain: HOST, slug: "old-b", clicks: 3 },
    ]);
    const onDefault = (await (await stack.api("GET", `/stats?domain=${HOST}`)).json()) as {
      clicks: { total: number };
    };
    expect(onDefault.clicks.total).toBe(12);
  });

  it("lets a new domain take an old slug without touching the old link", async () => {
    expect((await stack.api("POST", "/domains", { name: "acme.link" })).status).toBe(201);
    const res = await stack.api("POST", "/links", {
      url: "https://new.example/",
      slug: "old-a",
      domain: "acme.link",
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const kv = await stack.mf.getKVNamespace("LINKS");
    expect(await kv.get("link:acme.link/old-a", "json")).toMatchObject({ u: "https://new.example/" });
    expect(await kv.get("link:old-a", "json")).toMatchObject({ id: ids["old-a"], u: "https://a.example/" });
    expect((await stack.fetch("/old-a")).headers.get("location")).toBe("https://a.example/");
    const onAcme = await stack.mf.dispatchFetch("https://acme.link/old-a", { redirect: "manual" } as never);
    expect(onAcme.headers.get("location")).toBe("https://new.example/");
  });
});
