import type { LinkRecord } from "@shared/links/record";
import type { LinkStore } from "@shared/ports";

/**
 * Keeps link records this isolate has read or written in memory for `ttlMs`, in front
 * of the KV binding: the hottest links then cost no KV call at all. Writes made through
 * this isolate update it at once; another isolate (or replica) sees a change within
 * `ttlMs` — the same kind of window KV's own edge cache (`cacheTtl`) already has.
 * Bounded: the oldest entries go first.
 */
export class CachedLinkStore implements LinkStore {
  private readonly entries = new Map<string, { record: LinkRecord; until: number }>();

  constructor(
    private readonly inner: LinkStore,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The record this isolate holds for `key`, without a promise (the redirect's fast path); undefined if none is fresh. */
  cached(key: string): LinkRecord | undefined {
    const hit = this.entries.get(key);
    return hit && hit.until > Date.now() ? hit.record : undefined;
  }

  async get(key: string): Promise<LinkRecord | null> {
    const hit = this.cached(key);
    if (hit) return hit;
    const record = await this.inner.get(key);
    if (record) this.remember(key, record);
    else this.entries.delete(key);
    return record;
  }

  async put(key: string, record: LinkRecord): Promise<void> {
    await this.inner.put(key, record);
    this.remember(key, record);
  }

  async delete(key: string): Promise<void> {
    await this.inner.delete(key);
    this.entries.delete(key);
  }

  private remember(key: string, record: LinkRecord): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { record, until: Date.now() + this.ttlMs });
  }
}
