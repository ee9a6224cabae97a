import { clickCounterKey } from "@shared/keys";
import { Redis } from "@upstash/redis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startRedisGateway } from "../../selfhost/redis-rest-gateway";
import { createTestDatabase } from "../../test/databases";
import { clickEvent } from "../../test/fixtures";
import { arrayLiteral } from "./array-literal";
import { handleClickBatch } from "./handle-batch";
import { redisCounters } from "./redis-counters";
import { recordingBatch } from "./test-support";

/** The writer against real Postgres, with the real Redis counters behind it. */

let pool: pg.Pool;
let gateway: Awaited<ReturnType<typeof startRedisGateway>>;
let redis: Redis;
beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await createTestDatabase(), max: 2 });
  gateway = await startRedisGateway({ redisUrl: inject("redisUrl"), token: "t" });
  redis = new Redis({ url: gateway.url, token: "t", enableTelemetry: false });
});
afterAll(async () => {
  await pool?.end();
  await gateway?.close();
});

const open = () => ({ db: pool, close: async () => {} });
/** Link ids no other test file uses: they share one Redis, where counters are keyed by link id. */
const linkIds = (n: number) => {
  const base = 1 + Math.floor(Math.random() * 2 ** 40);
  return Array.from({ length: n }, (_, i) => base + i);
};

async function stored(linkId: number) {
  const events = await pool.query("select count(*)::int as n from click_events where link_id = $1", [linkId]);
  const rolled = await pool.query(
    "select coalesce(sum(count), 0)::int as n from click_rollups where link_id = $1",
    [linkId],
  );
  return {
    events: events.rows[0].n,
    rolled: rolled.rows[0].n,
    counter: Number(await redis.get(clickCounterKey(linkId))),
  };
}

describe("arrayLiteral", () => {
  it("reaches Postgres as the very values, whatever the text holds", async () => {
    const texts = [
      "plain",
      "",
      "NULL",
      "null",
      'say "hi"',
      "back\\slash\\",
      "{braces},commas",
      " spaced ",
      "line\nbreak\ttab\r\u0001",
      "go-😀-ü",
      "\u2028",
    ];
    const columns: Array<Array<string | null>> = [texts, [...texts, null], ["a", null, "b"], []];
    for (const column of columns) {
      const { rows } = await pool.query("select $1::text[] as a", [arrayLiteral(column)]);
      expect(rows[0].a).toEqual(column);
    }
    const { rows } = await pool.query("select $1::bigint[] as n, $2::boolean[] as b", [
      arrayLiteral([1, 2 ** 53 - 1, null]),
      arrayLiteral([true, false, null]),
    ]);
    expect(rows[0]).toEqual({ n: ["1", String(2 ** 53 - 1), null], b: [true, false, null] });
  });
});

describe("writing a batch", () => {
  it("stores a batch of 1,000 redelivered with new clicks once: events, rollups and Redis counters", async () => {
    const [free, limited, other] = linkIds(3) as [number, number, number];
    const hour = (h: number) => Date.UTC(2026, 2, 3, h, 20);
    const first = Array.from({ length: 1000 }, (_, i) =>
      i % 10 === 0
        ? clickEvent({ linkId: limited, slug: "limited", ts: hour(i % 3), counted: true })
        : clickEvent({ linkId: i % 2 ? free : other, ts: hour(i % 3), rule: i % 4 ? null : "r1" }),
    );
    const more = Array.from({ length: 20 }, (_, i) =>
      clickEvent({ linkId: i % 2 ? free : limited, ts: hour(1), counted: i % 2 === 0 }),
    );
    const counters = redisCounters(redis);
    expect(await handleClickBatch(recordingBatch(first), open, counters)).toMatchObject({ inserted: 1000 });
    // The ack was lost: the same batch again, and then with 20 clicks more.
    expect(await handleClickBatch(recordingBatch(first, 2), open, counters)).toMatchObject({
      inserted: 0,
      duplicates: 1000,
    });
    const again = recordingBatch([...first, ...more], 3);
    expect(await handleClickBatch(again, open, counters)).toMatchObject({ inserted: 20, duplicates: 1000 });
    expect(again.acked.size).toBe(1020);

    const freeCount = first.filter((e) => e.linkId === free).length + 10;
    const otherCount = first.filter((e) => e.linkId === other).length;
    expect(await stored(free)).toEqual({ events: freeCount, rolled: freeCount, counter: freeCount });
    expect(await stored(other)).toEqual({ events: otherCount, rolled: otherCount, counter: otherCount });
    // The edge counted the limited link's clicks itself: stored and rolled up, never added again.
    expect(await stored(limited)).toEqual({ events: 110, rolled: 110, counter: 0 });
  });

  it("stores each field as sent: text beyond ASCII, nulls, milliseconds, an absent domain", async () => {
    const [linkId] = linkIds(1) as [number];
    const event = clickEvent({
      linkId,
      slug: "go-😀-ü",
      ts: Date.UTC(2026, 2, 3, 4, 5, 6, 789),
      country: null,
      referrer: 'https://Www.Example.org/ü?q="quoted"\\',
      visitor: 'v"\\\n\t',
      rule: "r-😀",
    });
    await handleClickBatch(recordingBatch([event]), open);
    const { rows } = await pool.query(
      "select id, slug, ts, country, referrer_host, visitor_hash, rule, domain from click_events where link_id = $1",
      [linkId],
    );
    expect(rows).toEqual([
      {
        id: event.id,
        slug: "go-😀-ü",
        ts: new Date(event.ts),
        country: null,
        referrer_host: "example.org",
        visitor_hash: 'v"\\\n\t',
        rule: "r-😀",
        domain: "",
      },
    ]);
  });

  it("acknowledges events Postgres could not store as malformed and stores the rest of the batch", async () => {
    const [linkId] = linkIds(1) as [number];
    const good = Array.from({ length: 5 }, () => clickEvent({ linkId }));
    const bad = [
      clickEvent({ linkId, slug: "nul\0" }),
      clickEvent({ linkId, visitor: "half\ud800" }),
      clickEvent({ linkId, ts: 8.64e15 + 1 }),
      clickEvent({ linkId, ts: Date.UTC(10000, 0, 1) }),
      { ...clickEvent({ linkId }), id: "not-a-uuid" },
      { ...clickEvent({ linkId }), country: undefined },
    ];
    const batch = recordingBatch([...good.slice(0, 2), ...bad, ...good.slice(2)]);
    expect(await handleClickBatch(batch, open, redisCounters(redis))).toMatchObject({
      inserted: 5,
      malformed: 6,
      retried: false,
    });
    expect(batch.acked.size).toBe(11);
    expect(batch.retried.size).toBe(0);
    expect(await stored(linkId)).toEqual({ events: 5, rolled: 5, counter: 5 });
  });

  it("stores the last millisecond of the year 9999 and refuses the next as malformed, failing no batch", async () => {
    const [linkId] = linkIds(1) as [number];
    const last = Date.UTC(10000, 0, 1) - 1;
    const batch = recordingBatch([clickEvent({ linkId, ts: last }), clickEvent({ linkId, ts: last + 1 })]);
    expect(await handleClickBatch(batch, open)).toMatchObject({ inserted: 1, malformed: 1, retried: false });
    expect(batch.acked.size).toBe(2);
    const { rows } = await pool.query("select ts from click_events where link_id = $1", [linkId]);
    expect(rows).toEqual([{ ts: new Date(last) }]);
  });

  it("counts once a click sent twice in one batch with its id in two cases", async () => {
    const [linkId] = linkIds(1) as [number];
    const event = clickEvent({ linkId });
    const batch = recordingBatch([event, { ...event, id: event.id.toUpperCase() }]);
    const outcome = await handleClickBatch(batch, open, redisCounters(redis));
    expect(outcome.retried).toBe(false);
    expect(await stored(linkId)).toEqual({ events: 1, rolled: 1, counter: 1 });
  });

  it("stores a click whose referrer names a host far longer than any, failing no batch", async () => {
    // A Referer header is the visitor's to write: 2,000 characters that URL parsing turns into a host of 6,000
    // (punycode) or 12,000 (percent-encoded), past what one key of the rollups' index holds (2,704 bytes).
    const [linkId] = linkIds(1) as [number];
    // Pseudo-random, so that Postgres cannot compress the key under the limit.
    let seed = 19;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    const chars = (from: number, span: number, n: number) =>
      Array.from({ length: n }, () => String.fromCharCode(from + ((next() >>> 12) % span))).join("");
    const referrers = [`https://${chars(0x4e00, 20_000, 2000)}/`, `foo://${chars(0xa0, 96, 2040)}/`];
    const batch = recordingBatch([
      clickEvent({ linkId }),
      ...referrers.map((referrer) => clickEvent({ linkId, referrer })),
    ]);
    expect(await handleClickBatch(batch, open)).toMatchObject({ inserted: 3, retried: false });
    const { rows } = await pool.query(
      "select referrer_host from click_rollups where link_id = $1 order by referrer_host nulls first",
      [linkId],
    );
    expect(rows.map((r) => r.referrer_host)).toEqual(["", "news.example.org"]);
  });
});
