import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linksOnReservedSlugs } from "../scripts/reserved-slugs";
import { linkKey } from "../shared/keys";
import { type Stack, startStack } from "./stack";

/**
 * The dashboard's and API reference's files through the ASSETS binding (here the self-hosted form, a disk
 * service), with the worker's headers; and the slug `dashboard`, reserved now, kept for a link that held it.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ consumer: "recorder" });
});
afterAll(() => stack?.close());

const csp = (res: Response) => res.headers.get("content-security-policy") ?? "";

describe("GET /dashboard/", () => {
  it("is the page, with a strict CSP, never framed, and its script and style from this origin", async () => {
    const res = await stack.fetch("/dashboard/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(csp(res)).toContain("script-src 'self';");
    expect(csp(res)).toContain("frame-ancestors 'none'");
    expect(csp(res)).not.toContain("unsafe");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    const html = await res.text();
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/);
    const script = /<script type="module" src="(\/dashboard\/main-[A-Z0-9]{8}\.js)"/.exec(html)?.[1];
    const style = /<link rel="stylesheet" href="(\/dashboard\/main-[A-Z0-9]{8}\.css)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(style).toBeDefined();

    const js = await stack.fetch(script as string);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toContain("immutable");
    expect((await js.text()).length).toBeGreaterThan(1000);
    expect((await stack.fetch(style as string)).headers.get("content-type")).toBe("text/css; charset=utf-8");
  });

  it.each([
    "/dashboard/nothing.js",
    "/dashboard/.hidden.js",
    "/dashboard/%2e%2e%2fpackage.json",
    "/dashboard/..%2F..%2Fpackage.json",
    "/dashboard/index.txt",
  ])("answers 404 for %s", async (path) => {
    const res = await stack.fetch(path);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  it("/dashboard without the slash leads to the dashboard", async () => {
    const res = await stack.fetch("/dashboard");
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe("/dashboard/");
  });
});

describe("GET /docs/", () => {
  it("is Swagger UI on this service's OpenAPI, from this origin, under its own CSP", async () => {
    const res = await stack.fetch("/docs/");
    expect(res.status).toBe(200);
    expect(csp(res)).toContain("script-src 'self';");
    expect(csp(res)).toContain("frame-ancestors 'none'");
    const html = await res.text();
    expect(html).toContain('src="/docs/swagger-ui-bundle.js"');
    expect(html).not.toMatch(/https?:\/\//);
    const bundle = await stack.fetch("/docs/swagger-ui-bundle.js");
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("cache-control")).toBe("no-cache");
    expect((await stack.fetch("/docs")).headers.get("location")).toBe("/docs/");
  });
});

describe("the reserved slug dashboard", () => {
  // Its own stack: the other tests asked for /dashboard, and the isolate remembers that it was no link.
  let legacy: Stack;
  beforeAll(async () => {
    legacy = await startStack({ consumer: "recorder" });
  });
  afterAll(() => legacy?.close());

  it("cannot be taken by a new link", async () => {
    const res = await stack.api("POST", "/links", { url: "https://example.com/", slug: "Dashboard" });
    expect(res.status).toBe(400);
  });

  it("a link that held it before keeps redirecting at /dashboard; the dashboard stays at /dashboard/", async () => {
    const { rows } = await legacy.db.query(
      "insert into links (slug, url, owner_id) values ('dashboard', 'https://example.com/old', 'legacy') returning id",
    );
    const kv = await legacy.mf.getKVNamespace("LINKS", "edge");
    await kv.put(
      linkKey("", "dashboard"),
      JSON.stringify({ v: 1, id: rows[0].id, u: "https://example.com/old" }),
    );
    const res = await legacy.fetch("/dashboard");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://example.com/old");
    expect((await legacy.fetch("/dashboard/")).status).toBe(200);
    // What the start-up repair and `npm run links:reserved` report.
    expect(await linksOnReservedSlugs(legacy.db)).toEqual([
      { slug: "dashboard", ownerId: "legacy", url: "https://example.com/old" },
    ]);
  });

  it("such a link is still read, edited, its stats and QR code read, and deleted through the API", async () => {
    await holdReservedSlug(legacy, "dashboard", "https://example.com/kept");
    expect((await legacy.api("GET", "/links/dashboard")).status).toBe(200);
    expect((await legacy.api("GET", "/links/dashboard/stats")).status).toBe(200);
    expect((await legacy.api("GET", "/links/dashboard/qr")).status).toBe(200);
    const patched = await legacy.api("PATCH", "/links/dashboard", { url: "https://example.com/moved" });
    expect(patched.status).toBe(200);
    expect((await legacy.fetch("/dashboard")).headers.get("location")).toBe("https://example.com/moved");
    // A password set now: its form posts to /dashboard, which unlocks it.
    expect((await legacy.api("PATCH", "/links/dashboard", { password: "correct horse" })).status).toBe(200);
    const formPage = await legacy.fetch("/dashboard");
    expect(formPage.status).toBe(200);
    expect(await formPage.text()).toContain('<form method="post">');
    const unlocked = await legacy.fetch("/dashboard", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": "2001:db8::d" },
      body: "password=correct+horse",
    });
    expect(unlocked.status).toBe(303);
    expect(unlocked.headers.get("location")).toBe("https://example.com/moved");
    expect((await legacy.api("DELETE", "/links/dashboard")).status).toBe(204);
    const after = await legacy.fetch("/dashboard");
    expect(after.status).toBe(308);
    expect(after.headers.get("location")).toBe("/dashboard/");
    // Still no new link on the word.
    expect(
      (await legacy.api("POST", "/links", { url: "https://example.com/", slug: "dashboard" })).status,
    ).toBe(400);
  });

  it("a link that held it in other letter case keeps redirecting too (the reservation ignores case)", async () => {
    await holdReservedSlug(legacy, "Dashboard", "https://example.com/capital");
    const res = await legacy.fetch("/Dashboard");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://example.com/capital");
    expect((await legacy.fetch("/DASHBOARD")).headers.get("location")).toBe("/dashboard/");
  });
});

/** A live link on a reserved slug, as one made before the word was reserved: in Postgres and KV. */
async function holdReservedSlug(on: Stack, slug: string, url: string): Promise<void> {
  await on.db.query("update links set deleted_at = now() where slug = $1 and deleted_at is null", [slug]);
  const { rows } = await on.db.query(
    "insert into links (slug, url, owner_id) values ($1, $2, 'legacy') returning id",
    [slug, url],
  );
  const kv = await on.mf.getKVNamespace("LINKS", "edge");
  await kv.put(linkKey("", slug), JSON.stringify({ v: 1, id: rows[0].id, u: url }));
}
