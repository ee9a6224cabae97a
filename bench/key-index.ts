/**
 * `npm run bench:key-index`: the self-hosted edge's index of KV keys (docs/decisions.md, "Redirects": the index of KV keys)
 * at a real deployment's size. On the one-replica setup of `npm run bench:ab` (the replica alone on core 0 when
 * the machine allows pinning), three KV services hold a handful, 200,000 and 1,000,000 links (written straight
 * into Redis, one database each), and a TCP proxy of this script on the replicas' KV port sends the replica to one
 * of them at a time (a switch is, to the replica, a restart of its KV service: a new epoch, a full reload).
 *
 * Measures, and prints as Markdown tables:
 * - a snapshot page's size and cost at several page sizes (in this process: the KV service's side, and the
 *   parse and set-building an isolate does with it);
 * - a fresh isolate's full reload at each size: wall time, the replica's CPU, this process's CPU (the KV service,
 *   the proxy), and the replica's resident memory before and after, hence bytes per key;
 * - the replica's CPU per redirect and per 404 (a never-seen slug each request) with 200,000 keys in the index
 *   against a handful, alternated over BENCH_KEY_INDEX_ROUNDS rounds (default 3).
 *
 * BENCH_KEY_INDEX_AB_ONLY=1: only the last. BENCH_SECONDS (default 5 here), BENCH_CONNECTIONS (32).
 */
import { readFileSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { loadavg } from "node:os";
import { join } from "node:path";
import { feedAsk, KeyIndex } from "@shared/kv-key-index";
import IORedis from "ioredis";
import { buildWorkers } from "../scripts/build-workers";
import { type Replica, startCluster } from "../selfhost/cluster";
import { type KvService, startKvService } from "../selfhost/kv-service";
import { ChangeLog } from "../selfhost/kv-service/change-log";
import { freePort } from "../selfhost/services/free-port";
import { benchDir } from "./bench-dir";
import { allCpus, canPin, pin, processTree, restartPinned } from "./cpu-pinning";
import { cpuSeconds, withCpu } from "./cpu-time";
import { createLink } from "./links";
import { measure, NEW_SLUG_EACH_REQUEST } from "./load-runs";
import { machine, median, table } from "./report";

const ROUNDS = Math.max(1, Number(process.env.BENCH_KEY_INDEX_ROUNDS ?? 3));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** Only the A/B of CPU per request (no page costs, no reloads, no million links). */
const AB_ONLY = process.env.BENCH_KEY_INDEX_AB_ONLY === "1";
const SIZES = AB_ONLY ? [200_000] : [200_000, 1_000_000];
const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** A key shaped like the service's own links: `link:` and 7 random base62 characters. */
const randomKey = () =>
  `link:${Array.from({ length: 7 }, () => ALPHABET[(Math.random() * 62) | 0]).join("")}`;

const rssKiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
const ms = (from: number) => Math.round(performance.now() - from);

console.log(machine());
if (!AB_ONLY) pagesInProcess();

const dir = benchDir("bench-key-index-");
const kvPort = await freePort();
const built = buildWorkers(join(dir, "b"));
const cluster = await startCluster({
  dir: join(dir, "cluster"),
  replicas: 1,
  durability: "off-for-tests",
  vars: { RATE_LIMIT_API_PER_SECOND: "1000000" },
  bundles: built,
  ports: { kv: kvPort },
});
const pinned = canPin();
const services: KvService[] = [];
try {
  const replica = cluster.replicas[0] as Replica;
  const slug = await createLink(cluster, "bench-idx");
  const linkRecord = cluster.kv.records.get(`link:${slug}`) as string;
  await cluster.kv.close();

  const kvOf = new Map<number, KvService>();
  const start = (db: number) =>
    startKvService({ redisUrl: `${cluster.redis.url}/${db}`, token: cluster.secrets.internalToken });
  const small = await start(0);
  services.push(small);
  kvOf.set(small.records.keys("").length, small);
  for (const [i, size] of SIZES.entries()) {
    await seed(`${cluster.redis.url}/${i + 1}`, size);
    const t = performance.now();
    const kv = await start(i + 1);
    console.log(`KV service loaded ${size} links from Redis in ${ms(t)} ms`);
    await kv.records.put(`link:${slug}`, linkRecord);
    services.push(kv);
    kvOf.set(size + 1, kv);
  }
  const proxy = await tcpProxy(kvPort, small.port);

  const restart = () => restartPinned(replica, pinned);
  const metric = async (series: string) => {
    const res = await fetch(`${replica.url}/metrics`, {
      headers: { Authorization: `Bearer ${cluster.secrets.metricsToken}` },
    });
    if (!res.ok) throw new Error(`metrics answered ${res.status}`);
    const line = (await res.text()).split("\n").find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };
  /** Switches to `kv` and restarts the replica; its first request starts a reload, awaited here and measured. */
  const reloadFrom = async (kv: KvService) => {
    proxy.switchTo(kv.port);
    await restart();
    await new Promise((r) => setTimeout(r, 1000));
    const pid = replica.pid as number;
    const rssBefore = rssKiB(pid);
    const cpu = { replica: cpuSeconds([pid]), runner: process.cpuUsage() };
    const t = performance.now();
    await fetch(`${replica.url}/${slug}`, { redirect: "manual" });
    const keys = kv.records.keys("").length;
    const deadline = Date.now() + 120_000;
    while ((await metric("edge_kv_index_keys")) !== keys) {
      if (Date.now() > deadline) throw new Error(`the replica's index did not reach ${keys} keys in 120 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const wall = ms(t);
    const replicaCpu = cpuSeconds([pid]) - cpu.replica;
    const runner = process.cpuUsage(cpu.runner);
    await measure("settle", `${replica.url}/${slug}`, undefined, 2);
    await new Promise((r) => setTimeout(r, 2000));
    return {
      keys,
      wall,
      replicaCpu,
      runnerCpu: (runner.user + runner.system) / 1e6,
      rssBefore,
      rssAfter: rssKiB(pid),
    };
  };

  console.log("\nfull reloads of a fresh isolate:");
  const reloads: Array<Awaited<ReturnType<typeof reloadFrom>>> = [];
  for (const [, kv] of AB_ONLY ? [] : [...kvOf.entries()].sort(([a], [b]) => a - b)) {
    const r = await reloadFrom(kv);
    console.log(JSON.stringify(r));
    reloads.push(r);
  }
  if (reloads.length > 0) printReloads(reloads);

  console.log(`\nCPU per request, 200,000 keys in the index (B) against a handful (A), ${ROUNDS} rounds:`);
  const large = kvOf.get(200_001) as KvService;
  const results: Record<"A" | "B", { redirect: number[]; notFound: number[]; rps: number[] }> = {
    A: { redirect: [], notFound: [], rps: [] },
    B: { redirect: [], notFound: [], rps: [] },
  };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const side of ["A", "B"] as const) {
      await reloadFrom(side === "A" ? small : large);
      const pid = replica.pid as number;
      await measure("warm-up", `${replica.url}/${slug}`, undefined, 2);
      const perRequest = async (name: string, url: string) => {
        const { result: row, cpu } = await withCpu([pid], () => measure(name, url, undefined, SECONDS));
        return { row, us: (cpu * 1e6) / (row.redirects + row.non3xx) };
      };
      const redirect = await perRequest(`${side} redirect, round ${round}`, `${replica.url}/${slug}`);
      const notFound = await perRequest(
        `${side} 404, round ${round}`,
        `${replica.url}/${NEW_SLUG_EACH_REQUEST}`,
      );
      if (redirect.row.redirects === 0 || notFound.row.notFound === 0) throw new Error("wrong answers");
      results[side].redirect.push(redirect.us);
      results[side].notFound.push(notFound.us);
      results[side].rps.push(redirect.row.rps);
      console.log(
        `  ${side}: ${redirect.us.toFixed(0)} µs per redirect, ${notFound.us.toFixed(0)} µs per 404 (load ${loadavg()[0]?.toFixed(1)})`,
      );
    }
  }
  const spread = (xs: number[]) =>
    `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
  const ratio = (k: "redirect" | "notFound") => results.B[k].map((b, i) => b / (results.A[k][i] as number));
  const ratioSpread = (xs: number[]) =>
    `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;
  console.log(
    table(
      ["", "A: a handful of keys", "B: 200,000 keys", "B/A per round"],
      [
        [
          "replica CPU-µs per redirect",
          spread(results.A.redirect),
          spread(results.B.redirect),
          ratioSpread(ratio("redirect")),
        ],
        [
          "replica CPU-µs per 404",
          spread(results.A.notFound),
          spread(results.B.notFound),
          ratioSpread(ratio("notFound")),
        ],
      ],
    ),
  );
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}; pinned: ${pinned}`,
  );
  await proxy.close();
} finally {
  if (pinned) pin(processTree(process.pid), allCpus());
  for (const kv of services) await kv.close();
  await cluster.close();
  rmSync(dir, { recursive: true, force: true });
}

/** `size` links written straight into the Redis database at `url`, as the KV service stores them. */
async function seed(url: string, size: number): Promise<void> {
  const redis = new IORedis(url);
  try {
    await redis.flushdb();
    for (let from = 0; from < size; from += 10_000) {
      const batch = redis.pipeline();
      for (let n = from; n < Math.min(size, from + 10_000); n++) {
        const key = randomKey();
        batch.hset(
          `kv:${key}`,
          "v",
          JSON.stringify({ v: 1, id: n + 1, u: `https://example.com/${key.slice(5)}` }),
        );
      }
      await batch.exec();
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * What a snapshot page costs at several page sizes, over a million keys: the KV service's side (slice and
 * JSON) and the isolate's (JSON.parse and adding to a Set), in this process's V8.
 */
function pagesInProcess(): void {
  const keys = Array.from({ length: 1_000_000 }, randomKey);
  const rows: Array<Array<string | number>> = [];
  for (const size of [5_000, 10_000, 20_000, 50_000, 100_000, 1_000_000]) {
    const log = new ChangeLog(10_000, size);
    let bytes = 0;
    const serve: number[] = [];
    const apply: number[] = [];
    const index = new KeyIndex();
    let query = new URLSearchParams(index.feedQuery());
    do {
      const t0 = performance.now();
      const body = JSON.stringify(log.page(feedAsk(query), () => keys));
      const t1 = performance.now();
      index.apply(JSON.parse(body));
      const t2 = performance.now();
      serve.push(t1 - t0);
      apply.push(t2 - t1);
      bytes = Math.max(bytes, body.length);
      query = new URLSearchParams(index.feedQuery());
    } while (index.reloading);
    // The last read is the (empty) changes since the snapshot.
    serve.pop();
    apply.pop();
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const f = (x: number) => x.toFixed(1);
    rows.push([
      size,
      serve.length,
      Math.round(bytes / 1024),
      `${f(median(serve))} / ${f(Math.max(...serve))} / ${f(sum(serve))}`,
      `${f(median(apply))} / ${f(Math.max(...apply))} / ${f(sum(apply))}`,
    ]);
  }
  console.log("\nsnapshot pages over 1,000,000 keys (this process's V8):");
  console.log(
    table(
      [
        "keys per page",
        "pages",
        "largest page KiB",
        "KV service ms per page (slice, JSON): median / max / total",
        "isolate ms per page (parse, add to the index): median / max / total",
      ],
      rows,
    ),
  );
}

/** A TCP proxy on `port` to `target` on 127.0.0.1; `switchTo` cuts every connection and sends new ones elsewhere. */
async function tcpProxy(port: number, target: number) {
  let to = target;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(to, "127.0.0.1");
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("close", () => open.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    switchTo(next: number) {
      to = next;
      for (const s of open) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The reloads as a table; bytes per key from the replica's resident memory, less what the handful's reload grew. */
function printReloads(
  reloads: Array<{
    keys: number;
    wall: number;
    replicaCpu: number;
    runnerCpu: number;
    rssBefore: number;
    rssAfter: number;
  }>,
): void {
  const base = reloads[0] as (typeof reloads)[number];
  const baseGrowth = base.rssAfter - base.rssBefore;
  console.log(
    table(
      [
        "keys",
        "reload wall ms",
        "replica CPU ms",
        "runner CPU ms (KV service, proxy)",
        "replica RSS before → after (MiB)",
        "bytes per key (growth less the handful's)",
      ],
      reloads.map((r) => [
        r.keys,
        r.wall,
        Math.round(r.replicaCpu * 1000),
        Math.round(r.runnerCpu * 1000),
        `${(r.rssBefore / 1024).toFixed(0)} → ${(r.rssAfter / 1024).toFixed(0)}`,
        r === base ? "" : (((r.rssAfter - r.rssBefore - baseGrowth) * 1024) / r.keys).toFixed(0),
      ]),
    ),
  );
}
