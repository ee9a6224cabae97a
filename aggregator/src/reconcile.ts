import { clickCounterKey } from "@shared/keys";
import type { Queryable } from "./writer";

/** The Redis calls reconciliation needs (an @upstash/redis client fits). */
export type CounterRedis = {
  mget<T extends unknown[]>(...keys: string[]): Promise<T>;
  eval<A extends unknown[], R>(script: string, keys: string[], args: A): Promise<R>;
};

export type ReconcileReport = {
  checked: number;
  /** Links whose Redis counter was below Postgres (Redis lost increments) and was raised. */
  repaired: number;
  /** Sum over links of |Postgres − Redis|: the drift seen before repair. */
  drift: number;
};

/** Raises a counter to at least ARGV[1], atomically, so a concurrent INCR is never lost. */
const RAISE_TO = `local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) return 1 end
return 0`;

/**
 * Links clicked in the last $1 hours, and every live link with a click limit however
 * idle: the edge enforces limits from the counter, so a limited link whose counter was
 * lost (a Redis restart, or the move from slug to id keys) must not reopen.
 */
const LINKS_TO_CHECK = `
select l.id, sum(r.count)::bigint as clicks
from links l join click_rollups r on r.link_id = l.id
where l.deleted_at is null
  and (l.max_clicks is not null
    or l.id in (select distinct link_id from click_rollups where hour >= now() - make_interval(hours => $1)))
group by l.id`;

/**
 * Compares each link's Redis counter with its Postgres total (see LINKS_TO_CHECK).
 * Redis may be ahead (events still in the queue, clicks refused past a limit); it must
 * never be behind, because the click limit is enforced from it — so a counter below
 * Postgres is raised to the Postgres total.
 */
export async function reconcileCounters(
  db: Queryable,
  redis: CounterRedis,
  hours = 24,
): Promise<ReconcileReport> {
  const { rows } = await db.query(LINKS_TO_CHECK, [hours]);
  const report: ReconcileReport = { checked: rows.length, repaired: 0, drift: 0 };
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    const counters = await redis.mget<Array<string | number | null>>(
      ...chunk.map((r) => clickCounterKey(Number(r.id))),
    );
    for (const [j, row] of chunk.entries()) {
      const stored = Number(row.clicks);
      const counted = Number(counters[j] ?? 0);
      report.drift += Math.abs(stored - counted);
      if (counted < stored) {
        report.repaired += Number(await redis.eval(RAISE_TO, [clickCounterKey(Number(row.id))], [stored]));
      }
    }
  }
  return report;
}
