import type { KeyFeedPage } from "@shared/kv-key-index";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KvFeedIndex } from "./kv-feed-index";

/**
 * A KV_FEED binding over a snapshot of `keys` at position 7 of epoch "e", sent `pageSize` keys a page, then no
 * changes; it records the queries asked, and fails the requests whose number is in `failing`.
 */
function feedOver(keys: string[], pageSize: number, failing: number[] = []) {
  const asked: string[] = [];
  const feed = {
    fetch: async (url: string) => {
      asked.push(url.slice(url.indexOf("?") + 1));
      if (failing.includes(asked.length)) return new Response("down", { status: 503 });
      const q = new URL(url).searchParams;
      const since = q.get("changes_since");
      if (since === "7") return Response.json({ epoch: "e", seq: 7, full: false, changes: [] });
      const offset = Number(q.get("offset") ?? 0);
      const end = Math.min(keys.length, offset + pageSize);
      const page: KeyFeedPage = {
        epoch: "e",
        seq: 7,
        full: true,
        offset,
        next: end < keys.length ? end : null,
        keys: keys.slice(offset, end),
      };
      return Response.json(page);
    },
  } as unknown as Fetcher;
  const pending: Promise<unknown>[] = [];
  const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p) };
  const index = new KvFeedIndex(feed);
  const settled = () => Promise.all(pending.splice(0));
  /** A lookup (at `now`, when given) that starts a pull if one is due, and that pull's end. */
  const pullAt = async (now?: number) => {
    if (now !== undefined) vi.setSystemTime(now);
    index.absent("link:none", ctx);
    await settled();
  };
  return { index, ctx, asked, settled, pullAt };
}

const keys = Array.from({ length: 25 }, (_, n) => `link:k${n}`);

afterEach(() => {
  vi.useRealTimers();
});

describe("the isolate's index of KV keys, pulled from the feed", () => {
  it("reads every page of a reload in one pull, then the changes since its snapshot", async () => {
    const { index, ctx, asked, settled } = feedOver(keys, 10);
    expect(index.absent("link:none", ctx)).toBe(false);
    await settled();
    expect(asked).toEqual([
      "changes_since=",
      "changes_since=&snapshot=7&offset=10&epoch=e",
      "changes_since=&snapshot=7&offset=20&epoch=e",
      "changes_since=7&epoch=e",
    ]);
    expect(index.absent("link:none", ctx)).toBe(true);
    expect(keys.some((k) => index.absent(k, ctx))).toBe(false);
  });

  it("goes on from the page it had when a pull fails mid-reload, and knows nothing until the reload ends", async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ["Date"] });
    const { index, ctx, asked, pullAt } = feedOver(keys, 10, [2]);
    await pullAt();
    expect(index.absent("link:none", ctx)).toBe(false);
    await pullAt(1_002_000);
    expect(asked.slice(2)).toEqual([
      "changes_since=&snapshot=7&offset=10&epoch=e",
      "changes_since=&snapshot=7&offset=20&epoch=e",
      "changes_since=7&epoch=e",
    ]);
    expect([index.absent("link:none", ctx), index.absent("link:k24", ctx)]).toEqual([true, false]);
  });

  it("stops answering absent from an index whose pulls have failed for ten seconds (KV is read again)", async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ["Date"] });
    const failing = Array.from({ length: 50 }, (_, n) => n + 3);
    const { index, ctx, pullAt } = feedOver(keys, 30, failing);
    await pullAt();
    expect(index.absent("link:none", ctx)).toBe(true);
    // Every pull from now on fails: trusted a while, then not.
    await pullAt(1_005_000);
    expect(index.absent("link:none", ctx)).toBe(true);
    await pullAt(1_011_000);
    expect(index.absent("link:none", ctx)).toBe(false);
  });
});
