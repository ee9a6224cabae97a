/**
 * The set of keys a KV store holds, kept current from the self-hosted KV service's change feed
 * (selfhost/kv-service/change-log.ts): what lets an edge isolate answer a never-seen slug 404 without a KV
 * read (docs/decisions.md, "Redirects": the index of KV keys). Generic over keys: it never parses one, so it does not care
 * how `linkKey` builds them.
 *
 * A position is the service's `epoch` (new at each start of the service, so a restarted service forces a full
 * reload) and the sequence number of its last write. A feed page is either a page of a snapshot of every key
 * (taken at one position and read page by page, so that no page is too large to send or parse at once) or the
 * changes after a position. A reload reads every page of a snapshot into a set of its own, then the changes
 * made since the snapshot (so a key written or deleted while the pages were read is not lost), and only then
 * replaces the set `has` answers from; until then the old set (if any) keeps answering.
 *
 * @example
 *   const index = new KeyIndex();
 *   do index.apply(await (await fetch(`${kv}/?${index.feedQuery()}`)).json());
 *   while (index.reloading);
 *   index.has("link:abc");
 */

import { FingerprintSet } from "./fingerprint-set";

/** One page of the change feed: a page of every live key, or the keys written since the asked position. */
export type KeyFeedPage =
  /** Keys `offset`… of the snapshot taken at `seq`; `next` is the offset of the following page, null at the last. */
  | { epoch: string; seq: number; full: true; offset: number; next: number | null; keys: string[] }
  /** `[key, 1]`: the key holds a value now; `[key, 0]`: it was deleted. Oldest first. */
  | { epoch: string; seq: number; full: false; changes: Array<[key: string, present: 0 | 1]> };

/** The query parameter of a feed request: `GET /?changes_since=<seq>&epoch=<epoch>`. */
export const FEED_PARAM = "changes_since";
/** The query parameters of a snapshot page: `GET /?changes_since=&snapshot=<seq>&offset=<n>&epoch=<epoch>`. */
export const SNAPSHOT_PARAM = "snapshot";
export const OFFSET_PARAM = "offset";
/** The query parameter naming the feed's epoch (a new one at every start of the KV service). */
export const EPOCH_PARAM = "epoch";

/** What a feed request asks for, read from its query (the KV service's side of `feedQuery()`). */
export type FeedAsk = {
  since: string;
  epoch: string | null;
  snapshot?: string | null;
  offset?: string | null;
};

export function feedAsk(q: URLSearchParams): FeedAsk {
  return {
    since: q.get(FEED_PARAM) ?? "",
    epoch: q.get(EPOCH_PARAM),
    snapshot: q.get(SNAPSHOT_PARAM),
    offset: q.get(OFFSET_PARAM),
  };
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

export function isKeyFeedPage(value: unknown): value is KeyFeedPage {
  if (typeof value !== "object" || value === null) return false;
  const page = value as Record<string, unknown>;
  if (typeof page.epoch !== "string" || !Number.isSafeInteger(page.seq)) return false;
  if (page.full === true) {
    return (
      isCount(page.offset) &&
      (page.next === null || isCount(page.next)) &&
      Array.isArray(page.keys) &&
      page.keys.every((k) => typeof k === "string")
    );
  }
  return (
    page.full === false &&
    Array.isArray(page.changes) &&
    page.changes.every((c) => Array.isArray(c) && typeof c[0] === "string" && (c[1] === 0 || c[1] === 1))
  );
}

/** A reload under way: the snapshot's pages read so far, and the offset of the next one (null: all read). */
type Reload = { epoch: string; seq: number; keys: FingerprintSet; next: number | null };

export class KeyIndex {
  /** 64-bit fingerprints, not the strings: a third of the memory of a Set<string>, nothing for the GC to trace. */
  private keys = new FingerprintSet();
  private epoch = "";
  private seq = -1;
  private reload: Reload | null = null;

  /** Whether a whole reload has been applied: before that, `has` knows nothing. */
  get loaded(): boolean {
    return this.seq >= 0;
  }

  /** Whether a reload is under way: the next page to ask for is part of it, not a page of new changes. */
  get reloading(): boolean {
    return this.reload !== null;
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
    // The snapshot may predate the write, and the changes after it may already have been asked for.
    this.reload?.keys.add(key);
  }

  /** The query asking for what this index lacks: a reload's next page, else the changes since its position. */
  feedQuery(): string {
    const { reload } = this;
    if (reload?.next != null) {
      const epoch = encodeURIComponent(reload.epoch);
      return `${FEED_PARAM}=&${SNAPSHOT_PARAM}=${reload.seq}&${OFFSET_PARAM}=${reload.next}&${EPOCH_PARAM}=${epoch}`;
    }
    // A reload whose pages are all read asks for the changes since its snapshot.
    const at = reload ?? (this.loaded ? { epoch: this.epoch, seq: this.seq } : null);
    if (!at) return `${FEED_PARAM}=`;
    return `${FEED_PARAM}=${at.seq}&${EPOCH_PARAM}=${encodeURIComponent(at.epoch)}`;
  }

  /**
   * Applies a page. A snapshot's first page starts a reload (dropping one under way); its later pages are taken
   * only in order. Changes are applied only on top of the position they follow (same epoch): those after a
   * reload's snapshot end the reload. A page that does not fit is ignored and the next pull asks again.
   */
  apply(page: KeyFeedPage): void {
    if (page.full) {
      this.applySnapshotPage(page);
      return;
    }
    const { reload } = this;
    if (reload && reload.next === null) {
      if (page.epoch !== reload.epoch || page.seq < reload.seq) return;
      applyChanges(reload.keys, page.changes);
      this.keys = reload.keys;
      this.reload = null;
    } else {
      if (reload || page.epoch !== this.epoch || page.seq < this.seq) return;
      applyChanges(this.keys, page.changes);
    }
    this.epoch = page.epoch;
    this.seq = page.seq;
  }

  private applySnapshotPage(page: Extract<KeyFeedPage, { full: true }>): void {
    if (page.offset === 0) {
      this.reload = { epoch: page.epoch, seq: page.seq, keys: new FingerprintSet(), next: null };
    } else if (
      this.reload?.epoch !== page.epoch ||
      this.reload.seq !== page.seq ||
      this.reload.next !== page.offset
    ) {
      // Out of order (a page of a pull given up on): start over.
      this.reload = null;
      return;
    }
    const { reload } = this;
    for (const key of page.keys) reload.keys.add(key);
    reload.next = page.next;
  }
}

function applyChanges(keys: FingerprintSet, changes: Array<[string, 0 | 1]>): void {
  for (const [key, present] of changes) {
    if (present) keys.add(key);
    else keys.delete(key);
  }
}
