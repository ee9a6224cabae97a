import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROBLEM_TYPE_BASE } from "../shared/problem";
import { CHROME } from "./fixtures";
import { ADMIN_TOKEN, eventually, type Stack, startStack } from "./stack";

/**
 * Several short domains in one deployment (issue #16): the admin's domain API, links per
 * domain (a slug once per domain), the Host choosing the domain on the redirect, each domain's
 * own redirects, owners on two domains, clicks and stats by domain.
 */

const DEFAULT_HOST = "sho.test";
const unique = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

type Link = { id: number; domain: string; slug: string; url: string; shortUrl: string };
type Key = { key: string; ownerId: string };

async function json<T>(res: Response, status: number): Promise<T> {
  expect(res.status, await res.clone().text()).toBe(status);
  return (await res.json()) as T;
}

async function problem(res: Response, status: number, type: string) {
  expect(res.status, await res.clone().text()).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as { type: string; errors?: { path: string; message: string }[] };
  expect(body.type).toBe(PROBLEM_TYPE_BASE + type);
  return body;
}

/** A request to the edge as it arrives for `host` (the URL's authority is the Host). */
const at = (stack: Stack, host: string, path: string, init: RequestInit = {}) =>
  stack.mf.dispatchFetch(`https://${host}${path}`, {
    redirect: "manual",
    ...init,
  } as never) as unknown as Promise<Response>;

const locationAt = async (stack: Stack, host: string, path: string) => {
  const res = await at(stack, host, path);
  return `${res.status} ${res.headers.get("location")}`;
};

describe("domains with PUBLIC_BASE_URL and unknown hosts on the default domain", () => {
  let stack: Stack;
  let alice: Key;
  let bob: Key;
  const as = (key: string, method: string, path: string, body?: unknown) =>
    stack.api(method, path, body, { Authorization: `Bearer ${key}` });
  const newKey = async (ownerId: string) =>
    json<Key>(
      await stack.api("POST", "/keys", {
        name: ownerId,
        ownerId,
        scopes: ["links:read", "links:write", "stats:read", "keys:admin"],
      }),
      201,
    );

  beforeAll(async () => {
    stack = await startStack({
      consumer: "aggregator",
      vars: { PUBLIC_BASE_URL: `https://${DEFAULT_HOST}` },
    });
    const added = [
      { name: "ACME.link.", notFoundUrl: "https://acme.example/not-found" },
      { name: "acme.de", baseUrl: "https://acme.example/de", allowedOwners: ["alice"] },
      { name: "Bücher.example:8443" },
    ];
    for (const body of added) await json(await stack.api("POST", "/domains", body), 201);
    alice = await newKey("alice");
    bob = await newKey("bob");
  });
  afterAll(() => stack?.close());

  describe("the domain API", () => {
    it("lists the domains normalized, with the default domain and the unknown-host rule", async () => {
      const list = await json<{ defaultDomain: string; unknownHosts: string; data: { name: string }[] }>(
        await stack.api("GET", "/domains"),
        200,
      );
      expect(list.defaultDomain).toBe(DEFAULT_HOST);
      expect(list.unknownHosts).toBe("default");
      expect(list.data.map((d) => d.name)).toEqual(["acme.de", "acme.link", "xn--bcher-kva.example:8443"]);
      expect(list.data.find((d) => d.name === "acme.de")).toMatchObject({
        baseUrl: "https://acme.example/de",
        notFoundUrl: null,
        allowedOwners: ["alice"],
        isDefault: false,
      });
    });

    it("is the admin token's alone: a key with every scope gets 403", async () => {
      await problem(await as(alice.key, "GET", "/domains"), 403, "admin-only");
      await problem(await as(alice.key, "POST", "/domains", { name: "alice.example" }), 403, "admin-only");
      await problem(await as(alice.key, "DELETE", "/domains/acme.link"), 403, "admin-only");
      await problem(await stack.fetch("/api/v1/domains"), 401, "unauthorized");
    });

    it("answers 409 for a domain already there, in any spelling", async () => {
      await problem(await stack.api("POST", "/domains", { name: "Acme.Link" }), 409, "conflict");
      await problem(await stack.api("POST", "/domains", { name: "bücher.EXAMPLE.:8443" }), 409, "conflict");
    });

    it.each([
      ["a path", "acme.example/x"],
      ["a scheme", "https://acme.example"],
      ["userinfo", "me@acme.example"],
      ["a space", "acme .example"],
      ["a NUL", "acme\u0000.example"],
      ["a lone surrogate", "acme\ud800.example"],
      ["an empty label", "acme..example"],
      ["a 64-character label", `${"a".repeat(64)}.example`],
      ["a 254-character name", `${"abcdefghi.".repeat(25)}abcd`],
      ["port 0", "acme.example:0"],
      ["port 65536", "acme.example:65536"],
      ["nothing", ""],
    ])("refuses a name with %s (400 naming the field)", async (_, name) => {
      const body = await problem(await stack.api("POST", "/domains", { name }), 400, "invalid-request");
      expect(body.errors?.map((e) => e.path)).toEqual(["name"]);
    });

    it("refuses redirects to this service's own domains or to private hosts", async () => {
      for (const notFoundUrl of [
        "https://acme.link/x",
        "https://ACME.DE./",
        "https://sho.test/",
        "https://new.example:9/",
      ]) {
        const res = await stack.api("POST", "/domains", { name: "new.example", notFoundUrl });
        const body = await problem(res, 400, "invalid-request");
        expect(body.errors?.[0]?.path).toBe("notFoundUrl");
      }
      const res = await stack.api("POST", "/domains", { name: "new.example", baseUrl: "http://10.0.0.1/" });
      expect((await problem(res, 400, "invalid-request")).errors?.[0]?.path).toBe("baseUrl");
      const { rows } = await stack.db.query("select name from domains where name = 'new.example'");
      expect(rows).toEqual([]);
    });
  });

  describe("links per domain", () => {
    const slug = unique("launch");
    beforeAll(async () => {
      for (const [domain, url] of [
        [undefined, "https://default.example/launch"],
        ["acme.link", "https://link.example/launch"],
        ["ACME.DE.", "https://de.example/launch"],
      ] as const) {
        await json(await stack.api("POST", "/links", { url, slug, ...(domain ? { domain } : {}) }), 201);
      }
    });

    it("holds one slug once per domain, and a second on the same domain is a 409", async () => {
      const again = await stack.api("POST", "/links", {
        url: "https://x.example/",
        slug,
        domain: "acme.link",
      });
      await problem(again, 409, "conflict");
      const { rows } = await stack.db.query("select domain from links where slug = $1 order by domain", [
        slug,
      ]);
      expect(rows.map((r) => r.domain)).toEqual(["", "acme.de", "acme.link"]);
    });

    it("redirects by the request's Host, however it is written", async () => {
      expect(await locationAt(stack, DEFAULT_HOST, `/${slug}`)).toBe("302 https://default.example/launch");
      expect(await locationAt(stack, "acme.link", `/${slug}`)).toBe("302 https://link.example/launch");
      expect(await locationAt(stack, "ACME.LINK:443", `/${slug}`)).toBe("302 https://link.example/launch");
      expect(await locationAt(stack, "acme.link.:8080", `/${slug}`)).toBe("302 https://link.example/launch");
      expect(await locationAt(stack, "acme.de", `/${slug}`)).toBe("302 https://de.example/launch");
      // A Host that is no domain gets the default domain (UNKNOWN_HOSTS left at "default").
      expect(await locationAt(stack, "other.example", `/${slug}`)).toBe("302 https://default.example/launch");
    });

    it("matches a domain added with a port on that port only, and an IDN in its punycode form", async () => {
      const idnSlug = unique("idn");
      const created = await json<Link>(
        await stack.api("POST", "/links", {
          url: "https://idn.example/",
          slug: idnSlug,
          domain: "bücher.example:8443",
        }),
        201,
      );
      expect(created).toMatchObject({
        domain: "xn--bcher-kva.example:8443",
        shortUrl: `https://xn--bcher-kva.example:8443/${idnSlug}`,
      });
      expect(await locationAt(stack, "xn--bcher-kva.example:8443", `/${idnSlug}`)).toBe(
        "302 https://idn.example/",
      );
      // The same name on another port is an unknown host: the default domain, which has no such slug.
      await problem(await at(stack, "xn--bcher-kva.example:9443", `/${idnSlug}`), 404, "not-found");
    });

    it("answers each link's domain and short URL, and reads, updates and deletes by ?domain", async () => {
      const onLink = await json<Link>(await stack.api("GET", `/links/${slug}?domain=acme.link`), 200);
      expect(onLink).toMatchObject({ domain: "acme.link", url: "https://link.example/launch" });
      expect(onLink.shortUrl).toBe(`https://acme.link/${slug}`);
      const onDefault = await json<Link>(await stack.api("GET", `/links/${slug}`), 200);
      expect(onDefault).toMatchObject({ domain: DEFAULT_HOST, shortUrl: `https://${DEFAULT_HOST}/${slug}` });
      // The default domain's own name means the default domain.
      expect((await json<Link>(await stack.api("GET", `/links/${slug}?domain=SHO.test`), 200)).id).toBe(
        onDefault.id,
      );

      const patched = await stack.api("PATCH", `/links/${slug}?domain=acme.de`, {
        url: "https://de.example/v2",
      });
      expect((await json<Link>(patched, 200)).url).toBe("https://de.example/v2");
      expect(await locationAt(stack, "acme.de", `/${slug}`)).toBe("302 https://de.example/v2");
      expect(await locationAt(stack, "acme.link", `/${slug}`)).toBe("302 https://link.example/launch");

      const other = unique("gone");
      await json(await stack.api("POST", "/links", { url: "https://a.example/", slug: other }), 201);
      await json(
        await stack.api("POST", "/links", { url: "https://b.example/", slug: other, domain: "acme.link" }),
        201,
      );
      expect((await stack.api("DELETE", `/links/${other}?domain=acme.link`)).status).toBe(204);
      expect((await at(stack, "acme.link", `/${other}`)).headers.get("location")).toBe(
        "https://acme.example/not-found",
      );
      expect(await locationAt(stack, DEFAULT_HOST, `/${other}`)).toBe("302 https://a.example/");
    });

    it("lists every domain's links, or one domain's with ?domain", async () => {
      const all = await json<{ data: Link[] }>(await stack.api("GET", "/links?limit=100"), 200);
      expect(
        all.data
          .filter((l) => l.slug === slug)
          .map((l) => l.domain)
          .sort(),
      ).toEqual(["acme.de", "acme.link", DEFAULT_HOST]);
      const one = await json<{ data: Link[] }>(
        await stack.api("GET", "/links?limit=100&domain=acme.link"),
        200,
      );
      expect(new Set(one.data.map((l) => l.domain))).toEqual(new Set(["acme.link"]));
    });

    it("answers 400 for a domain that is not configured or not a host, on every route that takes one", async () => {
      const calls: Array<[string, string, unknown?]> = [
        ["POST", "/links", { url: "https://a.example/", domain: "nope.example" }],
        ["POST", "/links/bulk", [{ url: "https://a.example/", domain: "nope.example" }]],
        ["PUT", "/links/external/ext-nope", { url: "https://a.example/", domain: "nope.example" }],
        ["GET", `/links/${slug}?domain=nope.example`],
        ["PATCH", `/links/${slug}?domain=nope.example`, { url: "https://a.example/" }],
        ["DELETE", `/links/${slug}?domain=nope.example`],
        ["GET", `/links/${slug}/stats?domain=nope.example`],
        ["GET", "/stats?domain=nope.example"],
        ["GET", "/links?domain=nope.example"],
      ];
      for (const [method, path, body] of calls) {
        const res = await stack.api(method, path, body);
        if (path === "/links/bulk") {
          const result = await json<{ results: { status: number; error: { type: string } }[] }>(res, 200);
          expect(result.results[0]).toMatchObject({
            status: 400,
            error: { type: `${PROBLEM_TYPE_BASE}unknown-domain` },
          });
        } else {
          await problem(res, 400, "unknown-domain");
        }
      }
      await problem(await stack.api("GET", `/links/${slug}?domain=a/b`), 400, "invalid-request");
      await problem(
        await stack.api("GET", `/links/${slug}?domain=${"x".repeat(64)}.example`),
        400,
        "invalid-request",
      );
    });

    it("refuses targets on any short domain of this service (redirect loops)", async () => {
      for (const url of [
        "https://acme.de/x",
        "https://ACME.link.:8080/x",
        "https://xn--bcher-kva.example/",
        "https://sho.test/x",
      ]) {
        const body = await problem(await stack.api("POST", "/links", { url }), 400, "invalid-request");
        expect(body.errors?.[0]).toMatchObject({ path: "url" });
      }
    });

    it("keeps an external id on its link's domain: another domain is a 409", async () => {
      const put = (domain?: string) =>
        stack.api("PUT", "/links/external/crm-7", {
          url: "https://crm.example/7",
          ...(domain ? { domain } : {}),
        });
      expect((await put("acme.link")).status).toBe(201);
      expect((await put("acme.link")).status).toBe(200);
      await problem(await put(), 409, "conflict");
    });
  });

  describe("each domain's own redirects", () => {
    it("sends an unknown slug to the domain's notFoundUrl, and `/` to its baseUrl (302, not a click)", async () => {
      expect(await locationAt(stack, "acme.link", `/${unique("none")}`)).toBe(
        "302 https://acme.example/not-found",
      );
      expect(await locationAt(stack, "acme.de", "/")).toBe("302 https://acme.example/de");
      const head = await at(stack, "acme.de", "/", { method: "HEAD" });
      expect(head.status).toBe(302);
    });

    it("leads /dashboard to the dashboard on a domain with a notFoundUrl (no link holds the slug)", async () => {
      expect(await locationAt(stack, "acme.link", "/dashboard")).toBe("308 /dashboard/");
      expect(await locationAt(stack, DEFAULT_HOST, "/dashboard")).toBe("308 /dashboard/");
    });

    it("answers the 404 problem where the domain has none", async () => {
      await problem(await at(stack, "acme.de", `/${unique("none")}`), 404, "not-found");
      await problem(await at(stack, "acme.link", "/"), 404, "not-found");
      await problem(await at(stack, DEFAULT_HOST, "/"), 404, "not-found");
    });
  });

  describe("owners on two domains", () => {
    it("each owner sees and changes only its own links on every domain (404 for the other's)", async () => {
      const slug = unique("own");
      const mine = await json<Link>(
        await as(alice.key, "POST", "/links", { url: "https://alice.example/", slug, domain: "acme.link" }),
        201,
      );
      const theirs = await json<Link>(
        await as(bob.key, "POST", "/links", { url: "https://bob.example/", slug }),
        201,
      );
      for (const [me, other, domain] of [
        [alice, theirs, ""],
        [bob, mine, "?domain=acme.link"],
      ] as const) {
        await problem(await as(me.key, "GET", `/links/${slug}${domain}`), 404, "not-found");
        await problem(
          await as(me.key, "PATCH", `/links/${slug}${domain}`, { url: "https://x.example/" }),
          404,
          "not-found",
        );
        await problem(await as(me.key, "DELETE", `/links/${slug}${domain}`), 404, "not-found");
        await problem(await as(me.key, "GET", `/links/${slug}/stats${domain}`), 404, "not-found");
        const list = await json<{ data: Link[] }>(await as(me.key, "GET", "/links?limit=100"), 200);
        expect(list.data.map((l) => l.id)).not.toContain(other.id);
      }
      // Bob cannot take Alice's slug on her domain: the slug is taken, whoever holds it.
      await problem(
        await as(bob.key, "POST", "/links", { url: "https://b.example/", slug, domain: "acme.link" }),
        409,
        "conflict",
      );
      expect(await locationAt(stack, "acme.link", `/${slug}`)).toBe("302 https://alice.example/");
      expect(await locationAt(stack, DEFAULT_HOST, `/${slug}`)).toBe("302 https://bob.example/");
    });

    it("a domain restricted to some owners refuses any other owner's new links (403)", async () => {
      const slug = unique("de");
      await json(
        await as(alice.key, "POST", "/links", { url: "https://alice.example/de", slug, domain: "acme.de" }),
        201,
      );
      const creates: Array<[string, string, unknown?]> = [
        ["POST", "/links", { url: "https://b.example/", domain: "acme.de" }],
        ["PUT", "/links/external/bob-1", { url: "https://b.example/", domain: "acme.de" }],
      ];
      for (const [method, path, body] of creates) {
        await problem(await as(bob.key, method, path, body), 403, "domain-not-allowed");
      }
      // Alice's link there is still no business of Bob's: 404, and none in his lists.
      await problem(await as(bob.key, "GET", `/links/${slug}?domain=acme.de`), 404, "not-found");
      await problem(await as(bob.key, "DELETE", `/links/${slug}?domain=acme.de`), 404, "not-found");
      await problem(await as(bob.key, "GET", `/links/${slug}/stats?domain=acme.de`), 404, "not-found");
      expect(
        (await json<{ data: unknown[] }>(await as(bob.key, "GET", "/links?domain=acme.de"), 200)).data,
      ).toEqual([]);
      const { rows } = await stack.db.query(
        "select count(*)::int as n from links where domain = 'acme.de' and owner_id = 'bob'",
      );
      expect(rows[0].n).toBe(0);
      // Alice may, and so may the admin token.
      expect((await as(alice.key, "GET", `/links/${slug}?domain=acme.de`)).status).toBe(200);
      expect((await stack.api("GET", "/links?domain=acme.de")).status).toBe(200);
    });
  });

  describe("a restriction set after an owner's links are on the domain", () => {
    it("keeps them theirs to read, change, delete, list, see stats and QR of; only new links are 403", async () => {
      const name = `${unique("later")}.example`;
      await json(await stack.api("POST", "/domains", { name }), 201);
      const slug = unique("mine");
      await json(
        await as(bob.key, "POST", "/links", { url: "https://bob.example/", slug, domain: name }),
        201,
      );
      await json(await stack.api("PATCH", `/domains/${name}`, { allowedOwners: ["alice"] }), 200);
      const q = `?domain=${name}`;
      expect((await json<Link>(await as(bob.key, "GET", `/links/${slug}${q}`), 200)).url).toBe(
        "https://bob.example/",
      );
      const patched = await as(bob.key, "PATCH", `/links/${slug}${q}`, { url: "https://bob.example/new" });
      expect((await json<Link>(patched, 200)).url).toBe("https://bob.example/new");
      const listed = await json<{ data: Link[] }>(await as(bob.key, "GET", `/links${q}`), 200);
      expect(listed.data.map((l) => l.slug)).toEqual([slug]);
      await json(await as(bob.key, "GET", `/links/${slug}/stats${q}`), 200);
      await json(await as(bob.key, "GET", `/stats${q}`), 200);
      expect((await as(bob.key, "GET", `/links/${slug}/qr${q}`)).status).toBe(200);
      await problem(
        await as(bob.key, "POST", "/links", { url: "https://bob.example/2", domain: name }),
        403,
        "domain-not-allowed",
      );
      expect((await as(bob.key, "DELETE", `/links/${slug}${q}`)).status).toBe(204);
      await problem(await as(bob.key, "GET", `/links/${slug}${q}`), 404, "not-found");
    });
  });

  describe("owners on two domains: QR, bulk, upsert and the filtered lists", () => {
    it("keeps each owner to its own links there too, and a restricted domain refuses them per item", async () => {
      const slug = unique("iso");
      const mine = await json<Link>(
        await as(alice.key, "PUT", `/links/external/${slug}`, {
          url: "https://alice.example/ext",
          slug,
          domain: "acme.link",
        }),
        201,
      );
      // The same external id under Bob is Bob's own link; Alice's stays as it was.
      const bobs = await json<Link>(
        await as(bob.key, "PUT", `/links/external/${slug}`, {
          url: "https://bob.example/ext",
          domain: "acme.link",
        }),
        201,
      );
      expect(bobs.id).not.toBe(mine.id);
      expect(await locationAt(stack, "acme.link", `/${slug}`)).toBe("302 https://alice.example/ext");
      await problem(await as(bob.key, "GET", `/links/${slug}/qr?domain=acme.link`), 404, "not-found");
      expect((await as(alice.key, "GET", `/links/${slug}/qr?domain=acme.link`)).status).toBe(200);
      const listed = await json<{ data: Link[] }>(
        await as(bob.key, "GET", "/links?limit=100&domain=acme.link"),
        200,
      );
      expect(listed.data.map((l) => l.id)).toContain(bobs.id);
      expect(listed.data.map((l) => l.id)).not.toContain(mine.id);
      const summary = await json<{ topLinks: { slug: string }[] }>(
        await as(bob.key, "GET", "/stats?domain=acme.link"),
        200,
      );
      expect(summary.topLinks.map((l) => l.slug)).not.toContain(slug);

      // acme.de admits Alice only: Bob's bulk item on it is a 403, his item elsewhere is created.
      const bulk = await json<{ results: { status: number; error?: { type: string } }[] }>(
        await as(bob.key, "POST", "/links/bulk", [
          { url: "https://bob.example/de", domain: "acme.de" },
          { url: "https://bob.example/link", domain: "acme.link" },
        ]),
        200,
      );
      expect(bulk.results.map((r) => r.status)).toEqual([403, 201]);
      expect(bulk.results[0]?.error?.type).toBe(`${PROBLEM_TYPE_BASE}domain-not-allowed`);
      const deSlug = unique("deqr");
      await json(
        await as(alice.key, "POST", "/links", {
          url: "https://alice.example/de",
          slug: deSlug,
          domain: "acme.de",
        }),
        201,
      );
      // Alice's link on the domain Bob may not use is, like any other owner's, no link of his.
      await problem(await as(bob.key, "GET", `/links/${deSlug}/qr?domain=acme.de`), 404, "not-found");
      // A link cannot move to another domain by PATCH (the body has no domain).
      await problem(
        await as(alice.key, "PATCH", `/links/${slug}?domain=acme.link`, { domain: "acme.de" }),
        400,
        "invalid-request",
      );
    });
  });

  describe("clicks by domain", () => {
    it("records the domain with each click; the summary filters by it and a link's stats take ?domain", async () => {
      const carol = await newKey("carol");
      const slug = unique("clicks");
      const onLink = await json<Link>(
        await as(carol.key, "POST", "/links", { url: "https://b.example/1", slug, domain: "acme.link" }),
        201,
      );
      const onDefault = await json<Link>(
        await as(carol.key, "POST", "/links", { url: "https://b.example/2", slug }),
        201,
      );
      const click = (host: string, n: number) =>
        Promise.all(
          Array.from({ length: n }, () => at(stack, host, `/${slug}`, { headers: { "User-Agent": CHROME } })),
        );
      await click("acme.link", 3);
      await click(DEFAULT_HOST, 2);
      await eventually(async () => {
        const { rows } = await stack.db.query(
          "select domain, count(*)::int as n from click_events where link_id = any($1) group by domain order by domain",
          [[onLink.id, onDefault.id]],
        );
        return rows.length === 2 && rows[0].n === 2 && rows[1].n === 3 ? rows : undefined;
      }, 30_000);

      type Summary = {
        links: number;
        clicks: { total: number };
        topLinks: { domain: string; slug: string; clicks: number }[];
      };
      const summary = (query: string) =>
        as(carol.key, "GET", `/stats${query}`).then((res) => json<Summary>(res, 200));
      const all = await summary("");
      expect(all.clicks.total).toBe(5);
      expect(all.topLinks).toEqual([
        { domain: "acme.link", slug, clicks: 3 },
        { domain: DEFAULT_HOST, slug, clicks: 2 },
      ]);
      const link = await summary("?domain=acme.link");
      expect(link).toMatchObject({
        clicks: { total: 3 },
        topLinks: [{ domain: "acme.link", slug, clicks: 3 }],
      });
      expect(all.links).toBe(2);
      expect(link.links).toBe(1);
      expect((await summary(`?domain=${DEFAULT_HOST}`)).clicks.total).toBe(2);

      const stats = (query: string) =>
        as(carol.key, "GET", `/links/${slug}/stats${query}`).then((res) =>
          json<{ totals: { clicks: number }; domains: unknown }>(res, 200),
        );
      expect((await stats("?domain=acme.link")).totals.clicks).toBe(3);
      expect((await stats("?domain=acme.link")).domains).toEqual([{ value: "acme.link", clicks: 3 }]);
      expect((await stats("")).totals.clicks).toBe(2);
    });
  });

  describe("changing a domain", () => {
    it("changes its redirects and owners, served at once; null removes one", async () => {
      await json(
        await stack.api("POST", "/domains", { name: "change.example", allowedOwners: ["alice"] }),
        201,
      );
      await problem(await at(stack, "change.example", "/"), 404, "not-found");
      await problem(
        await as(bob.key, "POST", "/links", { url: "https://b.example/", domain: "change.example" }),
        403,
        "domain-not-allowed",
      );
      const changed = await json<{ baseUrl: string; notFoundUrl: string | null; allowedOwners: unknown }>(
        await stack.api("PATCH", "/domains/CHANGE.example.", {
          baseUrl: "https://change.example.org/home",
          allowedOwners: null,
        }),
        200,
      );
      expect(changed).toMatchObject({
        baseUrl: "https://change.example.org/home",
        notFoundUrl: null,
        allowedOwners: null,
      });
      expect(await locationAt(stack, "change.example", "/")).toBe("302 https://change.example.org/home");
      await json(
        await as(bob.key, "POST", "/links", { url: "https://b.example/", domain: "change.example" }),
        201,
      );
      expect((await stack.api("PATCH", "/domains/change.example", { baseUrl: null })).status).toBe(200);
      await problem(await at(stack, "change.example", "/"), 404, "not-found");
    });

    it("refuses what it refuses on add, an unknown domain, an empty body and API keys", async () => {
      const patch = (name: string, body: unknown, key?: string) =>
        key ? as(key, "PATCH", `/domains/${name}`, body) : stack.api("PATCH", `/domains/${name}`, body);
      const loop = await problem(
        await patch("acme.link", { notFoundUrl: "https://acme.de/x" }),
        400,
        "invalid-request",
      );
      expect(loop.errors?.[0]?.path).toBe("notFoundUrl");
      await problem(await patch("acme.link", { name: "other.example" }), 400, "invalid-request");
      await problem(await patch("acme.link", {}), 400, "invalid-request");
      await problem(await patch("nope.example", { baseUrl: null }), 404, "not-found");
      await problem(await patch("acme.link", { baseUrl: null }, alice.key), 403, "admin-only");
      const { rows } = await stack.db.query("select not_found_url from domains where name = 'acme.link'");
      expect(rows).toEqual([{ not_found_url: "https://acme.example/not-found" }]);
    });
  });

  describe("removing a domain", () => {
    it("is refused while it has live links, then its Host falls back to the default domain", async () => {
      await json(
        await stack.api("POST", "/domains", {
          name: "brief.example",
          notFoundUrl: "https://brief.example.org/",
        }),
        201,
      );
      const slug = unique("brief");
      await json(
        await stack.api("POST", "/links", { url: "https://b.example/brief", slug, domain: "brief.example" }),
        201,
      );
      expect(await locationAt(stack, "brief.example", `/${slug}`)).toBe("302 https://b.example/brief");
      await problem(await stack.api("DELETE", "/domains/brief.example"), 409, "conflict");
      expect((await stack.api("DELETE", `/links/${slug}?domain=brief.example`)).status).toBe(204);
      expect((await stack.api("DELETE", "/domains/BRIEF.example.")).status).toBe(204);
      await problem(await stack.api("DELETE", "/domains/brief.example"), 404, "not-found");
      // Served from this isolate's table at once: no notFoundUrl any more, the default domain's 404.
      await problem(await at(stack, "brief.example", `/${slug}`), 404, "not-found");
    });
  });

  describe("changes at the same moment", () => {
    const someoneWaits = () =>
      eventually(async () => {
        const { rows } = await stack.db.query("select 1 from pg_locks where not granted");
        return rows.length > 0 || undefined;
      });

    it("a removal waits for a link being created on the domain, then counts it (409)", async () => {
      const name = `${unique("busy")}.example`;
      await json(await stack.api("POST", "/domains", { name }), 201);
      // This test's transaction plays a link creation under way: it holds the domain's row.
      await stack.db.query("begin");
      let removed: Promise<Response>;
      try {
        await stack.db.query("select 1 from domains where name = $1 for key share", [name]);
        removed = stack.api("DELETE", `/domains/${name}`);
        await someoneWaits();
        await stack.db.query(
          "insert into links (domain, slug, url, owner_id) values ($1, 'mid', 'https://m.example/', 'x')",
          [name],
        );
      } finally {
        await stack.db.query("commit");
      }
      await problem(await removed, 409, "conflict");
      const { rows } = await stack.db.query("select 1 from domains where name = $1", [name]);
      expect(rows).toHaveLength(1);
    });

    it("a link created while its domain is being removed is refused (400), none is left behind", async () => {
      const name = `${unique("going")}.example`;
      await json(await stack.api("POST", "/domains", { name }), 201);
      // This test's transaction plays the removal under way: it holds the row, then deletes it.
      await stack.db.query("begin");
      let created: Promise<Response>;
      try {
        await stack.db.query("select 1 from domains where name = $1 for update", [name]);
        created = stack.api("POST", "/links", { url: "https://late.example/", domain: name });
        await someoneWaits();
        await stack.db.query("delete from domains where name = $1", [name]);
      } finally {
        await stack.db.query("commit");
      }
      await problem(await created, 400, "unknown-domain");
      const { rows } = await stack.db.query("select 1 from links where domain = $1", [name]);
      expect(rows).toHaveLength(0);
    });

    it("leave KV with the table Postgres has, after many concurrent adds and removes", async () => {
      const names = Array.from({ length: 16 }, (_, i) => `race${i}-${unique("d")}.example`);
      const kv = await stack.mf.getKVNamespace("LINKS", "edge");
      const published = async () =>
        ((await kv.get("config:domains", "json")) as { domains: { name: string }[] }).domains
          .map((d) => d.name)
          .sort();
      const stored = async () =>
        (await stack.db.query<{ name: string }>("select name from domains")).rows.map((r) => r.name).sort();
      // Each round adds the names it does not have and removes the ones it has, all at once.
      for (let round = 0; round < 6; round++) {
        const have = new Set(await stored());
        const changes = await Promise.all(
          names.map((name) =>
            have.has(name)
              ? stack.api("DELETE", `/domains/${name}`)
              : stack.api("POST", "/domains", { name }),
          ),
        );
        expect(changes.every((res) => res.status === 201 || res.status === 204)).toBe(true);
        expect(await published()).toEqual(await stored());
      }
    });

    it("publish one at a time: a change waits while the domain table's lock is held", async () => {
      // White-box, as the race itself is too short to meet on purpose: this test holds the lock.
      const name = `${unique("locked")}.example`;
      await stack.db.query("select pg_advisory_lock(hashtext('config:domains'))");
      let added: Promise<Response>;
      try {
        added = stack.api("POST", "/domains", { name });
        await eventually(async () => {
          const { rows } = await stack.db.query(
            "select 1 from pg_locks where locktype = 'advisory' and not granted",
          );
          return rows.length > 0 || undefined;
        });
      } finally {
        await stack.db.query("select pg_advisory_unlock(hashtext('config:domains'))");
      }
      await json(await added, 201);
      const kv = await stack.mf.getKVNamespace("LINKS", "edge");
      const table = (await kv.get("config:domains", "json")) as { domains: { name: string }[] };
      expect(table.domains.map((d) => d.name)).toContain(name);
    });
  });
});

describe("UNKNOWN_HOSTS=not-found", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      consumer: "recorder",
      vars: { PUBLIC_BASE_URL: `https://${DEFAULT_HOST}`, UNKNOWN_HOSTS: "not-found" },
    });
    await json(await stack.api("POST", "/domains", { name: "acme.link" }), 201);
  });
  afterAll(() => stack?.close());

  it("answers a Host that is no domain with the unknown-domain 404, the default and configured ones with their links", async () => {
    const slug = unique("strict");
    await json(await stack.api("POST", "/links", { url: "https://d.example/", slug }), 201);
    await json(
      await stack.api("POST", "/links", { url: "https://l.example/", slug, domain: "acme.link" }),
      201,
    );
    expect(await locationAt(stack, DEFAULT_HOST, `/${slug}`)).toBe("302 https://d.example/");
    expect(await locationAt(stack, "acme.link", `/${slug}`)).toBe("302 https://l.example/");
    await problem(await at(stack, "other.example", `/${slug}`), 404, "unknown-domain");
    await problem(await at(stack, "other.example", "/"), 404, "unknown-domain");
    const head = await at(stack, "other.example", `/${slug}`, { method: "HEAD" });
    expect(head.status).toBe(404);
    // The API answers on any Host.
    expect(
      (
        await at(stack, "other.example", "/api/v1/links", {
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        })
      ).status,
    ).toBe(200);
  });
});

describe("without PUBLIC_BASE_URL: the default domain is named after the request's host", () => {
  let stack: Stack;
  const HOST = "127.0.0.1:8787";
  const admin = (method: string, path: string, body?: unknown) =>
    at(stack, HOST, `/api/v1${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  beforeAll(async () => {
    stack = await startStack({ consumer: "recorder" });
    await json(await admin("POST", "/domains", { name: "acme.link" }), 201);
  });
  afterAll(() => stack?.close());

  it("accepts back the domain it prints, in bodies and on every slug route", async () => {
    const slug = unique("plain");
    const created = await json<Link>(await admin("POST", "/links", { url: "https://d.example/", slug }), 201);
    expect(created).toMatchObject({ domain: HOST, shortUrl: `https://${HOST}/${slug}` });
    const q = `?domain=${encodeURIComponent(created.domain)}`;
    expect((await json<Link>(await admin("GET", `/links/${slug}${q}`), 200)).id).toBe(created.id);
    expect((await admin("GET", `/links/${slug}/stats${q}`)).status).toBe(200);
    expect((await admin("GET", `/links/${slug}/qr${q}`)).status).toBe(200);
    const listed = await json<{ data: Link[] }>(await admin("GET", `/links${q}`), 200);
    expect(listed.data.map((l) => l.id)).toEqual([created.id]);
    const again = unique("plain");
    const second = await json<Link>(
      await admin("POST", "/links", { url: "https://e.example/", slug: again, domain: created.domain }),
      201,
    );
    expect(second.domain).toBe(HOST);
    const { rows } = await stack.db.query("select domain from links where slug = $1", [again]);
    expect(rows).toEqual([{ domain: "" }]);
    expect(await locationAt(stack, HOST, `/${again}`)).toBe("302 https://e.example/");
    // A configured domain stays itself.
    const onLink = await json<Link>(
      await admin("POST", "/links", { url: "https://l.example/", slug, domain: "acme.link" }),
      201,
    );
    expect(onLink.domain).toBe("acme.link");
    expect((await admin("DELETE", `/links/${slug}${q}`)).status).toBe(204);
    expect(await locationAt(stack, "acme.link", `/${slug}`)).toBe("302 https://l.example/");
  });
});
