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

  async get(slug: string): Promise<LinkRecord | null> {
    const hit = this.entries.get(slug);
    if (hit && hit.until > Date.now()) return hit.record;
    const record = await this.inner.get(slug);
    if (record) this.remember(slug, record);
    else this.entries.delete(slug);
    return record;
  }

  async put(slug: string, record: LinkRecord): Promise<void> {
    await this.inner.put(slug, record);
    this.remember(slug, record);
  }

  async delete(slug: string): Promise<void> {
    await this.inner.delete(slug);
    this.entries.delete(slug);
  }

  private remember(slug: string, record: LinkRecord): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(slug);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(slug, { record, until: Date.now() + this.ttlMs });
  }
}
