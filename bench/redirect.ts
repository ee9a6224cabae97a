/**
 * `npm run bench`: redirect throughput and latency of the self-hosted cluster next to a
 * bare workerd worker that only answers a constant 302, measured in the same run.
 * Throughput: autocannon (closed loop, fixed connections and duration). Latency at an
 * offered rate: bench/paced-load.ts (open loop, evenly spaced; autocannon's -R sends in
 * bursts). Checks that every redirect answered became a stored click. Prints a table,
 * writes docs/benchmarks.md.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { startCluster } from "../selfhost/cluster";
import { freePort } from "../selfhost/services/free-port";
import { workerd } from "../selfhost/services/workerd";
import { V8_FLAGS } from "../selfhost/workerd-config";
import type { PacedResult } from "./paced-load";
import { machine, table, writeSection } from "./report";

const AUTOCANNON = fileURLToPath(new URL("../node_modules/.bin/autocannon", import.meta.url));
const PACED = fileURLToPath(new URL("paced-load.ts", import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const RAMP = (process.env.BENCH_RAMP ?? "1000,2000,3000,4000,6000,8000,10000").split(",").map(Number);

type Row = {
  name: string;
  offered: string;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  non3xx: number;
  redirects: number;
};

/**
 * One run of autocannon in a process of its own, so the load generator does not share
 * an event loop with the cluster's Node services (gateway, KV service, broker, proxy).
 */
function measure(name: string, url: string, rate?: number, seconds = SECONDS): Promise<Row> {
  process.stdout.write(`  ${name} (${rate ? `${rate} req/s offered` : "max"}, ${seconds}s)…\n`);
  const args = [
    "-j",
    "-c",
    String(CONNECTIONS),
    "-d",
    String(seconds),
    "-t",
    "10",
    "-H",
    "user-agent=Mozilla/5.0 bench",
  ];
  if (rate) args.push("-R", String(rate));
  return new Promise((resolve, reject) => {
    execFile(AUTOCANNON, [...args, url], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(err);
      const r = JSON.parse(stdout) as {
        requests: { average: number };
        latency: { p50: number; p97_5: number; p99: number };
        errors: number;
        timeouts: number;
        "1xx": number;
        "2xx": number;
        "4xx": number;
        "5xx": number;
      };
      resolve({
        name,
        offered: rate ? String(rate) : "max",
        rps: Math.round(r.requests.average),
        p50: r.latency.p50,
        p95: r.latency.p97_5,
        p99: r.latency.p99,
        errors: r.errors + r.timeouts,
        non3xx: r["1xx"] + r["2xx"] + r["4xx"] + r["5xx"],
        redirects: (r as unknown as { "3xx": number })["3xx"],
      });
    });
  });
}

/** One open-loop run at `rate` req/s (bench/paced-load.ts) in a process of its own. */
function paced(name: string, url: string, rate: number, seconds = 5): Promise<Row> {
  process.stdout.write(`  ${name} (${rate} req/s offered, paced, ${seconds}s)…\n`);
  const args = ["--import", "tsx", PACED, url, String(rate), String(seconds)];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(err);
      const r = JSON.parse(stdout) as PacedResult;
      const redirects = Object.entries(r.byStatus)
        .filter(([status]) => status.startsWith("3"))
        .reduce((n, [, count]) => n + count, 0);
      resolve({
        name,
        offered: String(rate),
        rps: r.rps,
        p50: r.latencyMs.p50,
        p95: r.latencyMs.p95,
        p99: r.latencyMs.p99,
        errors: r.errors + r.timeouts,
        non3xx: r.completed - redirects,
        redirects,
      });
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), "bench-"));
console.log("starting the self-hosted cluster and the constant-302 baseline…");
const cluster = await startCluster({
  dir: join(dir, "cluster"),
  vars: { RATE_LIMIT_API_PER_SECOND: "1000000" },
});
const basePort = await freePort();
const baseline = workerd({ configPath: join(dir, "baseline.capnp"), port: basePort });
baseline.configure(`using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = (modules = [ (name = "index.js", esModule = embed ${JSON.stringify(relative(dir, fileURLToPath(new URL("constant-302.js", import.meta.url))))}) ], compatibilityDate = "2026-04-20")) ],
  sockets = [ (name = "http", address = "127.0.0.1:${basePort}", http = (), service = "main") ],
  v8Flags = [ ${V8_FLAGS.map((f) => JSON.stringify(f)).join(", ")} ],
);`);
await baseline.start();

try {
  const slug = `bench-${crypto.randomUUID().slice(0, 8)}`;
  const created = await fetch(`${cluster.lbUrl}/api/v1/links`, {
    method: "POST",
    headers: { Authorization: `Bearer ${cluster.adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ url: "https://example.com/bench", slug }),
  });
  if (created.status !== 201) throw new Error(`could not create the bench link: ${created.status}`);
  const replica = cluster.replicas[0]?.url as string;
  const warm = await measure("warm-up", `${replica}/${slug}`, undefined, 2);

  const base = await measure("(a) baseline: constant 302, workerd", `${baseline.url}/`);
  const one = await measure("(b) one replica, direct", `${replica}/${slug}`);
  const lb = await measure("(c) three replicas through nginx", `${cluster.lbUrl}/${slug}`);
  const base2k = await paced("(a) baseline at 2k", `${baseline.url}/`, 2000);
  const one2k = await paced("(b) one replica at 2k", `${replica}/${slug}`, 2000);
  const ramp: Row[] = [];
  for (const rate of RAMP) ramp.push(await paced("(d) ramp through nginx", `${cluster.lbUrl}/${slug}`, rate));

  // Every redirect answered must become a stored click: wait for the broker to drain.
  const answered = [warm, one, lb, one2k, ...ramp].reduce((n, r) => n + r.redirects, 0);
  const stored = await storedClicks(cluster.databaseUrl, slug, answered);
  const sendFailures = await sumMetric(
    cluster.replicas.map((r) => r.url),
    "edge_queue_send_failures_total",
  );

  const fmt = (r: Row, ratio: boolean) => [
    r.name,
    r.offered,
    r.rps,
    r.p50,
    r.p95,
    r.p99,
    r.errors + r.non3xx,
    ratio ? (r.rps / base.rps).toFixed(2) : "",
  ];
  const head = ["run", "offered req/s", "req/s", "p50 ms", "p95 ms¹", "p99 ms", "errors", "× baseline"];
  const output = table(head, [
    ...[base, one, lb].map((r) => fmt(r, true)),
    ...[base2k, one2k, ...ramp].map((r) => fmt(r, false)),
  ]);
  const over10 = ramp.find((r) => r.p99 > 10);
  const short = ramp.find((r) => r.rps < Number(r.offered) * 0.95);
  const rampErrors = ramp.reduce((n, r) => n + r.errors + r.non3xx, 0);
  const clicks = `${stored} clicks stored for ${answered} redirects answered; ${sendFailures} click events the replicas could not queue (counted in edge_queue_send_failures_total)`;
  console.log(`\n${output}\n\n${clicks}\n`);
  writeSection(
    "redirect",
    `## Redirect path (${new Date().toISOString().slice(0, 10)})

Throughput rows: autocannon, ${SECONDS}s, ${CONNECTIONS} connections, in its own process on the same ${machine()}.
Rows at an offered rate: \`bench/paced-load.ts\`, open loop (request i is due at i/rate and its latency counts from
then), 5s each, 64 connections. The baseline is a workerd worker that returns a constant 302, with the same V8 flags;
(b)–(d) run the real edge worker bundle (link record from the isolate cache, one click event per redirect to the Redis Streams
broker in waitUntil, metrics) while the broker, the aggregator, Redis and Postgres ingest the clicks on the
same cores. ¹ p97.5 for the autocannon rows.

${output}

One replica reaches **${(one.rps / base.rps).toFixed(2)}×** the constant-302 baseline; three replicas through nginx
**${(lb.rps / base.rps).toFixed(2)}×** (all on the same two cores as the load generator, so more replicas cannot add
throughput here). At 2k req/s offered, p99 is **${one2k.p99} ms** for one replica against ${base2k.p99} ms for the
baseline. The ramp through nginx had ${rampErrors} errors; ${over10 ? `p99 is above 10 ms from ${over10.offered} req/s offered (${over10.p99} ms)` : "p99 stayed under 10 ms"}, and ${short ? `throughput falls short of the offered rate from ${short.offered} req/s (${short.rps} served)` : "every step was served at its offered rate"}.
Clicks: ${clicks}.`,
  );
} finally {
  await baseline.stop();
  await cluster.close();
  rmSync(dir, { recursive: true, force: true });
}

/** Waits until the clicks of `slug` stop growing (or reach `expected`), and returns their count. */
async function storedClicks(databaseUrl: string, slug: string, expected: number): Promise<number> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    let last = -1;
    for (let quiet = 0; quiet < 5; ) {
      await new Promise((r) => setTimeout(r, 1000));
      const { rows } = await db.query("select count(*)::int as n from click_events where slug = $1", [slug]);
      const n = rows[0].n as number;
      if (n >= expected) return n;
      quiet = n === last ? quiet + 1 : 0;
      last = n;
    }
    return last;
  } finally {
    await db.end();
  }
}

/** The sum of an unlabelled counter over the replicas' /metrics. */
async function sumMetric(urls: string[], name: string): Promise<number> {
  let sum = 0;
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    sum += Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
  }
  return sum;
}
