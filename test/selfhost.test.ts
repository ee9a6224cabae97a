import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, startCluster } from "../selfhost/cluster";
import { rollingRestart, smokeTest } from "../selfhost/rolling-restart";
import { runLoad } from "./load";
import { eventually } from "./stack";

/**
 * The self-hosted topology, started for real: three workerd replicas behind nginx,
 * the aggregator behind the Redis Streams broker, Redis, Postgres, Prometheus.
 */
let cluster: Cluster;
let db: pg.Pool;
let slug = "";
/** Redirects the clients saw succeed, across every test of this file. */
let served = 0;

const api = (method: string, path: string, body?: unknown) =>
  fetch(`${cluster.lbUrl}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${cluster.adminToken}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

async function countedInPostgres(): Promise<number> {
  const { rows } = await db.query("select count(*)::int as n from click_events where slug = $1", [slug]);
  return rows[0].n;
}

beforeAll(async () => {
  cluster = await startCluster({ prometheus: { scrapeInterval: "1s" } });
  db = new pg.Pool({ connectionString: cluster.databaseUrl, max: 2 });
  // The Postgres-outage test stops the server under the pool's idle connections.
  db.on("error", () => {});
  slug = `ha-${crypto.randomUUID().slice(0, 8)}`;
  const res = await api("POST", "/links", { url: "https://example.com/ha", slug });
  expect(res.status).toBe(201);
}, 120_000);
afterAll(async () => {
  await db?.end();
  await cluster?.close();
}, 60_000);

describe("self-hosted cluster", () => {
  it("loses no redirect when a replica is killed -9 under load", async () => {
    const load = runLoad({ url: `${cluster.lbUrl}/${slug}`, rate: 1500, seconds: 8 });
    await new Promise((r) => setTimeout(r, 3000));
    cluster.replicas[1]?.kill("SIGKILL");
    const result = await load;
    served += result.byStatus["302"] ?? 0;
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(Object.keys(result.byStatus)).toEqual(["302"]);
    expect(result.byStatus["302"]).toBeGreaterThan(8000);
    await cluster.replicas[1]?.start();
  }, 60_000);

  it("loses no request during a rolling restart of all three replicas", async () => {
    const load = runLoad({ url: `${cluster.lbUrl}/${slug}`, rate: 1000, seconds: 16 });
    const restart = await rollingRestart(cluster);
    const result = await load;
    served += result.byStatus["302"] ?? 0;
    expect(restart).toEqual({ replaced: 3, rolledBack: false });
    expect(result.errors).toBe(0);
    expect(Object.keys(result.byStatus)).toEqual(["302"]);
  }, 90_000);

  it("rolls a replica back when the new build fails its smoke test", async () => {
    // A build that answers every request with a constant 302 cannot create a link: the smoke test fails.
    const broken = fileURLToPath(new URL("../bench/constant-302.js", import.meta.url));
    const result = await rollingRestart(cluster, { bundlePath: broken, settleMs: 500 });
    expect(result).toEqual({ replaced: 0, rolledBack: true });
    const first = cluster.replicas[0] as NonNullable<(typeof cluster.replicas)[0]>;
    expect(await smokeTest(first, cluster.adminToken)).toBe(true);
  }, 60_000);

  it("counts every click served, exactly once, in Postgres", async () => {
    const counted = await eventually(async () => {
      const n = await countedInPostgres();
      return n >= served ? n : undefined;
    }, 60_000).catch(async () => countedInPostgres());
    expect(counted).toBe(served);
  }, 90_000);

  it("keeps redirecting while Redis is down, and recovers when it returns", async () => {
    await cluster.redis.stop();
    try {
      const result = await runLoad({ url: `${cluster.lbUrl}/${slug}`, rate: 200, seconds: 3 });
      served += result.byStatus["302"] ?? 0;
      expect(result.errors).toBe(0);
      expect(Object.keys(result.byStatus)).toEqual(["302"]);
    } finally {
      await cluster.redis.start();
    }
    await eventually(
      async () => ((await fetch(`${cluster.replicas[0]?.url}/ready`)).status === 200 ? true : undefined),
      20_000,
    );
  }, 60_000);

  it("keeps redirecting while Postgres is down; clicks wait in the stream and are counted once it returns", async () => {
    const postgres = cluster.postgres;
    if (!postgres) throw new Error("the cluster runs its own Postgres in this test");
    await postgres.stop();
    try {
      const result = await runLoad({ url: `${cluster.lbUrl}/${slug}`, rate: 300, seconds: 3 });
      served += result.byStatus["302"] ?? 0;
      expect(result.errors).toBe(0);
      expect(Object.keys(result.byStatus)).toEqual(["302"]);
      expect((await cluster.broker.stats()).pending + (await cluster.broker.stats()).backlog).toBeGreaterThan(
        0,
      );
    } finally {
      await postgres.start();
    }
    const counted = await eventually(async () => {
      const n = await countedInPostgres();
      return n >= served ? n : undefined;
    }, 90_000).catch(async () => countedInPostgres());
    expect(counted).toBe(served);
  }, 150_000);

  it("shows traffic in Prometheus and a pending replica-down alert when a replica dies", async () => {
    const prometheus = cluster.prometheus;
    if (!prometheus) throw new Error("prometheus was not started");
    const query = async (q: string) => {
      const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
      return body.data.result;
    };
    const total = 'sum(edge_requests_total{route="redirect",status="302"})';
    const before = Number((await query(total))[0]?.value[1] ?? 0);
    await runLoad({ url: `${cluster.lbUrl}/${slug}`, rate: 300, seconds: 2 }).then((r) => {
      served += r.byStatus["302"] ?? 0;
    });
    await eventually(
      async () => (Number((await query(total))[0]?.value[1] ?? 0) > before ? true : undefined),
      20_000,
    );

    cluster.replicas[2]?.kill("SIGKILL");
    try {
      const alerts = await eventually(async () => {
        const res = await fetch(`${prometheus.url}/api/v1/alerts`);
        const body = (await res.json()) as {
          data: { alerts: Array<{ labels: { alertname: string }; state: string }> };
        };
        const down = body.data.alerts.filter((a) => a.labels.alertname === "EdgeReplicaDown");
        return down.length ? down : undefined;
      }, 30_000);
      expect(alerts.map((a) => a.state)).toContain("pending");
    } finally {
      await cluster.replicas[2]?.start();
    }
  }, 90_000);
});
