import { type BreakdownKey, DIMENSIONS, type Dimension } from "@shared/analytics/dimensions";
import type { Database } from "@shared/db/client";
import { clickEvents, clickRollups, links } from "@shared/db/schema";
import { and, desc, eq, gte, isNull, lt, type SQL, sql } from "drizzle-orm";
import type { LinkStats, ServiceStats, StatsQuery } from "../schemas/stats";

type Breakdown = LinkStats[BreakdownKey];

const TOP = 10;
const n = (v: unknown): number => Number(v ?? 0);

/** Reads the hourly rollups (and raw events, for unique visitors) for the stats API. */
export class StatsService {
  constructor(private readonly db: Database) {}

  async forLink(linkId: number, slug: string, q: StatsQuery): Promise<LinkStats> {
    const inRange = and(
      eq(clickRollups.linkId, linkId),
      gte(clickRollups.hour, truncate(q.from, "hour")),
      lt(clickRollups.hour, q.to),
    );
    // The unit is inlined (an enum value, never user text) so GROUP BY matches the select expression.
    const bucket = sql<Date>`date_trunc(${sql.raw(`'${q.interval}'`)}, ${clickRollups.hour}, 'UTC')`;
    const humans = sql<string>`coalesce(sum(${clickRollups.count}) filter (where not ${clickRollups.isBot}), 0)`;
    const bots = sql<string>`coalesce(sum(${clickRollups.count}) filter (where ${clickRollups.isBot}), 0)`;

    const [series, uniques, breakdowns] = await Promise.all([
      this.db
        .select({ t: bucket, humans, bots })
        .from(clickRollups)
        .where(inRange)
        .groupBy(bucket)
        .orderBy(bucket),
      this.db
        .select({ n: sql<string>`count(distinct ${clickEvents.visitorHash})` })
        .from(clickEvents)
        .where(
          and(
            eq(clickEvents.linkId, linkId),
            gte(clickEvents.ts, q.from),
            lt(clickEvents.ts, q.to),
            eq(clickEvents.isBot, false),
          ),
        ),
      Promise.all(DIMENSIONS.map((d) => this.top(d, inRange))),
    ]);

    const byBucket = new Map(series.map((p) => [new Date(p.t).getTime(), p]));
    const timeseries: LinkStats["timeseries"] = [];
    for (const t of buckets(q)) {
      const p = byBucket.get(t.getTime());
      timeseries.push({ t: t.toISOString(), humans: n(p?.humans), bots: n(p?.bots) });
    }
    const sumHumans = timeseries.reduce((s, p) => s + p.humans, 0);
    const sumBots = timeseries.reduce((s, p) => s + p.bots, 0);

    return {
      slug,
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      interval: q.interval,
      totals: {
        clicks: sumHumans + sumBots,
        humans: sumHumans,
        bots: sumBots,
        uniqueVisitors: n(uniques[0]?.n),
      },
      timeseries,
      ...(Object.fromEntries(breakdowns) as Record<BreakdownKey, Breakdown>),
    };
  }

  /** A dimension's ten most frequent values, with their clicks. */
  private async top(dimension: Dimension, inRange: SQL | undefined): Promise<[BreakdownKey, Breakdown]> {
    const column = clickRollups[dimension.field];
    // Breakdowns count human clicks: what a link's owner wants to see.
    const rows = await this.db
      .select({ value: sql<string>`${column}`, clicks: sql<string>`sum(${clickRollups.count})` })
      .from(clickRollups)
      .where(and(inRange, eq(clickRollups.isBot, false)))
      .groupBy(column)
      .orderBy(desc(sql`sum(${clickRollups.count})`), column)
      .limit(TOP);
    // Empty strings stand for "unknown" in rollup keys (they are part of the primary key).
    return [dimension.breakdown, rows.map((r) => ({ value: r.value || "(none)", clicks: n(r.clicks) }))];
  }

  /**
   * The summary of one owner's links, or of every owner's (`null`: the whole service, for the admin token), on
   * every domain or, given a stored domain, on that one.
   */
  async forOwner(ownerId: string | null, domain?: string): Promise<ServiceStats> {
    const owned =
      ownerId === null
        ? undefined
        : sql`${clickRollups.linkId} in (select ${links.id} from ${links} where ${links.ownerId} = ${ownerId})`;
    const ownerIs = ownerId === null ? undefined : eq(links.ownerId, ownerId);
    const onDomain = domain === undefined ? undefined : eq(links.domain, domain);
    const clicksOnDomain = domain === undefined ? undefined : eq(clickRollups.domain, domain);
    const since = new Date(Date.now() - 24 * 3_600_000);
    const [linkCount, totals, topLinks] = await Promise.all([
      this.db
        .select({ n: sql<string>`count(*)` })
        .from(links)
        .where(and(ownerIs, isNull(links.deletedAt), onDomain)),
      this.db
        .select({
          humans: sql<string>`coalesce(sum(${clickRollups.count}) filter (where not ${clickRollups.isBot}), 0)`,
          bots: sql<string>`coalesce(sum(${clickRollups.count}) filter (where ${clickRollups.isBot}), 0)`,
          last24h: sql<string>`coalesce(sum(${clickRollups.count}) filter (where ${clickRollups.hour} >= ${truncate(since, "hour")}), 0)`,
        })
        .from(clickRollups)
        .where(and(owned, clicksOnDomain)),
      this.db
        .select({ domain: links.domain, slug: links.slug, clicks: sql<string>`sum(${clickRollups.count})` })
        .from(clickRollups)
        .innerJoin(links, eq(links.id, clickRollups.linkId))
        .where(and(ownerIs, isNull(links.deletedAt), onDomain))
        .groupBy(links.domain, links.slug)
        .orderBy(desc(sql`sum(${clickRollups.count})`), links.domain, links.slug)
        .limit(TOP),
    ]);
    const humans = n(totals[0]?.humans);
    const bots = n(totals[0]?.bots);
    return {
      links: n(linkCount[0]?.n),
      clicks: { total: humans + bots, humans, bots, last24h: n(totals[0]?.last24h) },
      topLinks: topLinks.map((l) => ({ domain: l.domain, slug: l.slug, clicks: n(l.clicks) })),
    };
  }
}

function truncate(d: Date, unit: "hour" | "day"): Date {
  const t = new Date(d);
  t.setUTCMinutes(0, 0, 0);
  if (unit === "day") t.setUTCHours(0);
  return t;
}

/** Every bucket start from `from` (truncated) up to, not including, `to`: a series without gaps. */
function* buckets(q: StatsQuery): Generator<Date> {
  const step = q.interval === "hour" ? 3_600_000 : 86_400_000;
  for (let t = truncate(q.from, q.interval).getTime(); t < q.to.getTime(); t += step) yield new Date(t);
}
