import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/databases";
import { clickEvent } from "../../test/fixtures";
import { handlePushedBatch } from "./push-endpoint";

let pool: pg.Pool;
beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await createTestDatabase(), max: 2 });
});
afterAll(() => pool?.end());

const open = () => ({ db: pool, close: async () => {} });
const noCounters = { add: async () => {} };
const push = (body: unknown) =>
  new Request("http://aggregator/__queue/clicks", { method: "POST", body: JSON.stringify(body) });
const delivery = (bodies: unknown[], attempts = 1) => ({
  messages: bodies.map((body, i) => ({
    id: `1700000000000-${i}`,
    body,
    attempts,
    timestamp: 1_700_000_000_000,
  })),
});

describe("the broker's push endpoint", () => {
  it("answers which messages to acknowledge: stored ones, malformed ones and a redelivery", async () => {
    const bodies = [clickEvent({ linkId: 301 }), { id: "bogus" }, clickEvent({ linkId: 301 })];
    for (const attempts of [1, 2]) {
      const res = await handlePushedBatch(push(delivery(bodies, attempts)), "clicks", open, noCounters);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        acked: ["1700000000000-1", "1700000000000-0", "1700000000000-2"],
        retried: [],
      });
    }
    const { rows } = await pool.query("select count(*)::int as n from click_events where link_id = 301");
    expect(rows[0].n).toBe(2);
  });

  it("answers to retry every valid message with its backoff when the write fails", async () => {
    const failing = () => ({
      db: { query: async () => Promise.reject(new Error("connection refused")) },
      close: async () => {},
    });
    const res = await handlePushedBatch(
      push(delivery([clickEvent(), "garbage", clickEvent()], 3)),
      "clicks",
      failing,
      noCounters,
    );
    expect(await res.json()).toEqual({
      acked: ["1700000000000-1"],
      retried: [
        { id: "1700000000000-0", delaySeconds: 20 },
        { id: "1700000000000-2", delaySeconds: 20 },
      ],
    });
  });

  it("refuses a body that is not a batch with 400", async () => {
    for (const body of [{ messages: "no" }, "text"]) {
      const res = await handlePushedBatch(push(body), "clicks", open, noCounters);
      expect(res.status).toBe(400);
    }
  });
});
