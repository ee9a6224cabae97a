import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { displayPrefix, generateApiKey, hashApiKey } from "../shared/api-keys";
import { PROBLEM_TYPE_BASE } from "../shared/problem";
import { CHROME, GOOGLEBOT } from "./fixtures";
import { ADMIN_TOKEN, eventually, type Stack, startStack } from "./stack";

/**
 * Two owners, each with a key that holds every scope: on every key, link and stats route,
 * each sees and changes only its own; another owner's things answer 404. The service
 * summary is compared with click counts known in advance.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ consumer: "aggregator" });
});
afterAll(() => stack?.close());

const ALL_SCOPES = ["links:read", "links:write", "stats:read", "keys:admin"];
const unique = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

type Key = { id: number; key: string; ownerId: string; scopes: string[] };
type Link = { id: number; slug: string; url: string; tags: string[]; externalId: string | null };

/** Calls the API with an API key (or the admin token, through stack.api). */
const as = (key: string, method: string, path: string, body?: unknown) =>
  stack.api(method, path, body, { Authorization: `Bearer ${key}` });

async function json<T>(res: Response, status: number): Promise<T> {
  expect(res.status, await res.clone().text()).toBe(status);
  return (await res.json()) as T;
}

async function problem(res: Response, status: number, type: string) {
  expect(res.status, await res.clone().text()).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as { type: string; status: number; errors?: { path: string }[] };
  expect(body).toMatchObject({ status, type: PROBLEM_TYPE_BASE + type });
  return body;
}

async function adminCreatesKey(ownerId: string, scopes = ALL_SCOPES): Promise<Key> {
  return json<Key>(await stack.api("POST", "/keys", { name: ownerId, scopes, ownerId }), 201);
}

async function createLink(key: string, body: Record<string, unknown>): Promise<Link> {
  return json<Link>(await as(key, "POST", "/links", body), 201);
}

describe("keys of two owners", () => {
  let alice: Key;
  let bob: Key;
  beforeAll(async () => {
    alice = await adminCreatesKey("alice");
    bob = await adminCreatesKey("bob");
  });
  const pairs = () => [
    { me: alice, other: bob },
    { me: bob, other: alice },
  ];

  it.each([0, 1])("a key lists only its own owner's keys (pair %i)", async (i) => {
    const { me, other } = pairs()[i] as { me: Key; other: Key };
    const { data } = await json<{ data: Key[] }>(await as(me.key, "GET", "/keys"), 200);
    expect(data.map((k) => k.id)).toContain(me.id);
    expect(data.map((k) => k.id)).not.toContain(other.id);
    expect(new Set(data.map((k) => k.ownerId))).toEqual(new Set([me.ownerId]));
  });

  it("the admin token lists every owner's keys", async () => {
    const { data } = await json<{ data: Key[] }>(await stack.api("GET", "/keys"), 200);
    expect(data.map((k) => k.id)).toEqual(expect.arrayContaining([alice.id, bob.id]));
  });

  it.each([0, 1])("a key creates keys for its own owner only (pair %i)", async (i) => {
    const { me, other } = pairs()[i] as { me: Key; other: Key };
    const othersKeys = () =>
      stack.db
        .query("select count(*)::int as n from api_keys where owner_id = $1", [other.ownerId])
        .then(({ rows }) => rows[0].n as number);
    const before = await othersKeys();
    const implicit = await json<Key>(
      await as(me.key, "POST", "/keys", { name: "x", scopes: ["links:read"] }),
      201,
    );
    expect(implicit.ownerId).toBe(me.ownerId);
    const explicit = await json<Key>(
      await as(me.key, "POST", "/keys", { name: "x", scopes: ["links:read"], ownerId: me.ownerId }),
      201,
    );
    expect(explicit.ownerId).toBe(me.ownerId);
    const refused = await problem(
      await as(me.key, "POST", "/keys", { name: "x", scopes: ["links:read"], ownerId: other.ownerId }),
      403,
      "cross-owner",
    );
    expect(refused.errors?.map((e) => e.path)).toEqual(["ownerId"]);
    expect(await othersKeys()).toBe(before);
  });

  it("nobody, not even the admin token, can give a key the admin's owner", async () => {
    for (const ownerId of ["admin", "ADMIN"]) {
      const body = { name: "x", scopes: ["links:read"], ownerId };
      const byKey = await problem(await as(alice.key, "POST", "/keys", body), 400, "invalid-request");
      expect(byKey.errors?.map((e) => e.path)).toEqual(["ownerId"]);
      await problem(await stack.api("POST", "/keys", body), 400, "invalid-request");
    }
    const { rows } = await stack.db.query(
      "select count(*)::int as n from api_keys where lower(owner_id) = 'admin'",
    );
    expect(rows[0].n).toBe(0);
  });

  it("a key stored with the admin's owner before it was reserved is refused", async () => {
    const secret = generateApiKey();
    await stack.db.query(
      "insert into api_keys (name, owner_id, key_hash, prefix, scopes) values ('old', 'admin', $1, $2, $3)",
      [await hashApiKey(secret), displayPrefix(secret), ALL_SCOPES],
    );
    await problem(await as(secret, "GET", "/links"), 401, "unauthorized");
    await problem(await as(secret, "GET", "/keys"), 401, "unauthorized");
  });

  it("a key cannot grant a scope it does not hold", async () => {
    const limited = await json<Key>(
      await as(alice.key, "POST", "/keys", { name: "limited", scopes: ["keys:admin", "links:read"] }),
      201,
    );
    const refused = await problem(
      await as(limited.key, "POST", "/keys", { name: "x", scopes: ["links:read", "links:write"] }),
      403,
      "scope-not-held",
    );
    expect(refused.errors?.map((e) => e.path)).toEqual(["scopes"]);
    const granted = await json<Key>(
      await as(limited.key, "POST", "/keys", { name: "x", scopes: ["links:read"] }),
      201,
    );
    expect(granted).toMatchObject({ ownerId: "alice", scopes: ["links:read"] });
  });

  it.each([0, 1])("a key revokes only its own owner's keys; another's is 404 (pair %i)", async (i) => {
    const { me, other } = pairs()[i] as { me: Key; other: Key };
    const spare = await adminCreatesKey(other.ownerId, ["links:read"]);
    await problem(await as(me.key, "DELETE", `/keys/${spare.id}`), 404, "not-found");
    await problem(await as(me.key, "DELETE", `/keys/${other.id}`), 404, "not-found");
    expect((await as(spare.key, "GET", "/links")).status).toBe(200);
    expect((await as(other.key, "GET", "/links")).status).toBe(200);

    const mine = await json<Key>(
      await as(me.key, "POST", "/keys", { name: "mine", scopes: ["links:read"] }),
      201,
    );
    expect((await as(me.key, "DELETE", `/keys/${mine.id}`)).status).toBe(204);
    expect((await as(mine.key, "GET", "/links")).status).toBe(401);
    // The admin token revokes any owner's key.
    expect((await stack.api("DELETE", `/keys/${spare.id}`)).status).toBe(204);
    expect((await as(spare.key, "GET", "/links")).status).toBe(401);
  });
});

describe("links and stats of two owners", () => {
  type Owner = { name: string; key: string; link: Link; onlyExternal: string };
  const owners: Owner[] = [];
  const SHARED_EXTERNAL = "crm-1";

  beforeAll(async () => {
    for (const name of ["carol", "dave"]) {
      const { key } = await adminCreatesKey(name);
      const link = await createLink(key, {
        url: `https://${name}.example/`,
        slug: unique(name),
        tags: ["shared"],
        externalId: SHARED_EXTERNAL,
      });
      const onlyExternal = `only-${name}`;
      await createLink(key, { url: `https://${name}.example/2`, externalId: onlyExternal, tags: ["shared"] });
      owners.push({ name, key, link, onlyExternal });
    }
  });

  /** Each owner's probes of the other's link, and afterwards the other's link as it was. */
  const directions = [
    [0, 1],
    [1, 0],
  ] as const;

  async function liveSlugs(owner: string): Promise<string[]> {
    const { rows } = await stack.db.query(
      "select slug from links where owner_id = $1 and deleted_at is null order by id desc",
      [owner],
    );
    return rows.map((r) => r.slug as string);
  }

  it.each(directions)("GET /links lists only the caller's links (owner %i)", async (m) => {
    const me = owners[m] as Owner;
    const all = await json<{ data: Link[] }>(await as(me.key, "GET", "/links?limit=100"), 200);
    expect(all.data.map((l) => l.slug)).toEqual(await liveSlugs(me.name));
    const tagged = await json<{ data: Link[] }>(await as(me.key, "GET", "/links?tag=shared&limit=100"), 200);
    expect(tagged.data.map((l) => l.slug)).toEqual(await liveSlugs(me.name));
  });

  it.each(directions)(
    "another owner's link is 404 to get, patch, delete and stats (%i → %i)",
    async (m, o) => {
      const me = owners[m] as Owner;
      const slug = (owners[o] as Owner).link.slug;
      await problem(await as(me.key, "GET", `/links/${slug}`), 404, "not-found");
      await problem(
        await as(me.key, "PATCH", `/links/${slug}`, { url: "https://evil.example/" }),
        404,
        "not-found",
      );
      await problem(await as(me.key, "DELETE", `/links/${slug}`), 404, "not-found");
      await problem(await as(me.key, "GET", `/links/${slug}/stats`), 404, "not-found");
      expect((await as(me.key, "GET", `/links/${me.link.slug}`)).status).toBe(200);
    },
  );

  it.each(directions)("PUT by external id touches only the caller's link (%i → %i)", async (m, o) => {
    const me = owners[m] as Owner;
    const other = owners[o] as Owner;
    const replaced = await json<Link>(
      await as(me.key, "PUT", `/links/external/${SHARED_EXTERNAL}`, { url: `https://${me.name}.example/v2` }),
      200,
    );
    expect(replaced.slug).toBe(me.link.slug);
    // The other's own external id is unknown to the caller: a new link of the caller's.
    const created = await json<Link>(
      await as(me.key, "PUT", `/links/external/${other.onlyExternal}`, { url: "https://x.example/" }),
      201,
    );
    const { rows } = await stack.db.query("select owner_id from links where id = $1", [created.id]);
    expect(rows[0].owner_id).toBe(me.name);
    await problem(
      await as(me.key, "PUT", `/links/external/${unique("new")}`, {
        url: "https://x.example/",
        slug: other.link.slug,
      }),
      409,
      "conflict",
    );
  });

  it.each(directions)("bulk create cannot take another owner's slug (%i → %i)", async (m, o) => {
    const me = owners[m] as Owner;
    const other = owners[o] as Owner;
    const result = await json<{ results: { status: number; link?: Link }[] }>(
      await as(me.key, "POST", "/links/bulk", [
        { url: "https://evil.example/", slug: other.link.slug },
        { url: "https://fine.example/" },
      ]),
      200,
    );
    expect(result.results.map((r) => r.status)).toEqual([409, 201]);
    const mine = result.results[1]?.link as Link;
    await problem(await as(other.key, "GET", `/links/${mine.slug}`), 404, "not-found");
  });

  it("left each owner's link as its owner last wrote it", async () => {
    for (const owner of owners) {
      const link = await json<Link>(await as(owner.key, "GET", `/links/${owner.link.slug}`), 200);
      expect(link).toMatchObject({ url: `https://${owner.name}.example/v2`, externalId: SHARED_EXTERNAL });
      const res = await stack.fetch(`/${owner.link.slug}`, { method: "HEAD" });
      expect(res.headers.get("location")).toBe(`https://${owner.name}.example/v2`);
    }
  });
});

describe("GET /api/v1/stats counts the caller's clicks only", () => {
  type Summary = {
    links: number;
    clicks: { total: number; humans: number; bots: number; last24h: number };
    topLinks: { slug: string; clicks: number }[];
  };

  /** Clicks through the real redirect → queue → aggregator path, stamped now. */
  async function click(slug: string, userAgent: string, times: number) {
    for (let i = 0; i < times; i++) {
      const res = await stack.fetch(`/${slug}`, {
        headers: { "User-Agent": userAgent, "CF-Connecting-IP": `198.51.100.${i + 1}` },
      });
      expect(res.status).toBe(302);
      await res.body?.cancel();
    }
  }

  /** Clicks from days ago, written as the rollup rows the aggregator would have written then. */
  async function pastClicks(linkId: number, hoursAgo: number, isBot: boolean, count: number) {
    const hour = new Date(Math.floor((Date.now() - hoursAgo * 3_600_000) / 3_600_000) * 3_600_000);
    await stack.db.query(
      `insert into click_rollups (link_id, hour, is_bot, country, referrer_host, device, browser, os, rule, count)
       values ($1, $2, $3, '', '', 'desktop', 'Chrome', 'Windows', '', $4)`,
      [linkId, hour, isBot, count],
    );
  }

  it("matches known click counts for each owner, and for the admin token", async () => {
    const erin = await adminCreatesKey("erin");
    const frank = await adminCreatesKey("frank");
    const e1 = await createLink(erin.key, { url: "https://erin.example/1", slug: unique("e1") });
    const e2 = await createLink(erin.key, { url: "https://erin.example/2", slug: unique("e2") });
    const f1 = await createLink(frank.key, { url: "https://frank.example/1", slug: unique("f1") });

    await pastClicks(e1.id, 72, false, 10);
    await pastClicks(f1.id, 48, true, 7);
    await click(e1.slug, CHROME, 5);
    await click(e1.slug, GOOGLEBOT, 2);
    await click(e2.slug, CHROME, 3);
    await click(f1.slug, CHROME, 4);
    await click(f1.slug, GOOGLEBOT, 1);

    const summary = (key: string) => as(key, "GET", "/stats").then((res) => json<Summary>(res, 200));
    // Wait until the aggregator wrote all 15 clicks of this minute, then compare exactly.
    await eventually(async () => {
      const { rows } = await stack.db.query(
        "select count(*)::int as n from click_events where link_id = any($1)",
        [[e1.id, e2.id, f1.id]],
      );
      return rows[0].n === 15 ? true : undefined;
    }, 60_000);

    expect(await summary(erin.key)).toEqual({
      links: 2,
      clicks: { total: 20, humans: 18, bots: 2, last24h: 10 },
      topLinks: [
        { domain: "sho.test", slug: e1.slug, clicks: 17 },
        { domain: "sho.test", slug: e2.slug, clicks: 3 },
      ],
    });
    expect(await summary(frank.key)).toEqual({
      links: 1,
      clicks: { total: 12, humans: 4, bots: 8, last24h: 5 },
      topLinks: [{ domain: "sho.test", slug: f1.slug, clicks: 12 }],
    });
    // The admin token's own owner has no links in this file's database.
    expect(await summary(ADMIN_TOKEN)).toEqual({
      links: 0,
      clicks: { total: 0, humans: 0, bots: 0, last24h: 0 },
      topLinks: [],
    });

    const linkStats = await json<{ totals: Record<string, number> }>(
      await as(erin.key, "GET", `/links/${e1.slug}/stats`),
      200,
    );
    expect(linkStats.totals).toMatchObject({ clicks: 17, humans: 15, bots: 2 });
  }, 90_000);
});
