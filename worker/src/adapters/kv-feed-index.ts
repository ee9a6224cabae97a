import { isKeyFeedPage, KeyIndex } from "@shared/kv-key-index";
import type { Background, LinkStore } from "@shared/ports";
import { linkIndex } from "../metrics";

/** A request pulls the feed when the last pull is older than this: at most one feed read a second per isolate. */
const PULL_EVERY_MS = 1000;
/**
 * Past this without a successful pull (the KV service down or restarting), the index no longer answers
 * "absent": misses read KV again, as they did before there was an index, and fail the way such reads fail.
 */
const TRUST_FOR_MS = 10_000;
/**
 * A pull that has read no page for this long is taken for lost (an isolate's waitUntil can be cut short). A
 * reload reads a page every few ms, so a long reload is not given up on while it progresses.
 */
const PULL_GIVE_UP_MS = 5000;

/**
 * Self-host only: the isolate's index of the KV service's keys (shared/kv-key-index.ts), pulled through the
 * `KV_FEED` service binding in the background (waitUntil) by the first lookup after `PULL_EVERY_MS` that misses
 * the isolate's cache of links (a held link is answered without asking the index), so a redirect never waits for
 * it. A pull that starts a reload (at the isolate's start, after a KV service restart) reads every page of it
 * back to back; between pages the isolate serves requests (from its old set, if any). `absent(key)` is true only
 * for a key the store did not hold at the last pull (at most about a second ago): resolve-link.ts then answers
 * 404 without a KV read, but for a few reads a second that cover links created on another replica since
 * (docs/decisions.md, "Redirects": the index of KV keys). Every request
 * may start a pull, but none waits for another's: workerd ties I/O to the request that started it, and the
 * index is plain memory.
 *
 * @example if (rt.keyIndex?.absent(key, ctx) && !rt.absentReadBudget.take(now)) return null;
 */
export class KvFeedIndex {
  private readonly index = new KeyIndex();
  private pulledAt = 0;
  private pullStartedAt = 0;
  /** When the pull under way last read a page. */
  private pullProgressAt = 0;
  private pulling = false;

  constructor(private readonly feed: Fetcher) {}

  /** Whether `key` was not in the store at the last pull; false while the index is not loaded or too old. */
  absent(key: string, ctx: Background): boolean {
    const now = Date.now();
    this.pullIfDue(ctx, now);
    return this.index.loaded && now - this.pulledAt < TRUST_FOR_MS && !this.index.has(key);
  }

  /** A key written through this isolate, or found in the store: present before the feed says so. */
  add(key: string): void {
    this.index.add(key);
  }

  private pullIfDue(ctx: Background, now: number): void {
    if (
      this.pulling ? now - this.pullProgressAt < PULL_GIVE_UP_MS : now - this.pullStartedAt < PULL_EVERY_MS
    ) {
      return;
    }
    this.pulling = true;
    this.pullStartedAt = now;
    this.pullProgressAt = now;
    ctx.waitUntil(this.pull(now));
  }

  /** Feed reads until the index is current (one, unless a reload is under way); never rejects. */
  private async pull(startedAt: number): Promise<void> {
    try {
      do {
        const res = await this.feed.fetch(`http://kv/?${this.index.feedQuery()}`);
        if (!res.ok) throw new Error(`feed answered ${res.status}`);
        const page: unknown = await res.json();
        if (!isKeyFeedPage(page)) throw new Error("feed answered no page of keys");
        // A pull given up on that settles after a newer one started must not apply its pages: they would
        // start the reload over, or land out of order.
        if (this.pullStartedAt !== startedAt) return;
        this.pullProgressAt = Date.now();
        this.index.apply(page);
      } while (this.index.reloading);
      // As current as the last page read (a reload can take seconds).
      this.pulledAt = this.pullProgressAt;
      linkIndex.pulls.inc();
      linkIndex.keys.set(this.index.size);
    } catch (err) {
      linkIndex.pullFailures.inc();
      console.error("KV key index not pulled", err);
    } finally {
      // A pull given up on may still settle after a newer one started; only the newest clears the flag.
      if (this.pullStartedAt === startedAt) this.pulling = false;
    }
  }
}

/** `store`, telling `index` of every key written through it, so this isolate never answers its own new link 404. */
export function notingWrites(store: LinkStore, index: KvFeedIndex): LinkStore {
  return {
    get: (key) => store.get(key),
    put: (key, record) => {
      index.add(key);
      return store.put(key, record);
    },
    delete: (key) => store.delete(key),
  };
}
