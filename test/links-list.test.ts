import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, type Stack, startStack } from "./stack";

/**
 * The list's search, sort and paging, the admin token's view of every owner (what the dashboard shows), and
 * `GET /api/v1/me`. Two owners with keys of every scope; clicks are written as rollup rows.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ consumer: "recorder" });
});
afterAll(() => stack?.close());

type Listed = { slug: string; ownerId: string; clicks: number; tags: string[] };
type Page = { data: Listed[]; nextCursor: string | null };
const run = crypto.randomUUID().slice(0, 6);
const ALL = ["links:read", "links:write", "stats:read"];

const as = (key: string, method: string, path: string, body?: unknown) =>
  stack.api(method, path, body, { Authorization: `Bearer ${key}` });

async function ok<T>(res: Response, status = 200): Promise<T> {
  expect(res.status, await res.clone().text()).toBe(status);
  return (await res.json()) as T;
}

async function keyFor(ownerId: string): Promise<string> {
  return (
    await ok<{ key: string }>(await stack.api("POST", "/keys", { name: ownerId, scopes: ALL, ownerId }), 201)
  ).key;
}

async function clicksFor(linkId: number, count: number) {
  await stack.db.query(
    `insert into click_rollups (link_id, hour, is_bot, country, referrer_host, device, browser, os, rule, count)
     values ($1, date_trunc('hour', now()), false, '', '', 'desktop', 'Chrome', 'Linux', '', $2)`,
    [linkId, count],
  );
}

/** Every page of a list, following nextCursor. */
async function allPages(key: string, query: string): Promise<Listed[]> {
  const out: Listed[] = [];
  let cursor: string | null = null;
  do {
    const path: string = `/links?${query}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page: Page = await ok<Page>(await as(key, "GET", path));
    out.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

let alice: string;
let bob: string;
const slugs = { a1: `a1-${run}`, a2: `a2-${run}`, a3: `a3-${run}`, b1: `b1-${run}` };

beforeAll(async () => {
  alice = await keyFor(`alice-${run}`);
  bob = await keyFor(`bob-${run}`);
  const made = async (key: string, body: Record<string, unknown>) =>
    ok<{ id: number }>(await as(key, "POST", "/links", body), 201);
  const a1 = await made(alice, { url: "https://shop.example/spring", slug: slugs.a1, tags: ["Spring-Sale"] });
  const a2 = await made(alice, { url: "https://blog.example/100%25-off", slug: slugs.a2, tags: ["news"] });
  const a3 = await made(alice, { url: "https://docs.example/", slug: slugs.a3 });
  await made(bob, { url: "https://shop.example/bob", slug: slugs.b1, tags: ["spring-sale"] });
  await clicksFor(a1.id, 5);
  await clicksFor(a2.id, 40);
  await clicksFor(a3.id, 5);
});

describe("GET /api/v1/links: search, sort, paging", () => {
  it("finds text in the slug, the target or a tag, in any case, only among the caller's links", async () => {
    const found = async (q: string) =>
      (await allPages(alice, `q=${encodeURIComponent(q)}`)).map((l) => l.slug).sort();
    expect(await found("SHOP.example")).toEqual([slugs.a1]);
    expect(await found("spring-SALE")).toEqual([slugs.a1]);
    expect(await found(`a3-${run}`)).toEqual([slugs.a3]);
    // % and _ are themselves, not wildcards.
    expect(await found("%25")).toEqual([slugs.a2]);
    expect(await found("_")).toEqual([]);
  });

  it("sorts by clicks, most first, ties newest first, and pages without repeating a link", async () => {
    const listed = await allPages(alice, "sort=clicks");
    expect(listed.map((l) => [l.slug, l.clicks])).toEqual([
      [slugs.a2, 40],
      [slugs.a3, 5],
      [slugs.a1, 5],
    ]);
  });

  it("pages newest first with clicks and owner on every link", async () => {
    const listed = await allPages(alice, "sort=newest");
    expect(listed.map((l) => l.slug)).toEqual([slugs.a3, slugs.a2, slugs.a1]);
    expect(listed.map((l) => l.clicks)).toEqual([5, 40, 5]);
    expect(new Set(listed.map((l) => l.ownerId))).toEqual(new Set([`alice-${run}`]));
  });

  it("refuses a cursor of the other sort, and an unknown sort", async () => {
    const page = await ok<Page>(await as(alice, "GET", "/links?limit=1"));
    const res = await as(alice, "GET", `/links?sort=clicks&cursor=${page.nextCursor}`);
    expect(res.status).toBe(400);
    expect((await as(alice, "GET", "/links?sort=oldest")).status).toBe(400);
  });
});

describe("owners in the list", () => {
  it("a key may not list another owner's links", async () => {
    const res = await as(alice, "GET", `/links?owner=bob-${run}`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { errors: { path: string }[] }).errors[0]?.path).toBe("owner");
    expect((await as(alice, "GET", "/links?owner=*")).status).toBe(403);
    // Naming itself is the same as leaving it out.
    expect((await allPages(alice, `owner=alice-${run}`)).length).toBe(3);
  });

  it("the admin token lists every owner's links with owner=*, or one owner's", async () => {
    const every = await allPages(ADMIN_TOKEN, `owner=*&q=${run}`);
    expect(every.map((l) => l.slug).sort()).toEqual(Object.values(slugs).sort());
    const bobs = await allPages(ADMIN_TOKEN, `owner=bob-${run}`);
    expect(bobs.map((l) => [l.slug, l.ownerId])).toEqual([[slugs.b1, `bob-${run}`]]);
    // Left out: only the admin's own, as before.
    expect((await allPages(ADMIN_TOKEN, `q=${run}`)).length).toBe(0);
  });

  it("the admin token reads, edits, and reads the stats and QR code of another owner's link", async () => {
    expect((await ok<Listed>(await stack.api("GET", `/links/${slugs.b1}`))).ownerId).toBe(`bob-${run}`);
    const patched = await ok<Listed>(await stack.api("PATCH", `/links/${slugs.b1}`, { tags: ["edited"] }));
    expect(patched.tags).toEqual(["edited"]);
    expect((await stack.api("GET", `/links/${slugs.b1}/stats`)).status).toBe(200);
    expect((await stack.api("GET", `/links/${slugs.b1}/qr`)).status).toBe(200);
  });

  it("the admin token deletes another owner's link; the owner then finds it gone", async () => {
    const slug = `b2-${run}`;
    await ok(await as(bob, "POST", "/links", { url: "https://shop.example/b2", slug }), 201);
    expect((await as(alice, "DELETE", `/links/${slug}`)).status).toBe(404);
    expect((await as(bob, "GET", `/links/${slug}`)).status).toBe(200);
    expect((await stack.api("DELETE", `/links/${slug}`)).status).toBe(204);
    expect((await as(bob, "GET", `/links/${slug}`)).status).toBe(404);
  });

  it("a key still sees nothing of another owner's link", async () => {
    for (const path of [`/links/${slugs.b1}`, `/links/${slugs.b1}/stats`, `/links/${slugs.b1}/qr`]) {
      expect((await as(alice, "GET", path)).status).toBe(404);
    }
    expect((await as(alice, "PATCH", `/links/${slugs.b1}`, { tags: [] })).status).toBe(404);
    expect((await as(alice, "DELETE", `/links/${slugs.b1}`)).status).toBe(404);
  });
});

describe("GET /api/v1/stats?owner", () => {
  type Summary = { links: number; clicks: { total: number }; topLinks: Array<{ slug: string }> };
  it("the admin token sums every owner's links with owner=*, or one owner's; a key only its own", async () => {
    const every = await ok<Summary>(await stack.api("GET", "/stats?owner=*"));
    expect(every.links).toBe(4);
    expect(every.clicks.total).toBe(50);
    // Most clicked first; ties by domain, then slug.
    expect(every.topLinks.map((l) => l.slug)).toEqual([slugs.a2, slugs.a1, slugs.a3]);
    const bobs = await ok<Summary>(await stack.api("GET", `/stats?owner=bob-${run}`));
    expect(bobs).toMatchObject({ links: 1, clicks: { total: 0 } });
    // Left out: the admin's own, as before.
    expect((await ok<Summary>(await stack.api("GET", "/stats"))).links).toBe(0);
    expect((await as(alice, "GET", `/stats?owner=bob-${run}`)).status).toBe(403);
    expect((await as(alice, "GET", "/stats?owner=*")).status).toBe(403);
    expect((await ok<Summary>(await as(alice, "GET", `/stats?owner=alice-${run}`))).links).toBe(3);
  });
});

describe("GET /api/v1/me", () => {
  it("names the key's owner and scopes, and the admin token as admin", async () => {
    expect(await ok(await as(alice, "GET", "/me"))).toEqual({
      ownerId: `alice-${run}`,
      scopes: ALL,
      admin: false,
      defaultDomain: new URL(stack.origin).host,
    });
    expect(await ok(await stack.api("GET", "/me"))).toMatchObject({ ownerId: "admin", admin: true });
    expect((await stack.fetch("/api/v1/me")).status).toBe(401);
    expect((await as("not-a-key", "GET", "/me")).status).toBe(401);
  });
});
