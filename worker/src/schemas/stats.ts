import { z } from "@hono/zod-openapi";
import { type BreakdownKey, DIMENSIONS } from "@shared/analytics/dimensions";
import { LinkDomainSchema } from "./domain";
import { ownerQuery } from "./owner";
import { text } from "./text";

/** Stats schemas: validation of ranges and the documented response shapes. */

const HOUR_MS = 3_600_000;
export const MAX_HOURLY_POINTS = 24 * 366;
export const MAX_DAILY_POINTS = 366 * 5;

const Instant = text()
  .refine(
    (v) => /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v)),
    "must be an ISO 8601 date or date-time",
  )
  .openapi({ example: "2026-11-01T00:00:00Z" });

/**
 * The years a range may touch, in UTC. Year 0 parses, but a default `from` 7 days before it is in year -1,
 * which the database driver cannot write: without this bound that was a 500. No click predates 1970.
 */
const MIN_YEAR = 1970;
const MAX_YEAR = 9999;
const inBounds = (d: Date) => d.getUTCFullYear() >= MIN_YEAR && d.getUTCFullYear() <= MAX_YEAR;
const OUT_OF_BOUNDS = `must be between ${MIN_YEAR}-01-01 and ${MAX_YEAR}-12-31 (UTC)`;

export const StatsQuerySchema = z
  .object({
    from: Instant.optional(),
    to: Instant.optional(),
    interval: z.enum(["hour", "day"]).default("day"),
    domain: LinkDomainSchema,
  })
  .transform((q, ctx) => {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 7 * 24 * HOUR_MS);
    if (!inBounds(to)) {
      ctx.addIssue({ code: "custom", path: ["to"], message: OUT_OF_BOUNDS });
      return z.NEVER;
    }
    if (!inBounds(from)) {
      const message = q.from ? OUT_OF_BOUNDS : `defaults to 7 days before to, and ${OUT_OF_BOUNDS}`;
      ctx.addIssue({ code: "custom", path: ["from"], message });
      return z.NEVER;
    }
    if (from.getTime() >= to.getTime()) {
      ctx.addIssue({ code: "custom", path: ["from"], message: "must be before to" });
      return z.NEVER;
    }
    const points = (to.getTime() - from.getTime()) / (q.interval === "hour" ? HOUR_MS : 24 * HOUR_MS);
    const max = q.interval === "hour" ? MAX_HOURLY_POINTS : MAX_DAILY_POINTS;
    if (points > max) {
      ctx.addIssue({
        code: "custom",
        path: ["interval"],
        message: `the range has more than ${max} ${q.interval} points`,
      });
      return z.NEVER;
    }
    const range: { from: Date; to: Date; interval: typeof q.interval; domain?: string } = {
      from,
      to,
      interval: q.interval,
    };
    if (q.domain !== undefined) range.domain = q.domain;
    return range;
  });

export type StatsQuery = z.output<typeof StatsQuerySchema>;

const Breakdown = z.array(z.object({ value: z.string(), clicks: z.number().int() }));

/** A top-10 list per click dimension, under the dimension's `breakdown` key. */
const breakdowns = Object.fromEntries(DIMENSIONS.map((d) => [d.breakdown, Breakdown])) as Record<
  BreakdownKey,
  typeof Breakdown
>;

export const LinkStatsSchema = z
  .object({
    slug: z.string(),
    from: z.string(),
    to: z.string(),
    interval: z.enum(["hour", "day"]),
    totals: z.object({
      clicks: z.number().int(),
      humans: z.number().int(),
      bots: z.number().int(),
      uniqueVisitors: z.number().int(),
    }),
    timeseries: z.array(z.object({ t: z.string(), humans: z.number().int(), bots: z.number().int() })),
    ...breakdowns,
  })
  .openapi("LinkStats");

export const ServiceStatsQuerySchema = z.object({
  domain: LinkDomainSchema.openapi({
    description: "Only links and clicks on this domain; left out, every domain.",
  }),
  owner: ownerQuery("every owner's, the whole service"),
});

export const ServiceStatsSchema = z
  .object({
    links: z.number().int(),
    clicks: z.object({
      total: z.number().int(),
      humans: z.number().int(),
      bots: z.number().int(),
      last24h: z.number().int(),
    }),
    topLinks: z.array(z.object({ domain: z.string(), slug: z.string(), clicks: z.number().int() })),
  })
  .openapi("ServiceStats");

export type LinkStats = z.infer<typeof LinkStatsSchema>;
export type ServiceStats = z.infer<typeof ServiceStatsSchema>;
