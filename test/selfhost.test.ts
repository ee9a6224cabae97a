import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cluster } from "../selfhost/cluster";
import { rollingRestart, smokeTest } from "../selfhost/rolling-restart";
import { type LoadResult, runLoad } from "./load";
import { eventually } from "./stack";
import { startTestCluster } from "./test-cluster";

/**
 * The self-hosted topology, started for real: three workerd replicas behind nginx,
 * the aggregator behind the Redis Streams broker, Redis, Postgres, Prometheus.
 */
let cluster: Cluster;
let db: pg.Pool;

const api = (method: string, path: string, body?: unknown) =>
  fetch(`${cluster.lbUrl}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${cluster.adminToken}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** A link of its own per test, so each test's clicks are counted apart. */
async function newLink(prefix: string): Promise<string> {
  const slug = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  expect((await api("POST", "/links", { url: "https://example.com/ha", slug })).status).toBe(201);
  return slug;
}

/** Asserts a load got only redirects; returns how many the client saw. */
function expectAllRedirected(result: LoadResult): number {
  expect(result.errors).toBe(0);
  expect(result.timeouts).toBe(0);
  expect(Object.keys(result.byStatus)).toEqual(["302"]);
  return result.byStatus["302"] ?? 0;
}

async function countedInPostgres(slug: string): Promise<number> {
  const { rows } = await db.query("select count(*)::int as n from click_events where slug = $1", [slug]);
  return rows[0].n;
}

/** Postgres's count for `slug` once it has caught up with `served`, or when the time is up. */
const settledCount = (slug: string, served: number, timeoutMs: number) =>
  eventually(async () => {
    const n = await countedInPostgres(slug);
    return n >= served ? n : undefined;
  }, timeoutMs).catch(() => countedInPostgres(slug));

let close: () => Promise<void>;
beforeAll(async () => {
  ({ cluster, db, close } = await startTestCluster({ prometheus: { scrapeInterval: "1s" } }));
}, 120_000);
afterAll(() => close?.(), 60_000);

describe("self-hosted cluster", () => {
  it("loses no redirect when a replica is killed -9 under load, and counts no click twice", async () => {
    const slug = await newLink("kill");
    const load = runLoad({ url: `${cluster.lbUrl}/${slug}`, rate: 1500, seconds: 8 });
    await new Promise((r) => setTimeout(r, 3000));
    cluster.replicas[1]?.kill("SIGKILL");
    const served = expectAllRedirected(await load);
    expect(served).toBeGreaterThan(8000);
    await cluster.replicas[1]?.start();
    // A click is written to the replica's stdout pipe before its answer leaves, and the shipper reads the pipe after
    // the replica died, so none is lost. nginx's retries carry the request id, so a click written before the kill
    // is not counted again. (With a queue send per click, in flight at the kill, up to one click per busy connection
    // was lost.) The wait for the count is shorter than the test's own timeout, so a loss reaches the assertion.
    const counted = await settledCount(slug, served, 20_000);
    expect(counted).toBe(served);
  }, 90_000);

  it("gives each replica a FIFO for its click lines, not a socket, also a replica started again", async () => {
    // A socket pair (spawn's "pipe") cost a replica more per click line and blocked it sooner (services/click-pipe.ts).
    const restarted = cluster.replicas[2] as (typeof cluster.replicas)[number];
    const pidBefore = restarted.pid;
    await restarted.stop();
    await restarted.start();
    expect(restarted.pid).not.toBe(pidBefore);
    const kinds = cluster.replicas.map((r) => {
      const out = statSync(`/proc/${r.pid}/fd/1`);
      return { fifo: out.isFIFO(), socket: out.isSocket() };
    });
    expect(kinds).toEqual(cluster.replicas.map(() => ({ fifo: true, socket: false })));
  }, 30_000);

  it("writes batch after batch over one kept Postgres connection", async () => {
    const slug = await newLink("kept");
    const batches = async () => {
      const res = await fetch(`${cluster.aggregator.url}/metrics`, {
        headers: { Authorization: `Bearer ${cluster.secrets.metricsToken}` },
      });
      const text = await res.text();
      return [...text.matchAll(/^aggregator_batches_total\{outcome="[a-z]+"\} (\d+)$/gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
    };
    // Every Postgres connection of the cluster's workers goes through the WebSocket proxy.
    const before = { connections: cluster.wsProxy.requested, batches: await batches() };
    const served = expectAllRedirected(
      await runLoad({ url: `${cluster.lbUrl}/${slug}`, rate: 200, seconds: 3 }),
    );
    expect(await settledCount(slug, served, 30_000)).toBe(served);
    const written = (await batches()) - before.batches;
    expect(written).toBeGreaterThanOrEqual(3);
    // One connection per batch before the aggregator's ClickWriter kept them; at most the first one now.
    expect(cluster.wsProxy.requested - before.connections).toBeLessThanOrEqual(1);
  }, 60_000);

  it("loses no request and no click during a rolling restart of all three replicas", async () => {
    const slug = await newLink("roll");
    const load = runLoad({ url: `${cluster.lbUrl}/${slug}`, rate: 1000, seconds: 16 });
    const restart = await rollingRestart(cluster);
    const served = expectAllRedirected(await load);
    expect(restart).toEqual({ replaced: 3, rolledBack: false });
    expect(await settledCount(slug, served, 60_000)).toBe(served);
  }, 90_000);

  it("rolls a replica back when the new build fails its smoke test", async () => {
    // A build that answers every request with a constant 302 cannot create a link: the smoke test fails.
    const broken = fileURLToPath(new URL("../bench/constant-302.js", import.meta.url));
    const result = await rollingRestart(cluster, { bundlePath: broken, settleMs: 500 });
    expect(result).toEqual({ replaced: 0, rolledBack: true });
    const first = cluster.replicas[0] as NonNullable<(typeof cluster.replicas)[0]>;
    expect(await smokeTest(first, cluster.adminToken)).toBe(true);
  }, 60_000);

  it("keeps redirecting while Redis is down, and recovers when it returns", async () => {
    const slug = await newLink("noredis");
    let served = 0;
    await cluster.redis.stop();
    try {
      served = expectAllRedirected(await runLoad({ url: `${cluster.lbUrl}/${slug}`, rate: 200, seconds: 3 }));
    } finally {
      await cluster.redis.start();
    }
    expect(await settledCount(slug, served, 60_000)).toBe(served);
    await eventually(
      async () => ((await fetch(`${cluster.replicas[0]?.url}/ready`)).status === 200 ? true : undefined),
      20_000,
    );
  }, 60_000);

  it("keeps redirecting while Postgres is down; clicks wait in the stream and are counted once it returns", async () => {
    const postgres = cluster.postgres;
    if (!postgres) throw new Error("the cluster runs its own Postgres in this test");
    const slug = await newLink("nopg");
    let served = 0;
    await postgres.stop();
    try {
      served = expectAllRedirected(await runLoad({ url: `${cluster.lbUrl}/${slug}`, rate: 300, seconds: 3 }));
      // KV is the complete read model here (KV_MISS_FALLBACK=none): an unknown slug is a 404, not a 503.
      expect((await fetch(`${cluster.lbUrl}/never-${crypto.randomUUID().slice(0, 8)}`)).status).toBe(404);
      const waiting = await cluster.broker.stats();
      expect(waiting.pending + waiting.backlog).toBeGreaterThan(0);
    } finally {
      await postgres.start();
    }
    expect(await settledCount(slug, served, 90_000)).toBe(served);
  }, 150_000);

  it("shows traffic in Prometheus and a pending replica-down alert when a replica dies", async () => {
    const prometheus = cluster.prometheus;
    if (!prometheus) throw new Error("prometheus was not started");
    const query = async (q: string) => {
      const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`, {
        headers: { authorization: prometheus.authorization },
      });
      const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
      return body.data.result;
    };
    // Prometheus is an internal service too: its API answers only with the metrics token.
    expect((await fetch(`${prometheus.url}/api/v1/query?query=up`)).status).toBe(401);
    const wrong = `Basic ${Buffer.from("metrics:wrong").toString("base64")}`;
    expect(
      (await fetch(`${prometheus.url}/api/v1/query?query=up`, { headers: { authorization: wrong } })).status,
    ).toBe(401);
    const slug = await newLink("prom");
    const total = 'sum(edge_requests_total{route="redirect",status="302"})';
    const before = Number((await query(total))[0]?.value[1] ?? 0);
    expectAllRedirected(await runLoad({ url: `${cluster.lbUrl}/${slug}`, rate: 300, seconds: 2 }));
    await eventually(
      async () => (Number((await query(total))[0]?.value[1] ?? 0) > before ? true : undefined),
      20_000,
    );
    // Clicks leave as stdout lines, so workerd's /metrics cannot count them: the shippers' own target must be scraped.
    // Waits for shipped clicks only: one scrape brings every replica's series, so a missing replica then fails
    // the count below with its number (when the wait also required three, it could only time out).
    const shipped = await eventually(async () => {
      const rows = await query("edge_click_shipper_shipped_total");
      return rows.some((r) => Number(r.value[1]) > 0) ? rows : undefined;
    }, 20_000);
    expect(shipped).toHaveLength(3);

    // Stopped rather than killed: the runner would restart a killed replica before the alert could see it down.
    await cluster.replicas[2]?.stop();
    try {
      const alerts = await eventually(async () => {
        const res = await fetch(`${prometheus.url}/api/v1/alerts`, {
          headers: { authorization: prometheus.authorization },
        });
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
