import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/databases";
import { clickEvent } from "../../test/fixtures";
import { handleClickBatch, retryDelaySeconds } from "./handle-batch";
import { recordingBatch } from "./test-support";

let pool: pg.Pool;
beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await createTestDatabase(), max: 2 });
});
afterAll(() => pool?.end());

const open = () => ({ db: pool, close: async () => {} });

async function totals(linkId: number) {
  const events = await pool.query("select count(*)::int as n from click_events where link_id = $1", [linkId]);
  const rollups = await pool.query(
    "select coalesce(sum(count), 0)::int as n, coalesce(sum(count) filter (where is_bot), 0)::int as bots from click_rollups where link_id = $1",
    [linkId],
  );
  return { events: events.rows[0].n, rolled: rollups.rows[0].n, bots: rollups.rows[0].bots };
}

describe("handleClickBatch against Postgres", () => {
  it("counts a batch delivered twice the same as once", async () => {
    const bodies = Array.from({ length: 50 }, (_, i) =>
      clickEvent({ linkId: 101, ts: Date.UTC(2026, 0, 1, i % 3) }),
    );
    const first = recordingBatch(bodies);
    expect(await handleClickBatch(first, open)).toMatchObject({
      inserted: 50,
      duplicates: 0,
      retried: false,
    });
    const again = recordingBatch(bodies, 2);
    expect(await handleClickBatch(again, open)).toMatchObject({ inserted: 0, duplicates: 50 });
    expect([...again.decisions.values()].every((d) => d.acked)).toBe(true);
    expect(await totals(101)).toEqual({ events: 50, rolled: 50, bots: 0 });
    const hours = await pool.query(
      "select count(distinct hour)::int as n from click_rollups where link_id = 101",
    );
    expect(hours.rows[0].n).toBe(3);
  });

  it("adds a redelivered batch with new clicks in the same hours only once (exact rows and rollups)", async () => {
    // The second delivery repeats the first and adds 30 clicks that land on the same rollup
    // rows, so the rollup upsert's conflict branch runs: it must add, once, only the new clicks.
    const hour = (h: number) => Date.UTC(2026, 1, 2, h, 15);
    const first = Array.from({ length: 20 }, (_, i) => clickEvent({ linkId: 107, ts: hour(i % 2) }));
    const more = Array.from({ length: 30 }, (_, i) => clickEvent({ linkId: 107, ts: hour(i % 2) }));
    expect(await handleClickBatch(recordingBatch(first), open)).toMatchObject({ inserted: 20 });
    expect(await handleClickBatch(recordingBatch([...first, ...more], 2), open)).toMatchObject({
      inserted: 30,
      duplicates: 20,
    });
    expect(await totals(107)).toEqual({ events: 50, rolled: 50, bots: 0 });
    const perHour = await pool.query(
      "select extract(hour from hour)::int as h, count::int as n from click_rollups where link_id = 107 order by 1",
    );
    expect(perHour.rows).toEqual([
      { h: 0, n: 25 },
      { h: 1, n: 25 },
    ]);
  });

  it("acknowledges 1 malformed message among 99 good ones and counts the 99", async () => {
    const bodies: unknown[] = Array.from({ length: 99 }, () => clickEvent({ linkId: 102 }));
    bodies.splice(40, 0, { id: "bogus", linkId: "x" });
    const batch = recordingBatch(bodies);
    expect(await handleClickBatch(batch, open)).toMatchObject({ received: 100, inserted: 99, malformed: 1 });
    expect(batch.decisions.get("m40")).toEqual({ acked: true });
    expect([...batch.decisions.values()].filter((d) => d.acked)).toHaveLength(100);
    expect(await totals(102)).toMatchObject({ events: 99, rolled: 99 });
  });

  it("retries every valid message with backoff when the write fails, and counts them once later", async () => {
    const bodies = Array.from({ length: 10 }, () => clickEvent({ linkId: 103 }));
    const failing = () => ({
      db: { query: async () => Promise.reject(new Error("connection refused")) },
      close: async () => {},
    });
    const batch = recordingBatch([...bodies, "garbage"], 3);
    expect(await handleClickBatch(batch, failing)).toMatchObject({
      retried: true,
      inserted: 0,
      malformed: 1,
    });
    const decisions = [...batch.decisions.values()];
    expect(decisions.filter((d) => !d.acked)).toHaveLength(10);
    expect(decisions.filter((d) => !d.acked).every((d) => d.retryDelay === retryDelaySeconds(3))).toBe(true);
    expect(batch.decisions.get("m10")).toEqual({ acked: true });

    await handleClickBatch(recordingBatch(bodies, 4), open);
    expect(await totals(103)).toMatchObject({ events: 10, rolled: 10 });
  });

  it("adds only newly stored clicks the edge did not count to the Redis counters, by link id", async () => {
    const added: Array<Map<number, number>> = [];
    const counters = { add: async (byLink: Map<number, number>) => void added.push(new Map(byLink)) };
    const bodies = [
      ...Array.from({ length: 3 }, () => clickEvent({ linkId: 104, slug: "free" })),
      ...Array.from({ length: 2 }, () => clickEvent({ linkId: 105, slug: "limited", counted: true })),
    ];
    await handleClickBatch(recordingBatch(bodies), open, counters);
    await handleClickBatch(recordingBatch(bodies, 2), open, counters);
    expect(added).toEqual([new Map([[104, 3]])]);
  });

  it("still acknowledges a stored batch when the counters cannot be updated", async () => {
    const batch = recordingBatch([clickEvent({ linkId: 106 })]);
    const failing = { add: async () => Promise.reject(new Error("redis down")) };
    expect(await handleClickBatch(batch, open, failing)).toMatchObject({ inserted: 1, retried: false });
    expect([...batch.decisions.values()]).toEqual([{ acked: true }]);
  });

  it("backs off exponentially up to five minutes", () => {
    expect([1, 2, 3, 4, 10].map(retryDelaySeconds)).toEqual([5, 10, 20, 40, 300]);
  });
});
