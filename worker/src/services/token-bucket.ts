/**
 * A per-isolate budget of `perSecond` actions per second, with bursts of at most
 * `perSecond`. Bounds how often a KV miss may ask Postgres: past the budget the caller
 * answers without asking, so a flood of unknown slugs cannot become a flood of queries.
 *
 * @example
 *   const budget = new TokenBucket(10);
 *   if (budget.take(Date.now())) await askPostgres();
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt = 0;

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
  }

  /** Spends one token if there is one; `now` in milliseconds. */
  take(now: number): boolean {
    const earned = ((now - this.refilledAt) / 1000) * this.perSecond;
    this.tokens = Math.min(this.perSecond, this.tokens + Math.max(0, earned));
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
