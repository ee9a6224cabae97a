import { DOMAIN_TABLE_KEY } from "@shared/keys";
import { PLAIN_LINK, toLinkRecord } from "@shared/links/record";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Env } from "../env";
import { fastPathRedirect } from "../fast-redirect";
import { type Runtime, runtimeFor } from "../runtime";
import * as decide from "./decide";

/**
 * A synchronous throw anywhere on the redirect's promise-free path (the runtime's configuration, the domain
 * table, the link's lookup, the decision, the click) is a problem+json answer (HEAD: its status and headers,
 * no body), never a throw out of the fetch handler, which workerd would answer with a bare 500.
 */
const record = toLinkRecord({ ...PLAIN_LINK, id: 7, url: "https://example.com/t" });
const links = {
  get: async (key: string) => (key === DOMAIN_TABLE_KEY ? null : key === "link:abc" ? record : null),
} as unknown as KVNamespace;
const env = {
  LINKS: links,
  CLICK_SINK: "stdout",
  VISITOR_SALT: "salt",
  UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
  UPSTASH_REDIS_REST_TOKEN: "token",
} as unknown as Env;
const ctx = { waitUntil: vi.fn(), passThroughOnException: vi.fn(), props: {} } as unknown as ExecutionContext;

async function answer(method: "GET" | "HEAD", slug = "abc", runtimeEnv = env) {
  const res = fastPathRedirect(new Request(`https://sho.rt/${slug}`, { method }), runtimeEnv, ctx, slug);
  return { sync: !(res instanceof Promise), res: await res };
}

async function expectProblem(method: "GET" | "HEAD", status: number, runtimeEnv = env) {
  const { res } = await answer(method, "abc", runtimeEnv);
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = await res.text();
  if (method === "HEAD") expect(body).toBe("");
  else expect(JSON.parse(body)).toMatchObject({ status, instance: "/abc" });
}

let rt: Runtime;
beforeAll(async () => {
  vi.spyOn(console, "error").mockImplementation(() => {});
  vi.spyOn(console, "log").mockImplementation(() => {});
  // Before any runtime is built: a PUBLIC_BASE_URL that is no URL makes runtimeFor throw.
  for (const method of ["GET", "HEAD"] as const)
    await expectProblem(method, 500, { ...env, PUBLIC_BASE_URL: "not a url" } as Env);
  rt = runtimeFor(env);
  // The isolate reads its domain table and the link once; from then on the answer is made without a promise.
  expect((await answer("GET")).res.status).toBe(302);
  const second = await answer("GET");
  expect(second).toMatchObject({ sync: true, res: { status: 302 } });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.spyOn(console, "error").mockImplementation(() => {});
  vi.spyOn(console, "log").mockImplementation(() => {});
});

describe("the redirect's promise-free path, when a step throws", () => {
  it("answers a Host the domain table refuses with its 400 problem", async () => {
    for (const method of ["GET", "HEAD"] as const) {
      // workerd builds the URL from the Host header as sent; a Request made here would refuse such a URL.
      const req = { method, url: "http://a b/abc", headers: new Headers() } as Request;
      const res = await fastPathRedirect(req, env, ctx, "abc");
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      if (method === "HEAD") expect(await res.text()).toBe("");
    }
  });

  it("answers a throw of the domain table, the link's lookup or the decision with a 500 problem", async () => {
    const steps = [
      () =>
        vi.spyOn(rt.domains, "siteNow").mockImplementation(() => {
          throw new Error("table");
        }),
      () =>
        vi.spyOn(rt.cachedLinks, "cached").mockImplementation(() => {
          throw new Error("cache");
        }),
      () =>
        vi.spyOn(decide, "decideRedirect").mockImplementation(() => {
          throw new Error("decide");
        }),
    ];
    for (const step of steps) {
      step();
      for (const method of ["GET", "HEAD"] as const) await expectProblem(method, 500);
      vi.restoreAllMocks();
    }
  });

  it("still redirects when building or writing the click line throws, and writes no line", async () => {
    const lines: unknown[] = [];
    vi.spyOn(console, "log").mockImplementation((line) => lines.push(line));
    vi.spyOn(crypto, "randomUUID").mockImplementation(() => {
      throw new Error("no uuid");
    });
    expect((await answer("GET")).res.status).toBe(302);
    vi.restoreAllMocks();
    vi.spyOn(console, "log").mockImplementation(() => {
      throw new Error("stdout closed");
    });
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    expect((await answer("GET")).res.status).toBe(302);
    expect(lines).toEqual([]);
    // The failed write is logged, not lost silently.
    expect(errors).toHaveBeenCalledWith("click event not written", expect.any(Error));
  });
});
