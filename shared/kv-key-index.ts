/**
 * The set of keys a KV store holds, kept current from the self-hosted KV service's change feed
 * (selfhost/kv-service/change-log.ts): what lets an edge isolate answer a never-seen slug 404 without a KV
 * read (docs/decisions.md, "An index of KV keys"). Generic over keys: it never parses one, so it does not care
 * how `linkKey` builds them.
 *
 * A feed page is either the whole key set or the changes after a position; a position is the service's
 * `epoch` (new at each start of the service, so a restarted service forces a full resync) and the sequence
 * number of its last write.
 *
 * @example
 *   const index = new KeyIndex();
 *   index.apply(await (await fetch(`${kv}/?${index.feedQuery()}`)).json());
 *   index.has("link:abc");
 */

/** One page of the change feed: every live key, or the keys written since the asked position. */
export type KeyFeedPage =
  | { epoch: string; seq: number; full: true; keys: string[] }
  /** `[key, 1]`: the key holds a value now; `[key, 0]`: it was deleted. Oldest first. */
  | { epoch: string; seq: number; full: false; changes: Array<[key: string, present: 0 | 1]> };

/** The query parameter of a feed request: `GET /?changes_since=<seq>&epoch=<epoch>`. */
export const FEED_PARAM = "changes_since";

export function isKeyFeedPage(value: unknown): value is KeyFeedPage {
  if (typeof value !== "object" || value === null) return false;
  const page = value as Record<string, unknown>;
  if (typeof page.epoch !== "string" || !Number.isSafeInteger(page.seq)) return false;
  if (page.full === true) return Array.isArray(page.keys) && page.keys.every((k) => typeof k === "string");
  return (
    page.full === false &&
    Array.isArray(page.changes) &&
    page.changes.every((c) => Array.isArray(c) && typeof c[0] === "string" && (c[1] === 0 || c[1] === 1))
  );
}

export class KeyIndex {
  private keys = new Set<string>();
  private epoch = "";
  private seq = -1;

  /** Whether a full page has been applied: before that, `has` knows nothing. */
  get loaded(): boolean {
    return this.seq >= 0;
  }

  get size(): number {
    return this.keys.size;
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** A key this isolate has just written (or read from the store): known before the feed says so. */
  add(key: string): void {
    this.keys.add(key);
  }

  /** The query asking for what this index lacks: everything at first, then the changes since its position. */
  feedQuery(): string {
    if (!this.loaded) return `${FEED_PARAM}=`;
    return `${FEED_PARAM}=${this.seq}&epoch=${encodeURIComponent(this.epoch)}`;
  }

  /**
   * Applies a page. Changes are applied only on top of the position they follow (same epoch); a page that
   * does not fit is ignored and the next pull asks again.
   */
  apply(page: KeyFeedPage): void {
    if (page.full) {
      // Keys added locally meanwhile are in the page too, or were not stored: the page is the truth.
      this.keys = new Set(page.keys);
    } else {
      if (page.epoch !== this.epoch || page.seq < this.seq) return;
      for (const [key, present] of page.changes) {
        if (present) this.keys.add(key);
        else this.keys.delete(key);
      }
    }
    this.epoch = page.epoch;
    this.seq = page.seq;
  }
}
