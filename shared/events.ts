import { z } from "zod";

/** The longest text each field may carry (the aggregator's fast check, aggregator/src/read-event.ts, uses them too). */
export const CLICK_EVENT_MAX = {
  domain: 300,
  slug: 64,
  referrer: 2048,
  userAgent: 1024,
  visitor: 128,
  rule: 64,
} as const;

/**
 * One redirect served, as sent from the edge to the `clicks` queue and read by the
 * aggregator. The same schema validates on both sides.
 */
export const ClickEventSchema = z.object({
  /** Made at the edge with crypto.randomUUID(); the aggregator deduplicates on it. */
  id: z.uuid(),
  linkId: z.number().int().positive(),
  /**
   * The link's short domain as stored ("" for the default domain). Optional: events queued by
   * an edge older than several domains have none, and count for the default domain.
   */
  domain: z.string().max(CLICK_EVENT_MAX.domain).optional(),
  slug: z.string().min(1).max(CLICK_EVENT_MAX.slug),
  /** Epoch milliseconds. */
  ts: z.number().int().nonnegative(),
  country: z.string().length(2).nullable(),
  referrer: z.string().max(CLICK_EVENT_MAX.referrer).nullable(),
  userAgent: z.string().max(CLICK_EVENT_MAX.userAgent).nullable(),
  /** Salted daily hash of IP and user agent; never the raw IP. */
  visitor: z.string().max(CLICK_EVENT_MAX.visitor),
  /**
   * True when the edge already counted this click in Redis (links with a click limit
   * count before answering). Otherwise the aggregator adds it to the counter after commit.
   */
  counted: z.boolean().optional(),
  /** The id of the redirect rule that chose the target; null or absent: the link's own target. */
  rule: z.string().max(CLICK_EVENT_MAX.rule).nullable().optional(),
});

export type ClickEvent = z.infer<typeof ClickEventSchema>;
