import { DIMENSIONS } from "@shared/analytics/dimensions";
import { type ArrayElement, arrayLiteral } from "./array-literal";
import type { ClickRow } from "./reduce";

/**
 * The least a Postgres client must offer: `pg`, and the Neon driver's Pool and Client, all fit.
 * A query with a `name` is prepared once per connection and then only executed.
 */
export type Queryable = {
  query(
    query: string | { name?: string; text: string; values?: unknown[] },
    values?: unknown[],
  ): Promise<{ rows: Array<Record<string, unknown>> }>;
};

/** A column of the batch: its Postgres type and how a click row gives its value. */
export type EventColumn = { name: string; type: string; value: (row: ClickRow) => ArrayElement };

/** click_events' columns in insert order; each goes in as one array parameter. */
export const EVENT_COLUMNS: readonly EventColumn[] = [
  { name: "id", type: "uuid", value: (r) => r.id },
  { name: "link_id", type: "bigint", value: (r) => r.linkId },
  { name: "slug", type: "text", value: (r) => r.slug },
  { name: "ts", type: "timestamptz", value: (r) => r.ts.toISOString() },
  ...DIMENSIONS.map((d): EventColumn => ({ name: d.column, type: "text", value: (r) => r[d.field] })),
  { name: "is_bot", type: "boolean", value: (r) => r.isBot },
  { name: "visitor_hash", type: "text", value: (r) => r.visitorHash },
];

/** The batch's columns: click_events' and `counted`, which is not stored. */
const BATCH_COLUMNS: readonly EventColumn[] = [
  ...EVENT_COLUMNS,
  { name: "counted", type: "boolean", value: (r) => r.counted },
];

const eventColumns = EVENT_COLUMNS.map((c) => c.name).join(", ");
const dimensionColumns = DIMENSIONS.map((d) => d.column).join(", ");
// A rollup key column cannot be null: a dimension an event lacks is ''.
const rollupKeys = DIMENSIONS.map((d) => (d.nullable ? `coalesce(${d.column}, '')` : d.column)).join(", ");
// link_id, hour, is_bot, then every dimension.
const rollupKeyPositions = Array.from({ length: 3 + DIMENSIONS.length }, (_, i) => i + 1).join(", ");

/**
 * Raw events and rollups in one statement, so one round trip and one implicit
 * transaction: the insert skips ids already stored, and the rollup upsert reads only
 * the rows that insert RETURNed — a redelivered batch adds nothing twice.
 * Columns go in as arrays through unnest, so the statement text never changes with
 * the batch size: it is prepared once per connection (it is built once, here, from the
 * column list). It answers, per link, how many events were new and how many of those the
 * edge had not counted in Redis: a few rows, where it used to return every new id. Every
 * column of that answer is cast: a connection's prepared statement must keep its result type, or
 * once a migration changed a column it names, the connection would fail each batch ("cached plan
 * must not change result type"). Hours are truncated in UTC.
 */
const WRITE_CLICKS = `
with batch as (
  select * from unnest(
    ${BATCH_COLUMNS.map((c, i) => `$${i + 1}::${c.type}[]`).join(", ")})
    as batch(${BATCH_COLUMNS.map((c) => c.name).join(", ")})
), inserted as (
  insert into click_events
    (${eventColumns})
  select ${eventColumns} from batch
  on conflict (id) do nothing
  returning id, link_id, ts, is_bot, ${dimensionColumns}
), rolled as (
  insert into click_rollups (link_id, hour, is_bot, ${dimensionColumns}, count)
  select link_id, date_trunc('hour', ts, 'UTC'), is_bot, ${rollupKeys}, count(*)
  from inserted
  group by ${rollupKeyPositions}
  on conflict on constraint click_rollups_pk do update set count = click_rollups.count + excluded.count
)
select inserted.link_id::bigint as link_id, count(*)::int as inserted,
  (count(*) filter (where not batch.counted))::int as uncounted
from inserted join batch using (id)
group by inserted.link_id`;

export type WriteResult = {
  /** Events newly stored; the rest of the batch was stored before. */
  inserted: number;
  /** Per link id, the newly stored events the edge had not counted in Redis. */
  uncountedByLink: Map<number, number>;
};

/** Writes a batch's rows; says how many were new, and per link how many of those are not counted yet. */
export async function writeClicks(db: Queryable, rows: readonly ClickRow[]): Promise<WriteResult> {
  const result: WriteResult = { inserted: 0, uncountedByLink: new Map() };
  if (rows.length === 0) return result;
  const { rows: perLink } = await db.query({
    name: "write_clicks",
    text: WRITE_CLICKS,
    values: BATCH_COLUMNS.map((c) => arrayLiteral(rows.map(c.value))),
  });
  for (const r of perLink) {
    result.inserted += Number(r.inserted);
    const uncounted = Number(r.uncounted);
    if (uncounted > 0) result.uncountedByLink.set(Number(r.link_id), uncounted);
  }
  return result;
}
