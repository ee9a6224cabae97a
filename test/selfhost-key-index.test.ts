import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KvService, startKvService } from "../selfhost/kv-service";
import { freePort } from "../selfhost/services/free-port";
import { replicaProbe } from "./replica-probe";
import { eventually } from "./stack";
import { startTestCluster } from "./test-cluster";

/**
 * The replicas' index of KV keys (issue 19): a never-seen slug is answered 404 from the isolate's memory,
 * a link created through one replica redirects at once on the other, a deleted one is 404 on both, and the
 * index follows a KV service that restarted (a new epoch: every key sent again).
 */

let env: Awaited<ReturnType<typeof startTestCluster>>;
let kvPort: number;
let restartedKv: KvService | undefined;

beforeAll(async () => {
  kvPort = await freePort();
  env = await startTestCluster({ replicas: 2, ports: { kv: kvPort } });
  // The first request of an isolate starts its first pull; wait until both have one.
  for (const i of [0, 1]) {
    await eventually(async () => {
      await visit(i, `warm-${crypto.randomUUID().slice(0, 8)}`);
      return (await metric(i, 'edge_kv_index_pulls_total{outcome="ok"}')) > 0 ? true : undefined;
    }, 30_000);
  }
}, 180_000);
afterAll(async () => {
  await restartedKv?.close();
  await env?.close();
}, 60_000);

const { url: replicaUrl, visit, metric, absent, floodNeverSeen } = replicaProbe(() => env.cluster);
const admin = () => ({
  Authorization: `Bearer ${env.cluster.adminToken}`,
  "Content-Type": "application/json",
});

const createLink = (i: number, slug: string) =>
  fetch(`${replicaUrl(i)}/api/v1/links`, {
    method: "POST",
    headers: admin(),
    body: JSON.stringify({ url: `https://example.com/${slug}`, slug }),
  });

describe("the replicas' index of KV keys", () => {
  it("redirects a link created through one replica at once on the other; deleted, it is 404 on both", async () => {
    const slug = `idx-${crypto.randomUUID().slice(0, 8)}`;
    const created = await createLink(0, slug);
    expect(created.status).toBe(201);
    const other = await visit(1, slug);
    expect(other.status).toBe(302);
    expect(other.headers.get("location")).toBe(`https://example.com/${slug}`);
    expect((await visit(0, slug)).status).toBe(302);

    const deleted = await fetch(`${replicaUrl(1)}/api/v1/links/${slug}`, {
      method: "DELETE",
      headers: admin(),
    });
    expect(deleted.status).toBe(204);
    expect((await visit(1, slug)).status).toBe(404);
    // Replica 0 may serve its own cached copy for LINK_CACHE_SECONDS, as before the index.
    await eventually(async () => ((await visit(0, slug)).status === 404 ? true : undefined));
  });

  it("answers never-seen slugs 404 from the index, past a small budget of KV reads", async () => {
    const { statuses, skipped, read } = await floodNeverSeen(0, 10);
    expect(new Set(statuses)).toEqual(new Set([404]));
    // Every one was known absent by the index; only the budget's few were read from KV.
    expect(skipped + read).toBe(200);
    expect(skipped).toBeGreaterThan(read);
  });

  it("follows a restarted KV service: sent every key again, it answers from the index once more", async () => {
    await env.cluster.kv.close();
    restartedKv = await startKvService({
      redisUrl: env.cluster.redis.url,
      token: env.cluster.secrets.internalToken,
      port: kvPort,
    });
    const kv = restartedKv;
    // Written straight into the new service: the replicas learn of it only from the feed.
    await kv.records.put(
      "link:only-in-feed",
      JSON.stringify({ v: 1, id: 999_999, u: "https://example.com/feed" }),
    );
    for (const i of [0, 1]) {
      await eventually(async () => {
        await visit(i, `after-${crypto.randomUUID().slice(0, 8)}`);
        return (await metric(i, "edge_kv_index_keys")) === kv.records.keys("").length ? true : undefined;
      }, 30_000);
      expect((await visit(i, "only-in-feed")).headers.get("location")).toBe("https://example.com/feed");
    }
    const slug = `idx2-${crypto.randomUUID().slice(0, 8)}`;
    expect((await createLink(1, slug)).status).toBe(201);
    expect((await visit(0, slug)).status).toBe(302);
    const before = await absent(1);
    expect((await visit(1, `never-${crypto.randomUUID().slice(0, 12)}`)).status).toBe(404);
    const after = await absent(1);
    expect(after.skipped + after.read).toBe(before.skipped + before.read + 1);
  });
});
