import { DIMENSIONS } from "@shared/analytics/dimensions";
import type { ClickRow } from "./reduce";

/** The least a Postgres client must offer: `pg`, and the Neon driver's Pool and Client, all fit. */
export type Queryable = {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
};

/** A click_events column: its Postgres type and how a row gives its value. */
export type EventColumn = { name: string; type: string; value: (row: ClickRow) => unknown };

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
 * the batch size and Postgres can reuse its plan (it is built once, here, from the
 * column list). Hours are truncated in UTC.
 */
const WRITE_CLICKS = `
with inserted as (
  insert into click_events
    (${EVENT_COLUMNS.map((c) => c.name).join(", ")})
  select * from unnest(
    ${EVENT_COLUMNS.map((c, i) => `$${i + 1}::${c.type}[]`).join(", ")})
  on conflict (id) do nothing
  returning id, link_id, ts, is_bot, ${dimensionColumns}
), rolled as (
  insert into click_rollups (link_id, hour, is_bot, ${dimensionColumns}, count)
  select link_id, date_trunc('hour', ts, 'UTC'), is_bot, ${rollupKeys}, count(*)
  from inserted
  group by ${rollupKeyPositions}
  on conflict on constraint click_rollups_pk do update set count = click_rollups.count + excluded.count
)
select id from inserted`;

/** Writes a batch's rows; returns the ids that were new (the rest were already stored). */
export async function writeClicks(
  db: Queryable,
  rows: readonly ClickRow[],
): Promise<{ inserted: Set<string> }> {
  if (rows.length === 0) return { inserted: new Set() };
  const { rows: result } = await db.query(
    WRITE_CLICKS,
    EVENT_COLUMNS.map((c) => rows.map(c.value)),
  );
  return { inserted: new Set(result.map((r) => String(r.id))) };
}
