import type { ClickRow } from "./reduce";

/** The least a Postgres client must offer: `pg`, and the Neon driver's Pool and Client, all fit. */
export type Queryable = {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
};

/**
 * Raw events and rollups in one statement, so one round trip and one implicit
 * transaction: the insert skips ids already stored, and the rollup upsert reads only
 * the rows that insert RETURNed — a redelivered batch adds nothing twice.
 * Columns go in as arrays through unnest, so the statement text never changes with
 * the batch size and Postgres can reuse its plan. Hours are truncated in UTC.
 */
const WRITE_CLICKS = `
with inserted as (
  insert into click_events
    (id, link_id, slug, ts, country, referrer_host, device, browser, os, is_bot, visitor_hash)
  select * from unnest(
    $1::uuid[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
    $7::text[], $8::text[], $9::text[], $10::boolean[], $11::text[])
  on conflict (id) do nothing
  returning id, link_id, ts, is_bot, country, referrer_host, device, browser, os
), rolled as (
  insert into click_rollups (link_id, hour, is_bot, country, referrer_host, device, browser, os, count)
  select link_id, date_trunc('hour', ts, 'UTC'), is_bot, coalesce(country, ''), coalesce(referrer_host, ''),
         device, browser, os, count(*)
  from inserted
  group by 1, 2, 3, 4, 5, 6, 7, 8
  on conflict on constraint click_rollups_pk do update set count = click_rollups.count + excluded.count
)
select id from inserted`;

/** Writes a batch's rows; returns the ids that were new (the rest were already stored). */
export async function writeClicks(
  db: Queryable,
  rows: readonly ClickRow[],
): Promise<{ inserted: Set<string> }> {
  if (rows.length === 0) return { inserted: new Set() };
  const { rows: result } = await db.query(WRITE_CLICKS, [
    rows.map((r) => r.id),
    rows.map((r) => r.linkId),
    rows.map((r) => r.slug),
    rows.map((r) => r.ts.toISOString()),
    rows.map((r) => r.country),
    rows.map((r) => r.referrerHost),
    rows.map((r) => r.device),
    rows.map((r) => r.browser),
    rows.map((r) => r.os),
    rows.map((r) => r.isBot),
    rows.map((r) => r.visitorHash),
  ]);
  return { inserted: new Set(result.map((r) => String(r.id))) };
}
