import { readFileSync } from "node:fs";
import { join } from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cluster } from "../selfhost/cluster";
import { eventually } from "./stack";
import { startTestCluster } from "./test-cluster";

/**
 * The runner's supervision, on the real topology: processes killed with SIGKILL come
 * back by themselves. Bound: the first restart waits 0.5 s and workerd needs 1–3 s to
 * listen on this loaded two-core machine, so 10 s leaves room without hiding a hang.
 */
let cluster: Cluster;
let db: pg.Pool;

let close: () => Promise<void>;
beforeAll(async () => {
  ({ cluster, db, close } = await startTestCluster({ replicas: 2, prometheus: {} }));
}, 120_000);
afterAll(() => close?.(), 60_000);

const restarts = async (process: string): Promise<number> => {
  const res = await fetch(`http://127.0.0.1:${cluster.shipperMetrics.port}/metrics`, {
    headers: { Authorization: `Bearer ${cluster.secrets.metricsToken}` },
  });
  const line = (await res.text())
    .split("\n")
    .find((l) => l.startsWith(`selfhost_process_restarts_total{process="${process}"}`));
  return Number(line?.split(" ")[1]);
};
const answers = async (url: string, headers: Record<string, string> = {}) => {
  try {
    return (await fetch(url, { headers })).status === 200 ? true : undefined;
  } catch {
    return undefined;
  }
};

describe("supervision", () => {
  it("brings a replica killed with -9 back, serving, within 10 s, and counts the restart", async () => {
    const replica = cluster.replicas[1] as Cluster["replicas"][number];
    const before = replica.pid;
    const killedAt = Date.now();
    replica.kill("SIGKILL");
    await eventually(
      async () => (replica.pid !== before ? answers(`${replica.url}/ready`) : undefined),
      10_000,
    );
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(await restarts("edge-2")).toBe(1);
  }, 30_000);

  it("brings the aggregator back after kill -9 and counts every click sent while it was down", async () => {
    const slug = `agg-${crypto.randomUUID().slice(0, 8)}`;
    const create = await fetch(`${cluster.lbUrl}/api/v1/links`, {
      method: "POST",
      headers: { Authorization: `Bearer ${cluster.adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ url: "https://example.com/agg", slug }),
    });
    expect(create.status, await create.clone().text()).toBe(201);
    cluster.aggregator.kill("SIGKILL");
    let served = 0;
    let sentWhileDown = 0;
    // Clicks in rounds until the aggregator answers again; the first round goes out before any restart.
    for (let back = false; !back; ) {
      const down = !(await answers(`${cluster.aggregator.url}/health`));
      const statuses = await Promise.all(
        Array.from({ length: 20 }, () =>
          fetch(`${cluster.lbUrl}/${slug}`, { redirect: "manual" }).then((r) => r.status),
        ),
      );
      served += statuses.filter((s) => s === 302).length;
      if (down) sentWhileDown += statuses.length;
      back = !down;
      expect(statuses.every((s) => s === 302)).toBe(true);
    }
    expect(sentWhileDown).toBeGreaterThan(0);
    const counted = await eventually(async () => {
      const { rows } = await db.query("select count(*)::int as n from click_events where slug = $1", [slug]);
      return rows[0].n >= served ? rows[0].n : undefined;
    }, 30_000).catch(() => -1);
    expect(counted).toBe(served);
    expect(await restarts("aggregator")).toBe(1);
  }, 60_000);

  it("brings nginx, Redis, Postgres and Prometheus back after kill -9", async () => {
    const nginxPid = cluster.nginx.pid;
    process.kill(nginxPid as number, "SIGKILL");
    await eventually(
      async () => (cluster.nginx.pid !== nginxPid ? answers(`${cluster.lbUrl}/health`) : undefined),
      10_000,
    );

    process.kill(cluster.redis.pid as number, "SIGKILL");
    const postmaster = Number(
      readFileSync(join(cluster.dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0],
    );
    process.kill(postmaster, "SIGKILL");
    // A link is written to Postgres and then to the KV service; its redirect counts in Redis (a click limit).
    const created = await eventually(async () => {
      const res = await fetch(`${cluster.lbUrl}/api/v1/links`, {
        method: "POST",
        headers: { Authorization: `Bearer ${cluster.adminToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({ url: "https://example.com/back", maxClicks: 5 }),
      });
      return res.status === 201 ? ((await res.json()) as { slug: string }) : undefined;
    }, 30_000);
    expect((await fetch(`${cluster.lbUrl}/${created.slug}`, { redirect: "manual" })).status).toBe(302);
    expect(await restarts("nginx")).toBe(1);
    expect(await restarts("redis")).toBe(1);
    expect(await restarts("postgres")).toBeGreaterThanOrEqual(1);

    const prometheus = cluster.prometheus as NonNullable<Cluster["prometheus"]>;
    const prometheusPid = prometheus.pid;
    process.kill(prometheusPid as number, "SIGKILL");
    await eventually(
      async () =>
        prometheus.pid !== prometheusPid
          ? answers(`${prometheus.url}/-/ready`, { authorization: prometheus.authorization })
          : undefined,
      30_000,
    );
    expect(await restarts("prometheus")).toBe(1);
  }, 90_000);
});
