import { DOMAIN_TABLE_KEY } from "@shared/keys";
import { ProblemError } from "@shared/problem";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DomainTable } from "./domain-table";

/** A KV namespace holding only the domain table, counting reads; `fail` makes reads throw. */
function fakeKv(initial: unknown) {
  const state = { value: initial, reads: 0, fail: false };
  const kv = {
    async get(key: string) {
      expect(key).toBe(DOMAIN_TABLE_KEY);
      state.reads++;
      if (state.fail) throw new Error("KV down");
      return state.value;
    },
    async put(key: string, value: string) {
      expect(key).toBe(DOMAIN_TABLE_KEY);
      state.value = JSON.parse(value);
    },
  };
  return { kv: kv as unknown as KVNamespace, state };
}

const table = (...names: string[]) => ({ v: 1, domains: names.map((name) => ({ name })) });
const policy = { defaultHost: "sho.rt", unknownHosts: "default" as const };

/** Collects waitUntil promises so a test can let background refreshes finish. */
function background() {
  const pending: Promise<unknown>[] = [];
  return { ctx: { waitUntil: (p: Promise<unknown>) => pending.push(p) }, settle: () => Promise.all(pending) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("DomainTable", () => {
  it("reads KV once for an isolate's first request, then answers from memory", async () => {
    const { kv, state } = fakeKv(table("acme.link"));
    const domains = new DomainTable(kv, policy, 5000, 60);
    const { ctx } = background();
    expect(domains.siteNow("acme.link", ctx)).toBeUndefined();
    const [a, b] = await Promise.all([domains.site("acme.link", ctx), domains.site("ACME.link.", ctx)]);
    expect([a?.domain, b?.domain]).toEqual(["acme.link", "acme.link"]);
    expect(state.reads).toBe(1);
    for (let i = 0; i < 100; i++) expect(domains.siteNow("acme.link:8080", ctx)?.domain).toBe("acme.link");
    expect(domains.siteNow("sho.rt", ctx)?.domain).toBe("");
    expect(state.reads).toBe(1);
  });

  it("re-reads in the background once the refresh interval has passed, never making a request wait", async () => {
    vi.useFakeTimers({ now: 0 });
    const { kv, state } = fakeKv(table());
    const domains = new DomainTable(kv, policy, 5000, 60);
    const { ctx, settle } = background();
    expect((await domains.site("acme.link", ctx))?.domain).toBe("");
    state.value = table("acme.link");
    vi.setSystemTime(4999);
    expect(domains.siteNow("acme.link", ctx)?.domain).toBe("");
    expect(state.reads).toBe(1);
    vi.setSystemTime(5000);
    // The request that finds the table due is answered with the old one; the read runs beside it.
    expect(domains.siteNow("acme.link", ctx)?.domain).toBe("");
    await settle();
    expect(state.reads).toBe(2);
    expect(domains.siteNow("acme.link", ctx)?.domain).toBe("acme.link");
  });

  it("serves a table this isolate published at once", async () => {
    const { kv, state } = fakeKv(table());
    const domains = new DomainTable(kv, policy, 60_000, 60);
    const { ctx } = background();
    expect((await domains.site("acme.de", ctx))?.domain).toBe("");
    await domains.publish({ v: 1, domains: [{ name: "acme.de", notFoundUrl: "https://acme.example/" }] });
    expect(state.value).toEqual({
      v: 1,
      domains: [{ name: "acme.de", notFoundUrl: "https://acme.example/" }],
    });
    expect(domains.siteNow("acme.de", ctx)).toEqual({
      domain: "acme.de",
      notFoundUrl: "https://acme.example/",
      baseUrl: null,
    });
  });

  it("when the first read fails, serves the default domain's own host, answers 503 for any other, retries after a second", async () => {
    vi.useFakeTimers({ now: 0 });
    const { kv, state } = fakeKv(table("acme.link"));
    state.fail = true;
    vi.spyOn(console, "error").mockImplementation(() => {});
    const domains = new DomainTable(kv, policy, 60_000, 60);
    const { ctx, settle } = background();
    // acme.link may be a domain of its own: serving it the default domain's links would redirect to another brand's targets.
    const refused = await domains.site("acme.link", ctx).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ProblemError);
    expect((refused as ProblemError).status).toBe(503);
    expect((await domains.site("SHO.rt", ctx))?.domain).toBe("");
    expect(state.reads).toBe(1);
    state.fail = false;
    vi.setSystemTime(1000);
    domains.siteNow("sho.rt", ctx);
    await settle();
    expect(domains.siteNow("acme.link", ctx)?.domain).toBe("acme.link");
    expect(domains.siteNow("other.example", ctx)?.domain).toBe("");
  });

  it("keeps serving the table it has when a later read fails", async () => {
    vi.useFakeTimers({ now: 0 });
    const { kv, state } = fakeKv(table("acme.link"));
    vi.spyOn(console, "error").mockImplementation(() => {});
    const domains = new DomainTable(kv, policy, 5000, 60);
    const { ctx, settle } = background();
    expect((await domains.site("acme.link", ctx))?.domain).toBe("acme.link");
    state.fail = true;
    vi.setSystemTime(5000);
    domains.siteNow("acme.link", ctx);
    await settle();
    expect(domains.siteNow("acme.link", ctx)?.domain).toBe("acme.link");
    expect(domains.siteNow("other.example", ctx)?.domain).toBe("");
  });

  it("answers null for unknown hosts when they get a 404, and a 400 problem for a Host that is no host", async () => {
    const { kv } = fakeKv(table("acme.link"));
    const domains = new DomainTable(kv, { defaultHost: null, unknownHosts: "not-found" }, 5000, 60);
    const { ctx } = background();
    expect(await domains.site("other.example", ctx)).toBeNull();
    expect(domains.siteNow("other.example", ctx)).toBeNull();
    for (const bad of ["a b", `${"x".repeat(64)}.example`, "acme.link:99999", "me@acme.link"]) {
      const thrown = (() => {
        try {
          domains.siteNow(bad, ctx);
        } catch (err) {
          return err;
        }
      })();
      expect(thrown, bad).toBeInstanceOf(ProblemError);
      expect((thrown as ProblemError).status).toBe(400);
    }
  });
});
