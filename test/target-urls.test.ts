import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linkKey } from "../shared/keys";
import { type Stack, startStack } from "./stack";

/**
 * Target URL rules through the real stack (docs/security.md, "Target URL rules"): every
 * route that takes a target refuses the same inputs with a 400 naming `url`, stores the
 * WHATWG-normalized href, and redirects with an ASCII Location.
 */

let stack: Stack;
/** A deployment that allows private targets (ALLOW_PRIVATE_TARGETS=true), as local development may. */
let localStack: Stack;
const uniqueSlug = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
const existingSlug = uniqueSlug("exists");

beforeAll(async () => {
  [stack, localStack] = await Promise.all([
    startStack({ consumer: "recorder" }),
    startStack({ consumer: "recorder", vars: { ALLOW_PRIVATE_TARGETS: "true" } }),
  ]);
  const existing = await stack.api("POST", "/links", { url: "https://example.com/", slug: existingSlug });
  expect(existing.status).toBe(201);
});
afterAll(() => Promise.all([stack?.close(), localStack?.close()]));

type Problem = { status: number; errors?: { path: string; message: string }[] };
type Link = { slug: string; url: string };

/** Every way a target reaches the API; each answers with the problem it got for `url`. */
const routes: Array<[string, (url: string) => Promise<Problem>]> = [
  ["POST /links", async (url) => problemOf(await stack.api("POST", "/links", { url }))],
  [
    "PATCH /links/{slug}",
    async (url) => {
      const slug = uniqueSlug("patched");
      expect((await stack.api("POST", "/links", { url: "https://example.com/kept", slug })).status).toBe(201);
      const problem = await problemOf(await stack.api("PATCH", `/links/${slug}`, { url }));
      const { rows } = await stack.db.query("select url from links where slug = $1", [slug]);
      expect(rows).toEqual([{ url: "https://example.com/kept" }]);
      return problem;
    },
  ],
  [
    "PUT /links/external/{externalId}",
    async (url) => problemOf(await stack.api("PUT", `/links/external/${uniqueSlug("ext")}`, { url })),
  ],
  [
    "POST /links/bulk",
    async (url) => {
      const res = await stack.api("POST", "/links/bulk", [{ url }]);
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        created: number;
        results: Array<{ status: number; error: Problem }>;
      };
      expect(body.created).toBe(0);
      expect(body.results[0]?.status).toBe(400);
      return body.results[0]?.error as Problem;
    },
  ],
];

async function problemOf(res: Response): Promise<Problem> {
  expect(res.status, await res.clone().text()).toBe(400);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return (await res.json()) as Problem;
}

const refused: Array<[string, string]> = [
  ["a slug of this service written http:<slug>", `http:${existingSlug}`],
  ["localhost with a port", "http://localhost:8787/x"],
  ["a subdomain of localhost", "http://app.localhost/"],
  ["the IPv6 loopback", "http://[::1]/"],
  ["loopback written 127.1", "http://127.1/"],
  ["loopback written 0x7f000001", "http://0x7f000001/"],
  ["IPv4-mapped loopback", "http://[::ffff:127.0.0.1]/"],
  ["the unspecified address", "http://0.0.0.0/"],
  ["an RFC 1918 address", "http://192.168.1.1/"],
  ["a CGNAT address", "http://100.64.0.1/"],
  ["the link-local metadata address", "http://169.254.169.254/latest/meta-data/"],
  ["an IPv6 unique local address", "http://[fd12::1]/"],
  ["an IPv6 link-local address", "http://[fe80::1]/"],
  ["6to4 of an RFC 1918 address", "http://[2002:c0a8:101::1]/"],
  ["the broadcast address", "http://255.255.255.255/"],
  ["a backslash before the host's end", "https://example.com\\@evil.example/"],
  ["credentials", "https://user:pass@example.com/"],
  ["javascript: with a host", "javascript://example.com/%0Aalert(1)"],
  ["this service, uppercase with a trailing dot", "HTTPS://SHO.TEST./x"],
  ["this service, percent-encoded", "https://sh%6F.test/x"],
  ["this service, in fullwidth letters", "https://ｓｈｏ.ｔｅｓｔ/x"],
];

describe.each(routes)("%s", (_route, send) => {
  it.each(refused)("answers 400 problem+json naming url for %s", async (_name, url) => {
    // Links the PATCH case creates to patch are not what this counts.
    const count = "select count(*)::int as n from links where slug not like 'patched-%'";
    const before = await stack.db.query(count);
    const problem = await send(url);
    expect(problem.status).toBe(400);
    expect(problem.errors?.map((e) => e.path)).toEqual(["url"]);
    expect((await stack.db.query(count)).rows).toEqual(before.rows);
  });
});

describe("normalized targets", () => {
  const IDN_TARGET = "https://bücher.example/ä?q=ü";
  const IDN_HREF = "https://xn--bcher-kva.example/%C3%A4?q=%C3%BC";

  it("stores an IDN target as its href and redirects with an ASCII Location", async () => {
    const slug = uniqueSlug("idn");
    const res = await stack.api("POST", "/links", { url: IDN_TARGET, slug });
    expect(res.status).toBe(201);
    expect(((await res.json()) as Link).url).toBe(IDN_HREF);
    const { rows } = await stack.db.query("select url from links where slug = $1", [slug]);
    expect(rows).toEqual([{ url: IDN_HREF }]);
    const redirect = await stack.fetch(`/${slug}`);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe(IDN_HREF);
  });

  it("stores the href from PATCH, PUT and bulk too", async () => {
    const slug = uniqueSlug("norm");
    expect((await stack.api("POST", "/links", { url: "https://example.com/", slug })).status).toBe(201);
    const patched = await stack.api("PATCH", `/links/${slug}`, { url: IDN_TARGET });
    expect(((await patched.json()) as Link).url).toBe(IDN_HREF);
    const put = await stack.api("PUT", `/links/external/${uniqueSlug("ext")}`, { url: IDN_TARGET });
    expect(((await put.json()) as Link).url).toBe(IDN_HREF);
    const bulk = await stack.api("POST", "/links/bulk", [{ url: IDN_TARGET }]);
    const results = ((await bulk.json()) as { results: Array<{ link: Link }> }).results;
    expect(results[0]?.link.url).toBe(IDN_HREF);
  });

  it.each([
    ["a raw UTF-8 host and path", "https://bücher.example/ä", "https://xn--bcher-kva.example/%C3%A4"],
    ["a target without slashes", `http:${existingSlug}`, `http://${existingSlug.toLowerCase()}/`],
  ])(
    "redirects a record stored raw before these rules with its href: %s",
    async (_name, stored, location) => {
      const slug = uniqueSlug("old");
      const kv = await stack.mf.getKVNamespace("LINKS");
      await kv.put(linkKey("", slug), JSON.stringify({ v: 1, id: 999_999, u: stored }));
      const res = await stack.fetch(`/${slug}`);
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe(location);
    },
  );
});

describe("ALLOW_PRIVATE_TARGETS=true", () => {
  it("accepts a loopback target, normalized", async () => {
    const res = await localStack.api("POST", "/links", { url: "http://127.1:9000/x" });
    expect(res.status).toBe(201);
    expect(((await res.json()) as Link).url).toBe("http://127.0.0.1:9000/x");
  });

  it("still refuses this service's own host", async () => {
    const problem = await problemOf(await localStack.api("POST", "/links", { url: "https://sho.test/x" }));
    expect(problem.errors?.map((e) => e.path)).toEqual(["url"]);
  });
});
