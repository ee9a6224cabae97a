/**
 * Start-up repair of the self-hosted edge data from Postgres, the source of truth. KV
 * records and Redis counters are copies: a restore, a lost Redis write, or a Postgres
 * put back from a backup leaves them out of line, and the edge would then redirect a
 * deleted link, forget a new one until its KV-miss fallback, or reopen a click limit.
 * The runner calls this before any replica serves.
 *
 * @example
 *   const report = await repairFromPostgres({ databaseUrl, records: kv.records, counters: upstashRedis });
 */
import { Redis } from "@upstash/redis";
import { desc, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { type CounterRedis, type ReconcileReport, reconcileCounters } from "../aggregator/src/reconcile";
import { linksOnReservedSlugs } from "../scripts/reserved-slugs";
import { domains, links } from "../shared/db/schema";
import { publishedTable } from "../shared/domains/table";
import { DOMAIN_TABLE_KEY, LINK_KEY_PREFIX, linkKey } from "../shared/keys";
import { RECORD_COLUMNS, toLinkRecord, tombstone } from "../shared/links/record";
import type { KvRecords } from "./kv-service";

export type RepairReport = {
  /** Live links whose record was missing from KV. */
  published: number;
  /** Live links whose record differed from Postgres (an older edit). */
  updated: number;
  /** Deleted links whose record was not a tombstone. */
  tombstoned: number;
  /** Records of slugs Postgres has never had (data restored from another time). */
  removed: number;
  /** Whether the domain table in KV differed from Postgres's `domains` and was rewritten. */
  domainsRepublished: boolean;
  counters: ReconcileReport;
};

/** Counters of every link, not only of those clicked lately as the aggregator's cron checks. */
const ALL_HISTORY_HOURS = 1_000_000;
const PAGE = 5000;

/**
 * Per domain and slug, after `after` in that order, the row its record must show: the live
 * link, else the latest deleted one.
 */
function linksByAddress(db: pg.Client, after: { domain: string; slug: string }) {
  return drizzle({ client: db })
    .selectDistinctOn([links.domain, links.slug], {
      ...RECORD_COLUMNS,
      domain: links.domain,
      slug: links.slug,
      deletedAt: links.deletedAt,
    })
    .from(links)
    .where(sql`(${links.domain}, ${links.slug}) > (${after.domain}, ${after.slug})`)
    .orderBy(links.domain, links.slug, sql`${links.deletedAt} is null desc`, desc(links.id))
    .limit(PAGE);
}

export async function repairFromPostgres(deps: {
  db: pg.Client;
  records: KvRecords;
  counters: CounterRedis;
}): Promise<RepairReport> {
  const { db, records } = deps;
  const report = { published: 0, updated: 0, tombstoned: 0, removed: 0 };
  const seen = new Set<string>();
  for (let after = { domain: "", slug: "" }; ; ) {
    const rows = await linksByAddress(db, after);
    for (const row of rows) {
      const key = linkKey(row.domain, row.slug);
      seen.add(key);
      // The record the link service itself publishes (LinkService.publish and .delete).
      const expected = JSON.stringify(row.deletedAt ? tombstone(row.id) : toLinkRecord(row));
      const stored = records.get(key);
      if (stored === expected) continue;
      if (row.deletedAt) report.tombstoned++;
      else if (stored === null) report.published++;
      else report.updated++;
      await records.put(key, expected);
    }
    const last = rows[rows.length - 1];
    if (rows.length < PAGE || !last) break;
    after = { domain: last.domain, slug: last.slug };
  }
  for (const key of records.keys(LINK_KEY_PREFIX)) {
    if (seen.has(key)) continue;
    await records.delete(key);
    report.removed++;
  }
  // The table the domain API publishes (services/domains.ts), from the same builder.
  const domainRows = await drizzle({ client: db }).select().from(domains);
  const table = JSON.stringify(publishedTable(domainRows));
  const domainsRepublished = records.get(DOMAIN_TABLE_KEY) !== table;
  if (domainsRepublished) await records.put(DOMAIN_TABLE_KEY, table);
  const counters = await reconcileCounters(db, deps.counters, ALL_HISTORY_HOURS);
  return { ...report, domainsRepublished, counters };
}

/**
 * `repairFromPostgres` over its own connections (Postgres directly, Redis through the REST
 * gateway); logs what it changed, if anything.
 */
export async function repairAtStart(opts: {
  databaseUrl: string;
  records: KvRecords;
  gateway: { url: string; token: string };
}): Promise<RepairReport> {
  const db = new pg.Client({ connectionString: opts.databaseUrl });
  await db.connect();
  try {
    const counters = new Redis({ url: opts.gateway.url, token: opts.gateway.token, enableTelemetry: false });
    const report = await repairFromPostgres({ db, records: opts.records, counters });
    const { published, updated, tombstoned, removed } = report;
    if (
      published + updated + tombstoned + removed + report.counters.repaired > 0 ||
      report.domainsRepublished
    )
      console.log(`edge data repaired from Postgres: ${JSON.stringify(report)}`);
    // Made before their word was reserved: they keep redirecting (routes/dashboard.ts), but are worth a look.
    for (const link of await linksOnReservedSlugs(db)) {
      console.warn(
        `link "${link.slug}" (owner ${link.ownerId}) holds a slug now reserved; it keeps redirecting at /${link.slug}`,
      );
    }
    return report;
  } finally {
    await db.end();
  }
}
