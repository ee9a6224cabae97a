/**
 * The KV service's change feed of keys (selfhost/kv-service.ts, `GET /?changes_since=`): every write numbered,
 * the latest `capacity` kept in memory, so an edge isolate's key index (shared/kv-key-index.ts) catches up by
 * asking for what came after its position, and reloads every key when it is too far behind or the service has
 * restarted since (a new epoch).
 *
 * @example
 *   const log = new ChangeLog();
 *   log.record("link:abc", true);
 *   log.page("0", log.epoch, () => store.keys(""));   // { full: false, changes: [["link:abc", 1]], … }
 */
import { randomUUID } from "node:crypto";
import type { KeyFeedPage } from "@shared/kv-key-index";

type Change = { seq: number; key: string; present: 0 | 1 };

export class ChangeLog {
  /** New at every start: positions of an earlier run of the service mean nothing now. */
  readonly epoch = randomUUID();
  private seq = 0;
  private changes: Change[] = [];

  /** 10,000 writes: at the API's write rates, minutes of changes; an isolate pulls once a second. */
  constructor(private readonly capacity = 10_000) {}

  record(key: string, present: boolean): void {
    this.seq += 1;
    this.changes.push({ seq: this.seq, key, present: present ? 1 : 0 });
    // Trimmed in halves, not one by one: shifting an array on every write would cost O(capacity).
    if (this.changes.length > 2 * this.capacity) this.changes = this.changes.slice(-this.capacity);
  }

  /**
   * What an index at `since` (a sequence number of `epoch`) lacks: the changes after it, or every live key
   * (`allKeys`, read at once, so the page and its position agree) when `since` is empty, of another epoch, in
   * the future or older than what is kept.
   */
  page(since: string, epoch: string | null, allKeys: () => string[]): KeyFeedPage {
    const after = /^\d{1,15}$/.test(since) ? Number(since) : -1;
    const oldest = this.changes[0]?.seq ?? this.seq + 1;
    if (epoch !== this.epoch || after < 0 || after > this.seq || after < oldest - 1) {
      return { epoch: this.epoch, seq: this.seq, full: true, keys: allKeys() };
    }
    const changes = this.changes
      .slice(Math.max(0, this.changes.length - (this.seq - after)))
      .map((c): [string, 0 | 1] => [c.key, c.present]);
    return { epoch: this.epoch, seq: this.seq, full: false, changes };
  }
}
