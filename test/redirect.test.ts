import { clickCounterKey } from "@shared/keys";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Stack, startStack } from "./stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ consumer: "recorder" });
});
afterAll(() => stack?.close());

const uniqueSlug = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

async function createLink(body: Record<string, unknown>) {
  const res = await stack.api("POST", "/links", body);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { slug: string; id: number };
}

describe("GET /:slug", () => {
  it("redirects 302 to the target with revalidating Cache-Control", async () => {
    const slug = uniqueSlug("r");
    await createLink({ url: "https://example.com/a?b=c", slug });
    const res = await stack.fetch(`/${slug}`);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://example.com/a?b=c");
    expect(res.headers.get("cache-control")).toContain("no-cache");
  });

  it("uses the link's own status code (301)", async () => {
    const slug = uniqueSlug("p");
    await createLink({ url: "https://example.com/perm", slug, statusCode: 301 });
    const res = await stack.fetch(`/${slug}`);
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe("https://example.com/perm");
  });

  it("answers HEAD like GET without a body", async () => {
    const slug = uniqueSlug("h");
    await createLink({ url: "https://example.com/head", slug, statusCode: 307 });
    const res = await stack.fetch(`/${slug}`, { method: "HEAD" });
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe("https://example.com/head");
  });

  it("returns 404 problem+json for an unknown slug", async () => {
    const res = await stack.fetch(`/${uniqueSlug("nope")}`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(((await res.json()) as { status: number }).status).toBe(404);
  });

  it("returns 404 once the link is deleted", async () => {
    const slug = uniqueSlug("d");
    await createLink({ url: "https://example.com/del", slug });
    expect((await stack.fetch(`/${slug}`)).status).toBe(302);
    expect((await stack.api("DELETE", `/links/${slug}`)).status).toBe(204);
    expect((await stack.fetch(`/${slug}`)).status).toBe(404);
  });

  it("follows an update at once", async () => {
    const slug = uniqueSlug("u");
    await createLink({ url: "https://example.com/old", slug });
    expect((await stack.fetch(`/${slug}`)).headers.get("location")).toBe("https://example.com/old");
    const patched = await stack.api("PATCH", `/links/${slug}`, { url: "https://example.com/new" });
    expect(patched.status).toBe(200);
    expect((await stack.fetch(`/${slug}`)).headers.get("location")).toBe("https://example.com/new");
  });

  it("returns 410 once the link has expired", async () => {
    const slug = uniqueSlug("e");
    await createLink({
      url: "https://example.com/exp",
      slug,
      expiresAt: new Date(Date.now() + 1500).toISOString(),
    });
    expect((await stack.fetch(`/${slug}`)).status).toBe(302);
    await new Promise((r) => setTimeout(r, 1600));
    const res = await stack.fetch(`/${slug}`);
    expect(res.status).toBe(410);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  it("returns 410 once max clicks is reached (maxClicks: 3, the 4th gets 410)", async () => {
    const slug = uniqueSlug("m");
    const link = await createLink({ url: "https://example.com/max", slug, maxClicks: 3 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await stack.fetch(`/${slug}`)).status);
    expect(statuses).toEqual([302, 302, 302, 410]);
    expect(Number(await stack.redis.get(clickCounterKey(link.id)))).toBe(4);
  });

  it("starts a recreated slug's click limit from zero (the deleted link's count stays with it)", async () => {
    const slug = uniqueSlug("re");
    await createLink({ url: "https://example.com/first", slug, maxClicks: 1 });
    expect((await stack.fetch(`/${slug}`)).status).toBe(302);
    expect((await stack.fetch(`/${slug}`)).status).toBe(410);
    expect((await stack.api("DELETE", `/links/${slug}`)).status).toBe(204);

    await createLink({ url: "https://example.com/second", slug, maxClicks: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await stack.fetch(`/${slug}`)).status);
    expect(statuses).toEqual([302, 302, 410]);
  });

  it("does not count HEAD requests as clicks", async () => {
    const slug = uniqueSlug("hm");
    await createLink({ url: "https://example.com/hm", slug, maxClicks: 1 });
    expect((await stack.fetch(`/${slug}`, { method: "HEAD" })).status).toBe(302);
    expect((await stack.fetch(`/${slug}`)).status).toBe(302);
    expect((await stack.fetch(`/${slug}`, { method: "HEAD" })).status).toBe(410);
  });

  it("leaves counting to the aggregator for links without a limit, and says so in the event", async () => {
    const free = uniqueSlug("c");
    const limited = uniqueSlug("cl");
    const freeLink = await createLink({ url: "https://example.com/count", slug: free });
    const limitedLink = await createLink({ url: "https://example.com/count", slug: limited, maxClicks: 10 });
    expect((await stack.fetch(`/${free}`)).status).toBe(302);
    expect((await stack.fetch(`/${limited}`)).status).toBe(302);
    const events = await eventually(async () => {
      const all = await stack.received();
      const pair = [all.find((e) => e.slug === free), all.find((e) => e.slug === limited)];
      return pair.every(Boolean) ? pair : undefined;
    });
    expect(events.map((e) => e?.counted)).toEqual([false, true]);
    expect(await stack.redis.get(clickCounterKey(freeLink.id))).toBeNull();
    expect(Number(await stack.redis.get(clickCounterKey(limitedLink.id)))).toBe(1);
  });

  it("sends a click event with an id, hashed visitor and no raw IP to the queue", async () => {
    const slug = uniqueSlug("q");
    const link = await createLink({ url: "https://example.com/q", slug });
    await stack.fetch(`/${slug}`, {
      headers: {
        "CF-Connecting-IP": "203.0.113.7",
        "User-Agent": "Mozilla/5.0 test",
        Referer: "https://news.example.org/item?id=1",
      },
    });
    const event = await eventually(async () => (await stack.received()).find((e) => e.slug === slug));
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.linkId).toBe(link.id);
    expect(event.referrer).toBe("https://news.example.org/item?id=1");
    expect(event.userAgent).toBe("Mozilla/5.0 test");
    expect(event.visitor).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(event)).not.toContain("203.0.113.7");
  });

  it("redirects a percent-encoded slug through the router, as before the fast path", async () => {
    const slug = uniqueSlug("pct");
    await createLink({ url: "https://example.com/pct", slug });
    const encoded = [...slug].map((ch) => `%${ch.charCodeAt(0).toString(16)}`).join("");
    const res = await stack.fetch(`/${encoded}`);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://example.com/pct");
  });

  it("answers HEAD for an unknown slug with the 404's status and headers and no body", async () => {
    const res = await stack.fetch(`/${uniqueSlug("nohead")}`, { method: "HEAD" });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.text()).toBe("");
  });

  it("never treats reserved words or impossible slugs as links", async () => {
    // `/docs` and `/dashboard` are pages now (a 308 to their folder, test/dashboard-assets.test.ts).
    for (const path of ["/api", "/admin", "/static", "/API", `/${"x".repeat(65)}`, "/a%2Fb"]) {
      const res = await stack.fetch(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toBe("application/problem+json");
    }
  });
});

describe("redirect without Postgres", () => {
  it("serves a link from KV while Postgres is unreachable", async () => {
    const slug = uniqueSlug("kv");
    await createLink({ url: "https://example.com/kv", slug });
    stack.wsProxy.pause();
    try {
      const res = await stack.fetch(`/${slug}`);
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe("https://example.com/kv");
      // The API, which needs Postgres, does fail meanwhile: the pause is real.
      expect((await stack.api("GET", `/links/${slug}`)).status).toBeGreaterThanOrEqual(500);
    } finally {
      stack.wsProxy.resume();
    }
  });

  it("falls back to Postgres on a KV miss and repairs KV", async () => {
    // Written to Postgres only, as a link created moments ago elsewhere would be before KV has it.
    const slug = uniqueSlug("fb");
    await stack.db.query("insert into links (slug, url, owner_id) values ($1, $2, 'admin')", [
      slug,
      "https://example.com/fb",
    ]);
    const kv = await stack.mf.getKVNamespace("LINKS", "edge");
    expect(await kv.get(`link:${slug}`)).toBeNull();
    const res = await stack.fetch(`/${slug}`);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://example.com/fb");
    await eventually(async () => ((await kv.get(`link:${slug}`)) ? true : undefined));
  });
});
