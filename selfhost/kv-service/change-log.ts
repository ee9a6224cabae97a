/**
 * The KV service's change feed of keys (selfhost/kv-service.ts, `GET /?changes_since=`): every write numbered,
 * the latest `capacity` kept in memory, so an edge isolate's key index (shared/kv-key-index.ts) catches up by
 * asking for what came after its position, and reloads every key when it is too far behind or the service has
 * restarted since (a new epoch).
 *
 * A reload reads a snapshot of every key, taken at one position and sent `pageSize` keys a page: a million keys
 * in one answer would be ~20 MB of JSON, stalling this process (which serves every KV read of the redirects)
 * and the isolate that parses it for a tenth of a second or more (docs/benchmarks.md, "Issue 19, the index of
 * KV keys at scale"). A snapshot is an array of the keys, shared by every isolate that reloads at that position;
 * the latest few are kept, and an isolate asking for a page of one no longer kept starts over.
 *
 * @example
 *   const log = new ChangeLog();
 *   log.record("link:abc", true);
 *   log.page({ since: "0", epoch: log.epoch }, () => store.keys(""));   // { full: false, changes: [["link:abc", 1]], … }
 */
import { randomUUID } from "node:crypto";
import type { FeedAsk, KeyFeedPage } from "@shared/kv-key-index";

type Change = { seq: number; key: string; present: 0 | 1 };

/**
 * Keys per snapshot page: ~185 KiB of JSON, 1–2 ms to build or parse, measured (docs/benchmarks.md); a
 * million keys are then 100 pages.
 */
export const SNAPSHOT_PAGE_SIZE = 10_000;
/** Snapshots kept: after a restart of this service every replica reloads at once, most at the same position. */
const SNAPSHOTS_KEPT = 4;
/** A snapshot nobody has read a page of for this long is dropped (a reload reads its pages back to back). */
const SNAPSHOT_IDLE_MS = 60_000;

/** A position or offset as the query sent it; -1 for anything that is not one. */
const position = (s: string | null | undefined) => (s && /^\d{1,15}$/.test(s) ? Number(s) : -1);

export class ChangeLog {
  /** New at every start: positions of an earlier run of the service mean nothing now. */
  readonly epoch = randomUUID();
  private seq = 0;
  private changes: Change[] = [];
  /** Snapshots by the position they were taken at, oldest first. */
  private readonly snapshots = new Map<number, { keys: string[]; readAt: number }>();

  /** 10,000 writes: at the API's write rates, minutes of changes; an isolate pulls once a second. */
  constructor(
    private readonly capacity = 10_000,
    private readonly pageSize = SNAPSHOT_PAGE_SIZE,
  ) {}

  record(key: string, present: boolean): void {
    this.seq += 1;
    this.changes.push({ seq: this.seq, key, present: present ? 1 : 0 });
    // Trimmed in halves, not one by one: shifting an array on every write would cost O(capacity).
    if (this.changes.length > 2 * this.capacity) this.changes = this.changes.slice(-this.capacity);
  }

  /**
   * What an index asks for: the next page of a snapshot it is reading; the changes after `since` (a sequence
   * number of `epoch`); or, when `since` is empty, of another epoch, in the future or older than what is kept
   * (or the snapshot asked for is no longer kept), the first page of a snapshot of every live key (`allKeys`,
   * read at once, so the snapshot and its position agree).
   */
  page(ask: FeedAsk, allKeys: () => string[], now = Date.now()): KeyFeedPage {
    for (const [seq, kept] of this.snapshots)
      if (now - kept.readAt > SNAPSHOT_IDLE_MS) this.snapshots.delete(seq);
    const ours = ask.epoch === this.epoch;
    const snapshotAt = position(ask.snapshot);
    const snapshot = ours ? this.snapshots.get(snapshotAt) : undefined;
    const offset = position(ask.offset);
    if (snapshot && offset >= 0 && offset <= snapshot.keys.length) {
      snapshot.readAt = now;
      return this.snapshotPage(snapshotAt, snapshot.keys, offset);
    }
    const after = ask.snapshot == null ? position(ask.since) : -1;
    const oldest = this.changes[0]?.seq ?? this.seq + 1;
    if (!ours || after < 0 || after > this.seq || after < oldest - 1) {
      return this.snapshotPage(this.seq, this.snapshotNow(allKeys, now), 0);
    }
    const changes = this.changes
      .slice(Math.max(0, this.changes.length - (this.seq - after)))
      .map((c): [string, 0 | 1] => [c.key, c.present]);
    return { epoch: this.epoch, seq: this.seq, full: false, changes };
  }

  /** The snapshot at the current position: the one already taken there, or a new one (dropping the oldest). */
  private snapshotNow(allKeys: () => string[], now: number): string[] {
    const kept = this.snapshots.get(this.seq);
    if (kept) {
      kept.readAt = now;
      return kept.keys;
    }
    const keys = allKeys();
    this.snapshots.set(this.seq, { keys, readAt: now });
    if (this.snapshots.size > SNAPSHOTS_KEPT)
      this.snapshots.delete(this.snapshots.keys().next().value as number);
    return keys;
  }

  private snapshotPage(seq: number, keys: string[], offset: number): KeyFeedPage {
    const end = Math.min(keys.length, offset + this.pageSize);
    const page = keys.slice(offset, end);
    return { epoch: this.epoch, seq, full: true, offset, next: end < keys.length ? end : null, keys: page };
  }
}
