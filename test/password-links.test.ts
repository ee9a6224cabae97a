import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeyOf, eventually, type Stack, startStack } from "./stack";

/** Password links through the real stack: the form, the POST, rate limits, clicks, hostile input. */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    consumer: "recorder",
    // Small limits so a test reaches them; every test uses its own client IP and its own link.
    vars: { PASSWORD_ATTEMPTS_PER_MINUTE_PER_IP: "3", PASSWORD_ATTEMPTS_PER_MINUTE_PER_LINK: "5" },
  });
});
afterAll(() => stack?.close());

const unique = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
/**
 * A client address no other test (and no earlier run, whose limits Redis keeps for a minute)
 * uses; the stack trusts CF-Connecting-IP.
 */
const newIp = () => `2001:db8::${crypto.randomUUID().slice(0, 4)}:${crypto.randomUUID().slice(0, 4)}`;

const PASSWORD = "correct horse";
const TARGET = "https://example.com/hidden-target?k=v";

async function createLink(body: Record<string, unknown> = {}) {
  const res = await stack.api("POST", "/links", {
    url: TARGET,
    slug: unique("pw"),
    password: PASSWORD,
    ...body,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: number; slug: string; passwordProtected: boolean };
}

function post(slug: string, body: string, ip = newIp(), query = "") {
  return stack.fetch(`/${slug}${query}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": ip },
    body,
  });
}

const form = (password: string) => new URLSearchParams({ password }).toString();

/** The page is one of the constant forms: no target, no slug, nothing sent. */
async function expectForm(res: Response, status: number, ...mustNotContain: string[]) {
  expect(res.status).toBe(status);
  expect(res.headers.get("location")).toBeNull();
  expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(res.headers.get("content-security-policy")).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  const html = await res.text();
  expect(html).toContain('<form method="post">');
  expect(html).not.toContain("<script");
  for (const text of ["hidden-target", "example.com", ...mustNotContain]) expect(html).not.toContain(text);
  return html;
}

describe("a password link", () => {
  it("answers GET with the form and HEAD with its status, never the target", async () => {
    const { slug, passwordProtected } = await createLink();
    expect(passwordProtected).toBe(true);
    await expectForm(await stack.fetch(`/${slug}`), 200, slug);
    const head = await stack.fetch(`/${slug}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("location")).toBeNull();
    expect(await head.text()).toBe("");
  });

  it("never returns the password or its hash through the API", async () => {
    const { slug } = await createLink();
    for (const res of [
      await stack.api("GET", `/links/${slug}`),
      await stack.api("GET", "/links?limit=100"),
    ]) {
      const text = await res.text();
      expect(text).toContain('"passwordProtected":true');
      expect(text).not.toContain("pbkdf2");
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('password"');
    }
    const { rows } = await stack.db.query("select password_hash from links where slug = $1", [slug]);
    expect(rows[0].password_hash).toMatch(/^pbkdf2-sha256\$100000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  });

  it("answers a wrong password with 401 and the form, and the right one with 303 and one click", async () => {
    const { slug, id } = await createLink();
    const wrong = await expectForm(await post(slug, form("guess")), 401, "guess");
    expect(wrong).toContain("Wrong password");
    const right = await post(slug, form(PASSWORD), newIp(), "?ref=1");
    expect(right.status).toBe(303);
    expect(right.headers.get("location")).toBe(TARGET);
    const clicks = await eventually(async () => {
      const events = (await stack.received()).filter((e) => e.linkId === id);
      return events.length >= 1 ? events : undefined;
    });
    // The form and the wrong attempt were no clicks.
    await new Promise((r) => setTimeout(r, 500));
    expect((await stack.received()).filter((e) => e.linkId === id)).toHaveLength(clicks.length);
    expect(clicks).toHaveLength(1);
    // Attempts are their own route in the metrics: their hashing is not redirect time.
    const metrics = await (await stack.fetch("/metrics")).text();
    expect(metrics).toMatch(/^edge_requests_total\{route="unlock",status="401"\} [1-9]/m);
    expect(metrics).toMatch(/^edge_requests_total\{route="unlock",status="303"\} [1-9]/m);
  });

  it("applies the link's rules and query forwarding once unlocked", async () => {
    const { slug } = await createLink({
      forwardQuery: true,
      rules: [{ id: "ios", when: { device: ["ios"] }, url: "https://example.com/ios" }],
    });
    const ios = await stack.fetch(`/${slug}?a=1`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "cf-connecting-ip": newIp(),
        "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
      },
      body: form(PASSWORD),
    });
    expect(`${ios.status} ${ios.headers.get("location")}`).toBe("303 https://example.com/ios?a=1");
  });

  it("keeps a click limit: the form costs nothing, each unlock one click, then 410", async () => {
    const { slug } = await createLink({ maxClicks: 1 });
    for (let i = 0; i < 3; i++) expect((await stack.fetch(`/${slug}`)).status).toBe(200);
    expect((await post(slug, form("nope"))).status).toBe(401);
    expect((await post(slug, form(PASSWORD))).status).toBe(303);
    expect((await post(slug, form(PASSWORD))).status).toBe(410);
  });

  it("lets a preview crawler see the preview without using up the click limit", async () => {
    const { slug } = await createLink({ maxClicks: 1, preview: { title: "Shared in a chat" } });
    const slack = { "user-agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)" };
    for (let i = 0; i < 2; i++) {
      const unfurl = await stack.fetch(`/${slug}`, { headers: slack });
      expect(unfurl.status).toBe(200);
      expect(await unfurl.text()).toContain('content="Shared in a chat"');
    }
    expect((await post(slug, form(PASSWORD))).status).toBe(303);
    expect((await post(slug, form(PASSWORD))).status).toBe(410);
    expect((await stack.fetch(`/${slug}`, { headers: slack })).status).toBe(410);
  });

  it("limits attempts per IP with 429 and the form, before checking the password", async () => {
    const { slug } = await createLink();
    const ip = newIp();
    for (let i = 0; i < 3; i++) expect((await post(slug, form("nope"), ip)).status).toBe(401);
    const limited = await post(slug, form(PASSWORD), ip);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await expectForm(limited, 429)).toContain("Too many attempts");
    // Another address may still try.
    expect((await post(slug, form(PASSWORD))).status).toBe(303);
  });

  it("limits attempts per link across addresses", async () => {
    const { slug } = await createLink();
    for (let i = 0; i < 5; i++) expect((await post(slug, form("nope"))).status).toBe(401);
    expect((await post(slug, form(PASSWORD))).status).toBe(429);
    // Another link is not affected.
    const other = await createLink();
    expect((await post(other.slug, form(PASSWORD))).status).toBe(303);
  });

  it("refuses attempts with 503 while Redis cannot count them, instead of unlimited guessing", async () => {
    const { slug } = await createLink();
    await stack.gateway.close();
    try {
      const res = await post(slug, form(PASSWORD));
      expect(res.headers.get("retry-after")).toBe("30");
      expect(await expectForm(res, 503)).toContain("cannot be checked right now");
    } finally {
      await stack.restartGateway();
    }
    expect((await post(slug, form(PASSWORD))).status).toBe(303);
  });

  it("redirects at once once PATCH removes the password", async () => {
    const { slug } = await createLink();
    const res = await stack.api("PATCH", `/links/${slug}`, { password: null });
    expect(await res.json()).toMatchObject({ passwordProtected: false });
    expect((await stack.fetch(`/${slug}`)).headers.get("location")).toBe(TARGET);
    const changed = await stack.api("PATCH", `/links/${slug}`, { password: "new one" });
    expect(await changed.json()).toMatchObject({ passwordProtected: true });
    expect((await post(slug, form(PASSWORD))).status).toBe(401);
    expect((await post(slug, form("new one"))).status).toBe(303);
  });

  it("keeps the password through a PUT by external id that leaves it out (GET never shows it)", async () => {
    const externalId = unique("ext");
    const body = { url: TARGET, slug: unique("put") };
    const created = await stack.api("PUT", `/links/external/${externalId}`, { ...body, password: PASSWORD });
    expect(await created.json()).toMatchObject({ passwordProtected: true });
    const replaced = await stack.api("PUT", `/links/external/${externalId}`, { ...body, tags: ["synced"] });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ passwordProtected: true, tags: ["synced"] });
    await expectForm(await stack.fetch(`/${body.slug}`), 200);
    expect((await post(body.slug, form(PASSWORD))).status).toBe(303);
  });

  it("refuses a POST to a link without a password (405) or to no link (404)", async () => {
    const res = await stack.api("POST", "/links", { url: TARGET, slug: unique("open") });
    const { slug } = (await res.json()) as { slug: string };
    const open = await post(slug, form("x"));
    expect(open.status).toBe(405);
    expect(open.headers.get("allow")).toBe("GET, HEAD");
    expect((await post(unique("none"), form("x"))).status).toBe(404);
  });

  it("is refused to another owner's key, like every link route", async () => {
    const { slug } = await createLink();
    const key = await apiKeyOf(stack, unique("owner"), ["links:read", "links:write"]);
    const as = (method: string, body?: unknown) =>
      stack.api(method, `/links/${slug}`, body, { Authorization: `Bearer ${key}` });
    expect((await as("GET")).status).toBe(404);
    expect((await as("PATCH", { password: null })).status).toBe(404);
    expect((await stack.fetch(`/${slug}`)).status).toBe(200);
  });
});

describe("the password form under hostile input", () => {
  const hostile: Array<[string, string]> = [
    ["markup", form('"><script>alert(1)</script>')],
    ["a NUL byte and controls", "password=%00%01%0d%0aSet-Cookie:%20x"],
    ["a lone surrogate", "password=%ED%A0%80"],
    ["malformed escapes", "password=%zz%&password=%"],
    ["no password field", "user=admin"],
    ["a repeated field", `password=a&password=${encodeURIComponent(PASSWORD)}`],
    ["JSON", JSON.stringify({ password: PASSWORD })],
    ["a long password", form("x".repeat(1500))],
  ];

  it.each(hostile)("answers %s with 401 and the constant form", async (_, body) => {
    const { slug } = await createLink();
    const res = await post(slug, body);
    const html = await expectForm(res, 401, "alert(1)", "Set-Cookie", "admin", "xxxxxxxx");
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(html).toBe(await (await post(slug, form("other"))).text());
  });

  it("refuses a body over 2 KiB with 413 before any hash", async () => {
    const { slug } = await createLink();
    const res = await post(slug, form("x".repeat(5000)));
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });
});
