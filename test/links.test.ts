import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, type Stack, startStack } from "./stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ consumer: "recorder" });
});
afterAll(() => stack?.close());

const uniqueSlug = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
type Link = { id: number; slug: string; url: string; shortUrl: string; statusCode: number; tags: string[] };

async function problem(res: Response, status: number) {
  expect(res.status, await res.clone().text()).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as {
    type: string;
    title: string;
    status: number;
    errors?: { path: string }[];
  };
  expect(body.status).toBe(status);
  expect(body.type).toMatch(/^https:\/\//);
  expect(JSON.stringify(body)).not.toMatch(/at .*\.(js|ts):\d+|select |insert /i);
  return body;
}

describe("POST /api/v1/links", () => {
  it("creates a link with a random slug", async () => {
    const res = await stack.api("POST", "/links", { url: "https://example.com/" });
    expect(res.status).toBe(201);
    const link = (await res.json()) as Link;
    expect(link.slug).toMatch(/^[A-Za-z0-9]{7}$/);
    expect(link.shortUrl).toBe(`${stack.origin}/${link.slug}`);
    expect(link.statusCode).toBe(302);
    expect(res.headers.get("location")).toBe(`/api/v1/links/${link.slug}`);
  });

  it("creates a link with a custom slug and answers 409 when it is taken", async () => {
    const slug = uniqueSlug("taken");
    expect((await stack.api("POST", "/links", { url: "https://a.example/", slug })).status).toBe(201);
    await problem(await stack.api("POST", "/links", { url: "https://b.example/", slug }), 409);
    const { rows } = await stack.db.query("select url from links where slug = $1 and deleted_at is null", [
      slug,
    ]);
    expect(rows).toEqual([{ url: "https://a.example/" }]);
  });

  it("frees a slug when its link is deleted", async () => {
    const slug = uniqueSlug("again");
    expect((await stack.api("POST", "/links", { url: "https://a.example/", slug })).status).toBe(201);
    expect((await stack.api("DELETE", `/links/${slug}`)).status).toBe(204);
    expect((await stack.api("POST", "/links", { url: "https://c.example/", slug })).status).toBe(201);
    expect((await stack.fetch(`/${slug}`)).headers.get("location")).toBe("https://c.example/");
  });

  it("requires the admin token", async () => {
    await problem(await stack.fetch("/api/v1/links", { method: "POST" }), 401);
    await problem(await stack.fetch("/api/v1/links", { headers: { Authorization: "Bearer wrong" } }), 401);
    const viaHeader = await stack.fetch("/api/v1/links", { headers: { "X-Api-Key": ADMIN_TOKEN } });
    expect(viaHeader.status).toBe(200);
  });

  const bad: Array<[string, unknown, string?]> = [
    ["invalid JSON", "{not json"],
    ["a non-object body", "[1,2]"],
    ["a missing url", {}, "url"],
    ["a url of the wrong type", { url: 42 }, "url"],
    ["an unknown field", { url: "https://example.com/", colour: "red" }],
    ["a javascript: URL", { url: "javascript:alert(1)" }, "url"],
    ["a data: URL", { url: "data:text/html,<script>alert(1)</script>" }, "url"],
    ["a file: URL", { url: "file:///etc/passwd" }, "url"],
    ["a relative URL", { url: "/just/a/path" }, "url"],
    ["a URL with credentials", { url: "https://user:pw@example.com/" }, "url"],
    ["a URL back at this service", { url: "https://sho.test/loop" }, "url"],
    ["a slug with a slash", { url: "https://example.com/", slug: "a/b" }, "slug"],
    ["a 200-character slug", { url: "https://example.com/", slug: "a".repeat(200) }, "slug"],
    ["a reserved slug", { url: "https://example.com/", slug: "api" }, "slug"],
    ["a negative maxClicks", { url: "https://example.com/", maxClicks: -1 }, "maxClicks"],
    ["a fractional maxClicks", { url: "https://example.com/", maxClicks: 1.5 }, "maxClicks"],
    ["a past expiry", { url: "https://example.com/", expiresAt: "2001-01-01T00:00:00Z" }, "expiresAt"],
    ["an unparseable expiry", { url: "https://example.com/", expiresAt: "tomorrow" }, "expiresAt"],
    ["a status code that is not a redirect", { url: "https://example.com/", statusCode: 200 }, "statusCode"],
    ["a URL over 2048 characters", { url: `https://example.com/${"a".repeat(2100)}` }, "url"],
  ];
  it.each(bad)("answers 400 problem+json for %s", async (_name, body, field) => {
    const before = await stack.db.query("select count(*)::int as n from links");
    const res = await stack.api("POST", "/links", body);
    const p = await problem(res, 400);
    if (field) expect(p.errors?.map((e) => e.path)).toContain(field);
    const after = await stack.db.query("select count(*)::int as n from links");
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it("answers 415 for a body that is not JSON", async () => {
    const res = await stack.fetch("/api/v1/links", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "text/plain" },
      body: "url=https://example.com",
    });
    await problem(res, 415);
  });
});

describe("GET /api/v1/links", () => {
  it("returns every link exactly once across cursor pages", async () => {
    const tag = uniqueSlug("page");
    const created = new Set<string>();
    for (let i = 0; i < 23; i++) {
      const res = await stack.api("POST", "/links", { url: `https://example.com/${i}`, tags: [tag] });
      created.add(((await res.json()) as Link).slug);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/links?limit=5&tag=${tag}${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await stack.api("GET", query);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { data: Link[]; nextCursor: string | null };
      expect(page.data.length).toBeLessThanOrEqual(5);
      seen.push(...page.data.map((l) => l.slug));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(pages).toBe(5);
    expect(seen.length).toBe(23);
    expect(new Set(seen)).toEqual(created);
  });

  it("refuses a limit over 100 and a forged cursor", async () => {
    await problem(await stack.api("GET", "/links?limit=101"), 400);
    await problem(await stack.api("GET", "/links?cursor=bm90LWEtY3Vyc29y"), 400);
  });
});

describe("GET|PATCH|DELETE /api/v1/links/{slug}", () => {
  it("gets, updates and deletes a link", async () => {
    const slug = uniqueSlug("crud");
    await stack.api("POST", "/links", { url: "https://example.com/1", slug, tags: ["a"] });
    const got = (await (await stack.api("GET", `/links/${slug}`)).json()) as Link;
    expect(got).toMatchObject({ slug, url: "https://example.com/1", tags: ["a"] });

    const res = await stack.api("PATCH", `/links/${slug}`, { statusCode: 308, tags: ["b", "c"] });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      url: "https://example.com/1",
      statusCode: 308,
      tags: ["b", "c"],
    });

    expect((await stack.api("DELETE", `/links/${slug}`)).status).toBe(204);
    await problem(await stack.api("GET", `/links/${slug}`), 404);
    await problem(await stack.api("DELETE", `/links/${slug}`), 404);
    await problem(await stack.api("PATCH", `/links/${slug}`, { url: "https://example.com/2" }), 404);
  });

  it("refuses an empty or invalid update and keeps the link as it was", async () => {
    const slug = uniqueSlug("keep");
    await stack.api("POST", "/links", { url: "https://example.com/keep", slug });
    await problem(await stack.api("PATCH", `/links/${slug}`, {}), 400);
    await problem(await stack.api("PATCH", `/links/${slug}`, { url: "javascript:void(0)" }), 400);
    await problem(await stack.api("PATCH", `/links/${slug}`, { slug: "renamed" }), 400);
    const got = (await (await stack.api("GET", `/links/${slug}`)).json()) as Link;
    expect(got.url).toBe("https://example.com/keep");
    expect((await stack.fetch(`/${slug}`)).headers.get("location")).toBe("https://example.com/keep");
  });
});

describe("POST /api/v1/links/bulk", () => {
  it("creates the good items and reports the bad one", async () => {
    const taken = uniqueSlug("bulk-taken");
    await stack.api("POST", "/links", { url: "https://example.com/t", slug: taken });
    const items = [
      { url: "https://example.com/b1" },
      { url: "javascript:alert(1)" },
      { url: "https://example.com/b3", slug: uniqueSlug("b3") },
      { url: "https://example.com/b4", slug: taken },
    ];
    const res = await stack.api("POST", "/links/bulk", items);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      created: number;
      failed: number;
      results: { index: number; status: number; link?: Link; error?: { status: number } }[];
    };
    expect(body.created).toBe(2);
    expect(body.failed).toBe(2);
    expect(body.results.map((r) => r.status)).toEqual([201, 400, 201, 409]);
    for (const r of body.results.filter((r) => r.link)) {
      expect((await stack.fetch(`/${r.link?.slug}`)).status).toBe(302);
    }
  });

  it("refuses more than 100 items at once", async () => {
    const items = Array.from({ length: 101 }, (_, i) => ({ url: `https://example.com/${i}` }));
    await problem(await stack.api("POST", "/links/bulk", items), 400);
  });
});

describe("PUT /api/v1/links/external/{externalId}", () => {
  it("creates once and replaces afterwards, idempotently", async () => {
    const ext = uniqueSlug("crm");
    const first = await stack.api("PUT", `/links/external/${ext}`, { url: "https://example.com/v1" });
    expect(first.status).toBe(201);
    const created = (await first.json()) as Link;
    const again = await stack.api("PUT", `/links/external/${ext}`, { url: "https://example.com/v1" });
    expect(again.status).toBe(200);
    expect(((await again.json()) as Link).slug).toBe(created.slug);
    const replaced = await stack.api("PUT", `/links/external/${ext}`, { url: "https://example.com/v2" });
    expect(((await replaced.json()) as Link).url).toBe("https://example.com/v2");
    const { rows } = await stack.db.query("select count(*)::int as n from links where external_id = $1", [
      ext,
    ]);
    expect(rows[0].n).toBe(1);
    expect((await stack.fetch(`/${created.slug}`)).headers.get("location")).toBe("https://example.com/v2");
  });
});
