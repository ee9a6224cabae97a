import { createServer, request, type Server } from "node:http";
import IORedis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KvService, startKvService } from "../selfhost/kv-service";
import { SNAPSHOT_PAGE_SIZE } from "../selfhost/kv-service/change-log";
import { freePort } from "../selfhost/services/free-port";
import { replicaProbe } from "./replica-probe";
import { eventually } from "./stack";
import { startTestCluster } from "./test-cluster";

/**
 * The replicas' index of KV keys with as many links as a real deployment (issue 19): 200,000 links written
 * straight into Redis (as the KV service stores them; not through the API, to keep the test fast), loaded by a
 * KV service started on them. Between the replicas and that service sits a pass-through proxy of this test,
 * which counts the feed's pages and writes into the service while a reload's pages are being read.
 */

const LINKS = 200_000;
const bulkKey = (n: number) => `link:bulk${String(n).padStart(6, "0")}`;
const target = (key: string) => `https://example.com/${key.slice("link:".length)}`;
const record = (key: string) => JSON.stringify({ v: 1, id: 1, u: target(key) });

let env: Awaited<ReturnType<typeof startTestCluster>>;
let kv: KvService;
let proxy: FeedProxy;

beforeAll(async () => {
  const kvPort = await freePort();
  env = await startTestCluster({ replicas: 2, ports: { kv: kvPort } });
  await env.cluster.kv.close();
  const redis = new IORedis(env.cluster.redis.url);
  try {
    for (let from = 0; from < LINKS; from += 10_000) {
      const batch = redis.pipeline();
      for (let n = from; n < from + 10_000; n++) batch.hset(`kv:${bulkKey(n)}`, "v", record(bulkKey(n)));
      await batch.exec();
    }
  } finally {
    redis.disconnect();
  }
  kv = await startKv();
  proxy = await startFeedProxy(kvPort, kv.port);
}, 240_000);
afterAll(async () => {
  await proxy?.close();
  await kv?.close();
  await env?.close();
}, 60_000);

const startKv = () =>
  startKvService({ redisUrl: env.cluster.redis.url, token: env.cluster.secrets.internalToken });
const { visit, metric, absent, floodNeverSeen } = replicaProbe(() => env.cluster);

/** Lookups of keys the replica's index did not hold: 404 unread, or read within the small budget. */
const absentLookups = async (i: number) => {
  const { skipped, read } = await absent(i);
  return skipped + read;
};

/** Visits until the replica's index holds as many keys as the KV service (a reload is done). */
async function untilReloaded(i: number) {
  await eventually(async () => {
    await visit(i, `warm-${crypto.randomUUID().slice(0, 8)}`);
    return (await metric(i, "edge_kv_index_keys")) === kv.records.keys("").length ? true : undefined;
  }, 60_000);
}

/** Every `LINKS / count`-th bulk key redirects, each known to the index (not found by a budgeted read). */
async function expectSampleRedirects(i: number, count: number) {
  const before = await absentLookups(i);
  for (let n = 0; n < LINKS; n += LINKS / count) {
    const key = bulkKey(n);
    if (!kv.records.get(key)) continue;
    const res = await visit(i, key.slice("link:".length));
    expect([res.status, res.headers.get("location")], key).toEqual([302, target(key)]);
  }
  expect(await absentLookups(i)).toBe(before);
}

describe("the replicas' index of KV keys at 200,000 links", () => {
  it("loads every key into a fresh isolate in pages, losing no write or delete made while they are read", async () => {
    expect(kv.records.keys("").length).toBeGreaterThanOrEqual(LINKS);
    // Replica 1 has not looked up a link yet: its index is empty until its first pull.
    expect(await metric(1, 'edge_kv_index_pulls_total{outcome="ok"}')).toBe(0);
    const midReload = { written: "link:mid-written", deletedRead: "", deletedUnread: "" };
    proxy.beforeSecondPage = async (firstPage) => {
      midReload.deletedRead = firstPage[0] ?? "";
      const unread = new Set(firstPage);
      midReload.deletedUnread = [...Array(LINKS).keys()].map(bulkKey).find((k) => !unread.has(k)) ?? "";
      await kv.records.put(midReload.written, record(midReload.written));
      await kv.records.delete(midReload.deletedRead);
      await kv.records.delete(midReload.deletedUnread);
    };
    await untilReloaded(1);

    // Paged: every key once, in pages of at most SNAPSHOT_PAGE_SIZE.
    const pages = proxy.snapshotPages;
    expect(pages.length).toBeGreaterThanOrEqual(LINKS / SNAPSHOT_PAGE_SIZE);
    expect(Math.max(...pages.map((p) => p.keys))).toBe(SNAPSHOT_PAGE_SIZE);
    // One snapshot, taken before the write and the deletes.
    expect(pages.reduce((sum, p) => sum + p.keys, 0)).toBe(kv.records.keys("").length - 1 + 2);
    expect(midReload.deletedRead).not.toBe("");

    await expectSampleRedirects(1, 200);
    const before = await absentLookups(1);
    const written = await visit(1, midReload.written.slice("link:".length));
    expect(written.headers.get("location")).toBe(target(midReload.written));
    // Known to the index: no lookup of an absent key.
    expect(await absentLookups(1)).toBe(before);
    for (const gone of [midReload.deletedRead, midReload.deletedUnread]) {
      expect((await visit(1, gone.slice("link:".length))).status).toBe(404);
    }
    expect(await absentLookups(1)).toBe(before + 2);
  }, 180_000);

  it("answers never-seen slugs 404 from the index, past a small budget of KV reads", async () => {
    const reads = proxy.kvReads;
    const { statuses, skipped: unread, read: budgeted } = await floodNeverSeen(1, 5);
    expect(new Set(statuses)).toEqual(new Set([404]));
    expect(unread + budgeted).toBe(100);
    expect(unread).toBeGreaterThan(budgeted);
    // The KV service saw only the budgeted reads.
    expect(proxy.kvReads - reads).toBe(budgeted);
  }, 60_000);

  it("reloads every key after a restart of the KV service", async () => {
    await kv.close();
    kv = await startKv();
    proxy.target = kv.port;
    // Written straight into the new service: the replicas learn of it only from its snapshot.
    await kv.records.put("link:only-in-new", record("link:only-in-new"));
    for (const i of [0, 1]) {
      await untilReloaded(i);
      const before = await absentLookups(i);
      expect((await visit(i, "only-in-new")).headers.get("location")).toBe(target("link:only-in-new"));
      expect(await absentLookups(i)).toBe(before);
      await expectSampleRedirects(i, 50);
    }
  }, 180_000);
});

type FeedProxy = {
  /** The KV service's port requests go to. */
  target: number;
  /** Pages of snapshots answered: keys and bytes of each. */
  snapshotPages: Array<{ keys: number; bytes: number }>;
  /** KV reads of a link (`GET /link:…`) passed on. */
  kvReads: number;
  /** Runs once, before the first request for a second snapshot page is passed on, with the first page's keys. */
  beforeSecondPage?: (firstPage: string[]) => Promise<void>;
  close(): Promise<void>;
};

/** A pass-through HTTP proxy on `port` in front of the KV service, watching the feed. */
async function startFeedProxy(port: number, target: number): Promise<FeedProxy> {
  let firstPage: string[] = [];
  const state: FeedProxy = {
    target,
    snapshotPages: [],
    kvReads: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://kv");
    const offset = Number(url.searchParams.get("offset") ?? 0);
    if (decodeURIComponent(url.pathname).startsWith("/link:") && req.method === "GET") state.kvReads += 1;
    if (offset > 0 && state.beforeSecondPage) {
      const hook = state.beforeSecondPage;
      state.beforeSecondPage = undefined;
      await hook(firstPage);
    }
    const upstream = request(
      { port: state.target, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (c: Buffer) => chunks.push(c));
        answer.on("end", () => {
          const body = Buffer.concat(chunks);
          if (url.searchParams.has("changes_since") && answer.statusCode === 200) {
            const page = JSON.parse(body.toString()) as { full: boolean; offset: number; keys?: string[] };
            if (page.full) {
              state.snapshotPages.push({ keys: page.keys?.length ?? 0, bytes: body.length });
              if (page.offset === 0) firstPage = page.keys ?? [];
            }
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers).end(body);
        });
      },
    );
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return state;
}
