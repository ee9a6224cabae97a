import type { LinkStore } from "@shared/ports";
import { ProblemError } from "@shared/problem";
import { describe, expect, it } from "vitest";
import { CachedLinkStore } from "../adapters/cached-link-store";
import { KvFeedIndex } from "../adapters/kv-feed-index";
import { readConfig } from "../config";
import type { Env } from "../env";
import type { Runtime } from "../runtime";
import { NegativeCache } from "./negative-cache";
import { lookUpLink, resolveLink } from "./resolve-link";
import { TokenBucket } from "./token-bucket";

/**
 * The miss policy without servers. Postgres is an address nothing listens on, so a
 * lookup that asked it would end in a 503: a plain null proves it was not asked.
 */
const env = {
  DATABASE_URL: "postgres://nobody@127.0.0.1:9/none",
  DB_WS_PROXY: "127.0.0.1:9/v2",
  DB_FALLBACK_TIMEOUT_MS: "300",
} as Env;
const background = { waitUntil: () => {} };
const emptyStore: LinkStore = { get: async () => null, put: async () => {}, delete: async () => {} };
const brokenStore: LinkStore = {
  ...emptyStore,
  get: async () => {
    throw new Error("KV unreachable");
  },
};

function runtime(store: LinkStore, vars: Partial<Env>, keyIndex: KvFeedIndex | null = null): Runtime {
  const config = readConfig({ ...env, ...vars });
  return {
    config,
    links: store,
    // Remembers nothing (no TTL): every lookup reaches `store`.
    cachedLinks: new CachedLinkStore(store, 0),
    missing: new NegativeCache(100),
    fallbackBudget: new TokenBucket(config.kvMissFallbackPerSecond),
    keyIndex,
    absentReadBudget: new TokenBucket(2),
  } as unknown as Runtime;
}

const statusOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "answered",
    (err) => (err instanceof ProblemError ? err.status : err),
  );

describe("resolveLink on a KV miss", () => {
  it("with KV_MISS_FALLBACK=none, answers a miss as unknown without asking Postgres", async () => {
    const rt = runtime(emptyStore, { KV_MISS_FALLBACK: "none" });
    expect(await resolveLink(rt, background, "", "abc")).toBeNull();
  });

  it("with the fallback's budget spent, answers a miss as unknown without asking Postgres", async () => {
    const rt = runtime(emptyStore, { KV_MISS_FALLBACK: "postgres", KV_MISS_FALLBACK_PER_SECOND: "0" });
    expect(await resolveLink(rt, background, "", "abc")).toBeNull();
  });

  it("asks Postgres within the budget, and answers 503 when it cannot", async () => {
    const rt = runtime(emptyStore, { KV_MISS_FALLBACK: "postgres" });
    expect(await statusOf(resolveLink(rt, background, "", "abc"))).toBe(503);
  });

  it("never turns a failed KV read into a 404, in either mode, even past the budget", async () => {
    for (const mode of ["none", "postgres"]) {
      const rt = runtime(brokenStore, { KV_MISS_FALLBACK: mode, KV_MISS_FALLBACK_PER_SECOND: "0" });
      expect(await statusOf(resolveLink(rt, background, "", "abc")), mode).toBe(503);
    }
  });
});

/** A store holding `keys`, counting its reads. */
function countingStore(keys: string[]) {
  const reads: string[] = [];
  const store: LinkStore = {
    ...emptyStore,
    get: async (key) => {
      reads.push(key);
      return keys.includes(key) ? ({ id: 1, url: "https://example.com/" } as never) : null;
    },
  };
  return { store, reads };
}

/**
 * A KV_FEED binding answering a snapshot of `keys` in one page (then no changes since), and a context whose
 * background work can be awaited.
 */
function indexOver(keys: string[], answer = true) {
  const feed = {
    fetch: async (url: string) =>
      !answer
        ? new Response("down", { status: 503 })
        : url.endsWith("changes_since=")
          ? Response.json({ epoch: "e", seq: 1, full: true, offset: 0, next: null, keys })
          : Response.json({ epoch: "e", seq: 1, full: false, changes: [] }),
  } as unknown as Fetcher;
  const pending: Promise<unknown>[] = [];
  const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p) };
  return { index: new KvFeedIndex(feed), ctx, settled: () => Promise.all(pending.splice(0)) };
}

describe("resolveLink with the index of KV keys (self-host)", () => {
  it("answers keys the index lacks without reading KV, past a small budget of reads", async () => {
    const { store, reads } = countingStore(["link:known"]);
    const { index, ctx, settled } = indexOver(["link:known"]);
    const rt = runtime(store, { KV_MISS_FALLBACK: "none" }, index);
    // Before its first pull the index knows nothing: the read goes to KV.
    expect(await resolveLink(rt, ctx, "", "nope0")).toBeNull();
    await settled();
    expect(reads).toEqual(["link:nope0"]);
    for (let i = 1; i <= 6; i++) expect(await resolveLink(rt, ctx, "", `nope${i}`)).toBeNull();
    // Budget of 2 (the test runtime's) a second: the other four were answered from the index alone.
    expect(reads).toHaveLength(3);
    expect(await resolveLink(rt, ctx, "", "known")).not.toBeNull();
    expect(reads.at(-1)).toBe("link:known");
  });

  it("finds a link the index does not hold yet within the budget, and keeps it", async () => {
    const { store, reads } = countingStore(["link:new"]);
    const { index, ctx, settled } = indexOver([]);
    const rt = runtime(store, { KV_MISS_FALLBACK: "none" }, index);
    index.absent("link:x", ctx);
    await settled();
    expect(index.absent("link:new", ctx)).toBe(true);
    expect(await resolveLink(rt, ctx, "ex.test", "new")).toBeNull();
    expect(await resolveLink(rt, ctx, "", "new")).not.toBeNull();
    expect(index.absent("link:new", ctx)).toBe(false);
    expect(reads).toEqual(["link:ex.test/new", "link:new"]);
  });

  it("never answers absent before a pull has succeeded", async () => {
    const { index, ctx, settled } = indexOver(["link:a"], false);
    index.absent("link:b", ctx);
    await settled();
    expect(index.absent("link:b", ctx)).toBe(false);
  });
});

describe("lookUpLink, the redirect's fast path", () => {
  it("answers a link the isolate holds before asking the index, whatever the read budget", async () => {
    const { store, reads } = countingStore([]);
    const { index, ctx, settled } = indexOver([]);
    const record = { v: 1 as const, id: 4, u: "https://example.com/held" };
    const cachedLinks = new CachedLinkStore(store, 60_000);
    await cachedLinks.put("link:held", record);
    const rt = { ...runtime(cachedLinks, { KV_MISS_FALLBACK: "none" }, index), cachedLinks };
    rt.absentReadBudget = new TokenBucket(0);
    index.absent("link:x", ctx);
    await settled();
    // The index lacks the key and no read is left: the held record is still the answer, with no read.
    expect(index.absent("link:held", ctx)).toBe(true);
    expect(lookUpLink(rt, ctx, "", "held")).toEqual(record);
    expect(reads).toEqual([]);
  });

  it("answers a link the isolate holds without a promise and without a read; an unheld one with the read's promise", async () => {
    const reads: string[] = [];
    const record = { v: 1 as const, id: 3, u: "https://example.com/" };
    const store: LinkStore = {
      ...emptyStore,
      get: async (key) => {
        reads.push(key);
        return key === "link:held" ? record : null;
      },
    };
    const cachedLinks = new CachedLinkStore(store, 60_000);
    const rt = { ...runtime(cachedLinks, { KV_MISS_FALLBACK: "none" }), cachedLinks };
    const first = lookUpLink(rt, background, "", "held");
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toEqual(record);
    expect(lookUpLink(rt, background, "", "held")).toEqual(record);
    expect(reads).toEqual(["link:held"]);
    expect(lookUpLink(rt, background, "", "other")).toBeInstanceOf(Promise);
  });
});
