import { clickCounterKey } from "@shared/keys";
import { Redis } from "@upstash/redis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase } from "../../scripts/migrate";
import { startRedisGateway } from "../../selfhost/redis-rest-gateway";
import { type PostgresServer, startPostgres } from "../../selfhost/services/postgres";
import { type RedisServer, startRedis } from "../../selfhost/services/redis";
import { clickEvent } from "../../test/fixtures";
import { handleClickBatch } from "./handle-batch";
import { reconcileCounters } from "./reconcile";
import { recordingBatch } from "./test-support";

/** A Postgres of this file's own, since these tests stop it. */
let postgres: PostgresServer;
let pool: pg.Pool;

beforeAll(async () => {
  postgres = await startPostgres({ durability: "off-for-tests" });
  await migrateDatabase(postgres.url);
  pool = new pg.Pool({ connectionString: postgres.url, max: 2, connectionTimeoutMillis: 2000 });
  pool.on("error", () => {});
});
afterAll(async () => {
  await pool?.end();
  await postgres?.dispose();
});

const open = () => ({ db: pool, close: async () => {} });

describe("aggregator while Postgres is down", () => {
  it("retries the batch, and counts every event once after Postgres is back", async () => {
    const bodies = Array.from({ length: 40 }, () => clickEvent({ linkId: 7 }));
    await postgres.stop();
    const during = recordingBatch(bodies, 1);
    expect(await handleClickBatch(during, open)).toMatchObject({ retried: true, inserted: 0 });
    expect(during.retried.size).toBe(40);
    expect(during.acked.size).toBe(0);

    await postgres.start();
    const redelivered = recordingBatch(bodies, 2);
    expect(await handleClickBatch(redelivered, open)).toMatchObject({ retried: false, inserted: 40 });
    // A second redelivery (say the ack was lost) adds nothing.
    expect(await handleClickBatch(recordingBatch(bodies, 3), open)).toMatchObject({
      inserted: 0,
      duplicates: 40,
    });
    const { rows } = await pool.query("select sum(count)::int as n from click_rollups where link_id = 7");
    expect(rows[0].n).toBe(40);
  });
});

describe("reconcileCounters against real Redis and Postgres", () => {
  let redisServer: RedisServer;
  let gateway: Awaited<ReturnType<typeof startRedisGateway>>;
  let redis: Redis;
  beforeAll(async () => {
    redisServer = await startRedis();
    gateway = await startRedisGateway({ redisUrl: redisServer.url, token: "t" });
    redis = new Redis({ url: gateway.url, token: "t", enableTelemetry: false });
  });
  afterAll(async () => {
    await gateway?.close();
    await redisServer?.dispose();
  });

  it("raises counters that fell behind Postgres and leaves those ahead alone", async () => {
    const { rows } = await pool.query(
      "insert into links (slug, url, owner_id) values ('behind', 'https://e.x/', 'o'), ('ahead', 'https://e.x/', 'o') returning id",
    );
    const [behind, ahead] = rows.map((r) => Number(r.id)) as [number, number];
    const now = Date.now();
    const events = [
      ...Array.from({ length: 5 }, () => clickEvent({ linkId: behind, slug: "behind", ts: now })),
      ...Array.from({ length: 3 }, () => clickEvent({ linkId: ahead, slug: "ahead", ts: now })),
    ];
    await handleClickBatch(recordingBatch(events, 1), open);
    await redis.set(clickCounterKey(behind), 2); // Redis lost 3 increments (say, a restart)
    await redis.set(clickCounterKey(ahead), 4); // one click still in the queue

    const report = await reconcileCounters(pool, redis);
    expect(report).toEqual({ checked: 2, repaired: 1, drift: 3 + 1 });
    expect(Number(await redis.get(clickCounterKey(behind)))).toBe(5);
    expect(Number(await redis.get(clickCounterKey(ahead)))).toBe(4);
    expect(await reconcileCounters(pool, redis)).toEqual({ checked: 2, repaired: 0, drift: 1 });
  });

  it("raises the lost counter of a limited link not clicked for days (no reopened limit)", async () => {
    const { rows } = await pool.query(
      "insert into links (slug, url, owner_id, max_clicks) values ('idle-limited', 'https://e.x/', 'o', 3) returning id",
    );
    const id = Number(rows[0].id);
    const weekAgo = Date.now() - 7 * 24 * 3600_000;
    const events = Array.from({ length: 3 }, () =>
      clickEvent({ linkId: id, slug: "idle-limited", ts: weekAgo, counted: true }),
    );
    await handleClickBatch(recordingBatch(events, 1), open);
    expect(await redis.get(clickCounterKey(id))).toBeNull(); // lost, or never written under this key

    await reconcileCounters(pool, redis);
    expect(Number(await redis.get(clickCounterKey(id)))).toBe(3);
  });
});
