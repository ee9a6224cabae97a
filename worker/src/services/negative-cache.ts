/**
 * Remembers, per isolate, slugs that neither KV nor Postgres knew (or that Postgres
 * could not answer for), so a flood of random slugs reaches the database at most once
 * per slug per TTL. Bounded: the oldest entries go first.
 */
export class NegativeCache {
  private readonly entries = new Map<string, { until: number; unavailable: boolean }>();

  constructor(private readonly maxEntries: number) {}

  /** The cached outcome for `slug`, or undefined when not cached. */
  lookup(slug: string, now: number): "missing" | "unavailable" | undefined {
    const entry = this.entries.get(slug);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(slug);
      return undefined;
    }
    return entry.unavailable ? "unavailable" : "missing";
  }

  remember(slug: string, outcome: "missing" | "unavailable", ttlMs: number, now: number): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(slug, { until: now + ttlMs, unavailable: outcome === "unavailable" });
  }
}
