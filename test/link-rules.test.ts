import { PROBLEM_TYPE_BASE } from "@shared/problem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeyOf, eventually, type Stack, startStack } from "./stack";

/** Redirect rules, query forwarding and UTM parameters, through the real stack and the real aggregator. */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.close());

const unique = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

type Rule = { id: string; when: Record<string, unknown>; url: string; statusCode?: number };
type Link = {
  id: number;
  slug: string;
  url: string;
  rules: Rule[];
  forwardQuery: boolean | null;
  utm: unknown;
};

async function createLink(body: Record<string, unknown>): Promise<Link> {
  const res = await stack.api("POST", "/links", { slug: unique("l"), ...body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Link;
}

const IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
const ANDROID =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36";
const WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36";

/** A visit with these headers, and Cloudflare's country when given. */
function visit(path: string, headers: Record<string, string> = {}, country?: string) {
  return stack.fetch(path, { headers, ...(country ? { cf: { country } } : {}) } as RequestInit);
}

const location = async (res: Promise<Response>) => {
  const answer = await res;
  return `${answer.status} ${answer.headers.get("location")}`;
};

describe("redirect rules", () => {
  it("sends each device to its rule's target and the rest to the link's own", async () => {
    const { slug, rules } = await createLink({
      url: "https://example.com/web",
      rules: [
        { when: { device: ["ios"] }, url: "https://apps.apple.com/app/id1", statusCode: 307 },
        { id: "android", when: { device: ["android"] }, url: "https://play.google.com/store/apps/x" },
      ],
    });
    expect(rules[0]?.id).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
    expect(rules[1]?.id).toBe("android");
    expect(await location(visit(`/${slug}`, { "user-agent": IPHONE }))).toBe(
      "307 https://apps.apple.com/app/id1",
    );
    expect(await location(visit(`/${slug}`, { "user-agent": ANDROID }))).toBe(
      "302 https://play.google.com/store/apps/x",
    );
    expect(await location(visit(`/${slug}`, { "user-agent": WINDOWS }))).toBe("302 https://example.com/web");
    expect(await location(visit(`/${slug}`))).toBe("302 https://example.com/web");
  });

  it("matches the country Cloudflare reports", async () => {
    const { slug } = await createLink({
      url: "https://example.com/world",
      rules: [{ when: { country: ["DE", "AT"] }, url: "https://example.com/dach" }],
    });
    expect(await location(visit(`/${slug}`, {}, "AT"))).toBe("302 https://example.com/dach");
    expect(await location(visit(`/${slug}`, {}, "FR"))).toBe("302 https://example.com/world");
  });

  it("matches the visitor's first language by q-value, a rule's tag matching more specific ones", async () => {
    const { slug } = await createLink({
      url: "https://example.com/en",
      rules: [{ when: { language: ["de"] }, url: "https://example.com/de" }],
    });
    const lang = (value: string) => location(visit(`/${slug}`, { "accept-language": value }));
    expect(await lang("de-AT,de;q=0.9,en;q=0.8")).toBe("302 https://example.com/de");
    expect(await lang("en;q=0.5, de-CH;q=0.9")).toBe("302 https://example.com/de");
    expect(await lang("en-US,en;q=0.9,de;q=0.8")).toBe("302 https://example.com/en");
    expect(await lang("deu, dex")).toBe("302 https://example.com/en");
    expect(await lang("")).toBe("302 https://example.com/en");
  });

  it("matches query parameters, present or with a value", async () => {
    const { slug } = await createLink({
      url: "https://example.com/plain",
      rules: [
        { id: "promo", when: { query: [{ name: "ref", value: "promo" }] }, url: "https://example.com/promo" },
        { id: "any-ref", when: { query: [{ name: "ref" }] }, url: "https://example.com/ref" },
      ],
    });
    expect(await location(visit(`/${slug}?ref=promo`))).toBe("302 https://example.com/promo");
    expect(await location(visit(`/${slug}?ref=other`))).toBe("302 https://example.com/ref");
    expect(await location(visit(`/${slug}?ref`))).toBe("302 https://example.com/ref");
    expect(await location(visit(`/${slug}?x=1`))).toBe("302 https://example.com/plain");
  });

  it("holds a rule to its time window", async () => {
    const hour = 3_600_000;
    const { slug } = await createLink({
      url: "https://example.com/now",
      rules: [
        { when: { after: new Date(Date.now() + hour).toISOString() }, url: "https://example.com/later" },
        { when: { before: new Date(Date.now() - hour).toISOString() }, url: "https://example.com/earlier" },
        {
          when: {
            after: new Date(Date.now() - hour).toISOString(),
            before: new Date(Date.now() + hour).toISOString(),
          },
          url: "https://example.com/window",
        },
      ],
    });
    expect(await location(visit(`/${slug}`))).toBe("302 https://example.com/window");
  });

  it("takes the first rule that matches, keeps ids through a reordering PATCH, and follows it at once", async () => {
    const { slug, rules } = await createLink({
      url: "https://example.com/main",
      rules: [
        { when: { device: ["ios"] }, url: "https://example.com/a" },
        { when: { device: ["ios", "android"] }, url: "https://example.com/b" },
      ],
    });
    const [a, b] = rules as [Rule, Rule];
    expect(await location(visit(`/${slug}`, { "user-agent": IPHONE }))).toBe("302 https://example.com/a");
    const patched = await stack.api("PATCH", `/links/${slug}`, { rules: [b, a] });
    expect(patched.status, await patched.clone().text()).toBe(200);
    expect(((await patched.json()) as Link).rules.map((r) => r.id)).toEqual([b.id, a.id]);
    expect(await location(visit(`/${slug}`, { "user-agent": IPHONE }))).toBe("302 https://example.com/b");
    const read = (await (await stack.api("GET", `/links/${slug}`)).json()) as Link;
    expect(read.rules).toEqual([b, a]);
    // Removing every rule leaves the link's own target.
    await stack.api("PATCH", `/links/${slug}`, { rules: [] });
    expect(await location(visit(`/${slug}`, { "user-agent": IPHONE }))).toBe("302 https://example.com/main");
  });

  it("records the rule of each click, and stats break clicks down by it", async () => {
    const { slug } = await createLink({
      url: "https://example.com/main",
      rules: [{ id: "ios", when: { device: ["ios"] }, url: "https://example.com/ios" }],
    });
    for (const ua of [IPHONE, IPHONE, WINDOWS])
      expect((await visit(`/${slug}`, { "user-agent": ua })).status).toBe(302);
    const stats = await eventually(async () => {
      const body = (await (await stack.api("GET", `/links/${slug}/stats`)).json()) as {
        totals: { clicks: number };
        rules: Array<{ value: string; clicks: number }>;
      };
      // The stats' queries run side by side: wait until the breakdown, too, has seen all three.
      const inRules = body.rules.reduce((sum, r) => sum + r.clicks, 0);
      return body.totals.clicks === 3 && inRules === 3 ? body : undefined;
    }, 20_000);
    expect(stats.rules).toEqual([
      { value: "ios", clicks: 2 },
      { value: "(none)", clicks: 1 },
    ]);
    const { rows } = await stack.db.query("select rule from click_events where slug = $1 order by rule", [
      slug,
    ]);
    expect(rows.map((r) => r.rule)).toEqual(["ios", "ios", null]);
  }, 30_000);
});

describe("the rules breakdown of two owners", () => {
  it("counts each link's own clicks under a rule id both owners use, and is 404 to the other owner", async () => {
    const key = await apiKeyOf(stack, unique("owner"), ["links:read", "links:write", "stats:read"]);
    const other = { Authorization: `Bearer ${key}` };
    const rules = [{ id: "ios", when: { device: ["ios"] }, url: "https://example.com/ios" }];
    const mine = await createLink({ url: "https://example.com/mine", rules });
    const theirsRes = await stack.api(
      "POST",
      "/links",
      { slug: unique("t"), url: "https://example.com/t", rules },
      other,
    );
    expect(theirsRes.status).toBe(201);
    const theirs = (await theirsRes.json()) as Link;
    for (const [slug, uas] of [
      [mine.slug, [IPHONE, WINDOWS]],
      [theirs.slug, [IPHONE, IPHONE, IPHONE]],
    ] as const) {
      for (const ua of uas) expect((await visit(`/${slug}`, { "user-agent": ua })).status).toBe(302);
    }
    type Stats = { totals: { clicks: number }; rules: Array<{ value: string; clicks: number }> };
    const statsOf = (slug: string, clicks: number, headers?: Record<string, string>) =>
      eventually(async () => {
        const body = (await (
          await stack.api("GET", `/links/${slug}/stats`, undefined, headers)
        ).json()) as Stats;
        const inRules = body.rules.reduce((sum, r) => sum + r.clicks, 0);
        return body.totals.clicks === clicks && inRules === clicks ? body.rules : undefined;
      }, 20_000);
    // Equal counts: in either order.
    expect(await statsOf(mine.slug, 2)).toEqual(
      expect.arrayContaining([
        { value: "ios", clicks: 1 },
        { value: "(none)", clicks: 1 },
      ]),
    );
    expect(await statsOf(theirs.slug, 3, other)).toEqual([{ value: "ios", clicks: 3 }]);
    expect((await stack.api("GET", `/links/${mine.slug}/stats`, undefined, other)).status).toBe(404);
  }, 30_000);
});

describe("query forwarding and UTM parameters", () => {
  it("forwards the short URL's query when the link says so; the visitor's parameters win", async () => {
    const { slug } = await createLink({ url: "https://example.com/p?a=1&b=2#top", forwardQuery: true });
    expect(await location(visit(`/${slug}?b=9&c=3`))).toBe("302 https://example.com/p?a=1&b=9&c=3#top");
    expect(await location(visit(`/${slug}`))).toBe("302 https://example.com/p?a=1&b=2#top");
  });

  it("does not forward by default (FORWARD_QUERY unset)", async () => {
    const { slug, forwardQuery } = await createLink({ url: "https://example.com/p?a=1" });
    expect(forwardQuery).toBeNull();
    expect(await location(visit(`/${slug}?b=2`))).toBe("302 https://example.com/p?a=1");
  });

  it("adds the link's UTM parameters to the chosen target, replacing the target's own", async () => {
    const { slug, utm } = await createLink({
      url: "https://example.com/p?utm_source=old&x=1",
      utm: { source: "news letter", campaign: "a&b" },
      rules: [{ when: { device: ["ios"] }, url: "https://example.com/ios" }],
    });
    expect(utm).toEqual({ source: "news letter", campaign: "a&b" });
    expect(await location(visit(`/${slug}`))).toBe(
      "302 https://example.com/p?x=1&utm_source=news%20letter&utm_campaign=a%26b",
    );
    expect(await location(visit(`/${slug}`, { "user-agent": IPHONE }))).toBe(
      "302 https://example.com/ios?utm_source=news%20letter&utm_campaign=a%26b",
    );
  });

  it("lets a forwarded parameter win over a UTM field, and keeps the Location ASCII", async () => {
    const { slug } = await createLink({
      url: "https://example.com/p",
      utm: { source: "link", medium: "email" },
      forwardQuery: true,
    });
    expect(await location(visit(`/${slug}?utm_source=visitor`))).toBe(
      "302 https://example.com/p?utm_medium=email&utm_source=visitor",
    );
    const res = await visit(`/${slug}?q=${encodeURIComponent("ü <x>")}`);
    expect(res.headers.get("location")).toBe(
      "https://example.com/p?utm_source=link&utm_medium=email&q=%C3%BC%20%3Cx%3E",
    );
  });

  it("PATCH null returns forwarding to the deployment's default and removes UTM fields", async () => {
    const { slug } = await createLink({
      url: "https://example.com/p",
      forwardQuery: true,
      utm: { source: "s" },
    });
    const res = await stack.api("PATCH", `/links/${slug}`, { forwardQuery: null, utm: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ forwardQuery: null, utm: null });
    expect(await location(visit(`/${slug}?a=1`))).toBe("302 https://example.com/p");
  });
});

describe("hostile rules", () => {
  const base = { url: "https://example.com/x" };
  const rule = (when: unknown, extra: Record<string, unknown> = {}) => ({
    when,
    url: "https://example.com/r",
    ...extra,
  });
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["a country name", { rules: [rule({ country: ["Germany"] })] }, "rules.0.when.country.0"],
    ["a lower-case country", { rules: [rule({ country: ["de"] })] }, "rules.0.when.country.0"],
    ["a country code no country has", { rules: [rule({ country: ["DE", "XX"] })] }, "rules.0.when.country.1"],
    ["a reserved country code", { rules: [rule({ country: ["UK"] })] }, "rules.0.when.country.0"],
    ["a country with a NUL", { rules: [rule({ country: ["D\u0000"] })] }, "rules.0.when.country.0"],
    ["an unknown device", { rules: [rule({ device: ["windows-phone"] })] }, "rules.0.when.device.0"],
    ["a language that is no tag", { rules: [rule({ language: ["de;q=1"] })] }, "rules.0.when.language.0"],
    ["an unknown condition", { rules: [rule({ weather: "rain" })] }, "rules.0.when"],
    ["no condition", { rules: [rule({})] }, "rules.0.when"],
    ["nested nonsense", { rules: [rule({ country: [[["DE"]]] })] }, "rules.0.when.country.0"],
    ["a rule that is a string", { rules: ["DE"] }, "rules.0"],
    ["rules that are an object", { rules: { 0: rule({ device: ["ios"] }) } }, "rules"],
    ["21 rules", { rules: Array.from({ length: 21 }, () => rule({ device: ["ios"] })) }, "rules"],
    [
      "a javascript: target",
      { rules: [rule({ device: ["ios"] }, { url: "javascript:alert(1)" })] },
      "rules.0.url",
    ],
    [
      "a loopback target",
      { rules: [rule({ device: ["ios"] }, { url: "http://127.0.0.1/" })] },
      "rules.0.url",
    ],
    [
      "an http:host target",
      { rules: [rule({ device: ["ios"] }, { url: "http:evil.example" })] },
      "rules.0.url",
    ],
    [
      "the short host as target",
      { rules: [rule({ device: ["ios"] }, { url: "https://sho.test/x" })] },
      "rules.0.url",
    ],
    ["a status of 200", { rules: [rule({ device: ["ios"] }, { statusCode: 200 })] }, "rules.0.statusCode"],
    [
      "a duplicate id",
      { rules: [rule({ device: ["ios"] }, { id: "a" }), rule({ device: ["android"] }, { id: "a" })] },
      "rules.1.id",
    ],
    ["an id with a slash", { rules: [rule({ device: ["ios"] }, { id: "a/b" })] }, "rules.0.id"],
    [
      "a window that ends before it starts",
      { rules: [rule({ after: "2030-01-02T00:00:00Z", before: "2030-01-01T00:00:00Z" })] },
      "rules.0.when",
    ],
    ["a date that is not one", { rules: [rule({ after: "tomorrow" })] }, "rules.0.when.after"],
    [
      "a huge query value",
      { rules: [rule({ query: [{ name: "a", value: "x".repeat(5000) }] })] },
      "rules.0.when.query.0.value",
    ],
    [
      "rules of 20 × 2 KiB targets and 1 KiB query values",
      {
        rules: Array.from({ length: 20 }, (_, i) =>
          rule(
            { query: [{ name: `p${i}`, value: "v".repeat(1000) }] },
            { url: `https://example.com/${"a".repeat(2000)}` },
          ),
        ),
      },
      "rules",
    ],
    [
      "a lone surrogate in a query name",
      { rules: [rule({ query: [{ name: "\ud800" }] })] },
      "rules.0.when.query.0.name",
    ],
    ["an empty preview", { preview: {} }, "preview"],
    ["a private preview image", { preview: { image: "http://10.0.0.1/i.png" } }, "preview.image"],
    ["an unknown UTM field", { utm: { source: "a", evil: "b" } }, "utm"],
    ["a forwardQuery that is a string", { forwardQuery: "yes" }, "forwardQuery"],
    ["an empty password", { password: "" }, "password"],
  ];

  it.each(cases)("refuses %s with 400 problem+json naming the field", async (_, body, path) => {
    const slug = unique("h");
    const res = await stack.api("POST", "/links", { ...base, slug, ...body });
    expect(res.status, await res.clone().text()).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await res.json()) as { type: string; errors?: Array<{ path: string }> };
    expect(problem.type).toBe(`${PROBLEM_TYPE_BASE}invalid-request`);
    expect(problem.errors?.map((e) => e.path)).toContain(path);
    // Nothing was stored.
    expect((await stack.api("GET", `/links/${slug}`)).status).toBe(404);
  });

  it("refuses a bad PATCH and keeps the rules stored before", async () => {
    const { slug, rules } = await createLink({
      url: "https://example.com/x",
      rules: [{ when: { device: ["ios"] }, url: "https://example.com/ios" }],
    });
    const res = await stack.api("PATCH", `/links/${slug}`, {
      rules: [{ when: { device: ["ios"] }, url: "http://[::1]/" }],
    });
    expect(res.status).toBe(400);
    expect((await res.json()) as unknown).toMatchObject({ errors: [{ path: "rules.0.url" }] });
    expect(((await (await stack.api("GET", `/links/${slug}`)).json()) as Link).rules).toEqual(rules);
    expect(await location(visit(`/${slug}`, { "user-agent": IPHONE }))).toBe("302 https://example.com/ios");
  });
});

describe("social previews", () => {
  const SLACK = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";
  const preview = {
    title: 'Launch "2026" <script>alert(1)</script>',
    description: "Fish & chips",
    image: "https://example.com/og.png?a=1&b=2",
  };

  it("gives a preview crawler the Open Graph page, escaped, without the target", async () => {
    const { slug } = await createLink({ url: "https://example.com/secret-target", preview });
    const res = await visit(`/${slug}`, { "user-agent": SLACK });
    expect(res.status).toBe(200);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'");
    const html = await res.text();
    expect(html).toContain(
      '<meta property="og:title" content="Launch &#34;2026&#34; &#60;script&#62;alert(1)&#60;/script&#62;">',
    );
    expect(html).toContain('<meta property="og:description" content="Fish &#38; chips">');
    expect(html).toContain('<meta property="og:image" content="https://example.com/og.png?a=1&#38;b=2">');
    expect(html).toContain('<meta name="twitter:card" content="summary_large_image">');
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("secret-target");
  });

  it("redirects everyone else, and crawlers of a link without a preview", async () => {
    const { slug } = await createLink({ url: "https://example.com/t", preview });
    expect(await location(visit(`/${slug}`, { "user-agent": IPHONE }))).toBe("302 https://example.com/t");
    const plain = await createLink({ url: "https://example.com/plain" });
    expect(await location(visit(`/${plain.slug}`, { "user-agent": SLACK }))).toBe(
      "302 https://example.com/plain",
    );
  });

  it("answers a crawler's HEAD with the page's status and no body", async () => {
    const { slug } = await createLink({ url: "https://example.com/t", preview });
    const res = await visit(`/${slug}`, { "user-agent": "Twitterbot/1.0" });
    const head = await stack.fetch(`/${slug}`, {
      method: "HEAD",
      headers: { "user-agent": "Twitterbot/1.0" },
    });
    expect(res.status).toBe(200);
    expect(head.status).toBe(200);
    expect(head.headers.get("location")).toBeNull();
    expect(await head.text()).toBe("");
  });

  it("counts crawler visits as bot clicks", async () => {
    const { slug } = await createLink({ url: "https://example.com/t", preview: { title: "T" } });
    for (const ua of [SLACK, "facebookexternalhit/1.1", "WhatsApp/2.23.20.0 A"]) {
      expect((await visit(`/${slug}`, { "user-agent": ua })).status).toBe(200);
    }
    expect((await visit(`/${slug}`, { "user-agent": WINDOWS })).status).toBe(302);
    const totals = await eventually(async () => {
      const body = (await (await stack.api("GET", `/links/${slug}/stats`)).json()) as {
        totals: { clicks: number; humans: number; bots: number };
      };
      return body.totals.clicks === 4 ? body.totals : undefined;
    }, 20_000);
    expect(totals).toMatchObject({ humans: 1, bots: 3 });
  }, 30_000);

  it("PATCH sets and removes a preview", async () => {
    const { slug } = await createLink({ url: "https://example.com/t" });
    const set = await stack.api("PATCH", `/links/${slug}`, { preview: { title: "Now" } });
    expect(await set.json()).toMatchObject({ preview: { title: "Now" } });
    expect((await visit(`/${slug}`, { "user-agent": SLACK })).status).toBe(200);
    await stack.api("PATCH", `/links/${slug}`, { preview: null });
    expect((await visit(`/${slug}`, { "user-agent": SLACK })).status).toBe(302);
  });
});
