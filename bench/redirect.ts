/**
 * `npm run bench`: redirect throughput and latency of the self-hosted cluster next to a
 * bare workerd worker that only answers a constant 302, measured in the same run.
 * Throughput: autocannon (closed loop, fixed connections and duration). Latency at an
 * offered rate: bench/paced-load.ts (open loop, evenly spaced; autocannon's -R sends in
 * bursts). Checks that every redirect answered became a stored click. Prints a table,
 * writes docs/benchmarks.md.
 */
import { rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { startCluster } from "../selfhost/cluster";
import { freePort } from "../selfhost/services/free-port";
import { workerd } from "../selfhost/services/workerd";
import { COMPATIBILITY_DATE, V8_FLAGS } from "../selfhost/workerd-config";
import { accountedRun, accountingSection } from "./accounting";
import { benchDir } from "./bench-dir";
import { groupSeconds } from "./cpu-groups";
import { allCpus, canPin, pin, processTree } from "./cpu-pinning";
import { withCpu } from "./cpu-time";
import { createLink } from "./links";
import { CONNECTIONS, measure, paced, type Row, SECONDS } from "./load-runs";
import { machine, table, writeSection } from "./report";
import {
  type EdgeRun,
  probedFlood,
  unknownSlugRun,
  unknownSlugSection,
  unknownSlugUrl,
} from "./unknown-slugs";

/**
 * BENCH_QUICK=1: only the baseline, one replica (real link and never-seen slugs) and the CPU
 * accounting (e); of the docs, only the CPU section is written.
 */
const QUICK = process.env.BENCH_QUICK === "1";
/** Redirects of the accounted run (e): a fixed count, so that every answer is counted. */
const ACCOUNTED_REQUESTS = Number(process.env.BENCH_ACCOUNTED_REQUESTS ?? 40_000);
const RAMP = (process.env.BENCH_RAMP ?? "1000,2000,3000,4000,6000,8000,10000").split(",").map(Number);

const dir = benchDir("bench-");
console.log("starting the self-hosted cluster and the constant-302 baseline…");
console.log("Postgres runs at stock durability (fsync, synchronous_commit and full_page_writes on)");
const cluster = await startCluster({
  dir: join(dir, "cluster"),
  // The CPU accounting counts what committing every click costs, so Postgres is as deployed.
  durability: "durable",
  vars: { RATE_LIMIT_API_PER_SECOND: "1000000" },
});
const basePort = await freePort();
const baseline = workerd({ configPath: join(dir, "baseline.capnp"), port: basePort });
baseline.configure(`using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = (modules = [ (name = "index.js", esModule = embed ${JSON.stringify(relative(dir, fileURLToPath(new URL("constant-302.js", import.meta.url))))}) ], compatibilityDate = "${COMPATIBILITY_DATE}")) ],
  sockets = [ (name = "http", address = "127.0.0.1:${basePort}", http = (), service = "main") ],
  v8Flags = [ ${V8_FLAGS.map((f) => JSON.stringify(f)).join(", ")} ],
);`);
await baseline.start();

try {
  const slug = await createLink(cluster, "bench");
  // A second link, probed while floods run at the first one or at unknown slugs.
  const probeSlug = await createLink(cluster, "probe");
  const replica = cluster.replicas[0] as (typeof cluster.replicas)[number];
  const replicaUrl = `${replica.url}/${slug}`;
  const warm = await measure("warm-up", replicaUrl, undefined, 2);

  // (a) and (b), throughput and p99 at 2k: each workerd alone on core 0, the rest of the machine on core 1.
  const pinned = canPin();
  if (pinned) {
    pin(processTree(process.pid), "1");
    pin(
      [baseline.pid, replica.pid].filter((p) => p !== undefined),
      "0",
    );
  }
  const baseLoad = groupSeconds(cluster).load;
  const { result: base, cpu: baseCpu } = await withCpu([baseline.pid as number], () =>
    measure("(a) baseline: constant 302, workerd", `${baseline.url}/`),
  );
  const baseline302 = {
    name: "constant 302, workerd (row a)",
    cpu: baseCpu,
    redirects: base.redirects,
    loadCpu: groupSeconds(cluster).load - baseLoad,
  };
  const replicaPid = [replica.pid as number];
  const oneRun = await edgeRun(replicaPid, () => measure("(b) one replica, direct", replicaUrl));
  const one = oneRun.row;
  const oneUnknown = await unknownSlugRun(cluster, replicaPid, () =>
    measure("(b) one replica, never-seen slugs", unknownSlugUrl(replica.url)),
  );
  const base2k = QUICK ? undefined : await paced("(a) baseline at 2k", `${baseline.url}/`, 2000);
  const one2k = QUICK ? undefined : await paced("(b) one replica at 2k", replicaUrl, 2000);
  if (pinned) pin(processTree(process.pid), allCpus());

  // (e) every group's CPU per redirect, all cores shared, until every click is committed.
  const db = new pg.Client({ connectionString: cluster.databaseUrl });
  await db.connect();
  const accounted = await accountedRun(
    cluster,
    db,
    "(e) whole system through nginx, CPU per stored click",
    await createLink(cluster, "accounted"),
    ACCOUNTED_REQUESTS,
  ).finally(() => db.end());
  const accounting = accountingSection(accounted, baseline302);
  console.log(`\n${accounting.console}\n`);

  if (!base2k || !one2k) {
    // A quick look while changing the hot path or the pipeline: (a), (b) and (e); only (e) is written.
    writeSection("cpu-per-redirect", cpuSection(accounted.answered, accounting.markdown));
    console.log(`\none replica: ${one.rps} req/s = ${ratio(one, base)}× the baseline (${base.rps} req/s)`);
    console.log(
      `never-seen slugs: ${oneUnknown.row.rps} req/s = ${ratio(oneUnknown.row, one)}× its redirects; replica CPU ${oneUnknown.edgeCpu.toFixed(2)} s for ${oneUnknown.row.notFound} 404s, ${oneRun.edgeCpu.toFixed(2)} s for ${one.redirects} redirects; ${oneUnknown.indexSkipped} answered by the index of KV keys without a KV read; ${oneUnknown.postgresConnections} Postgres connections`,
    );
  } else {
    const baseShared = pinned ? await measure("(a) baseline, all cores shared", `${baseline.url}/`) : base;
    const oneShared = pinned ? await measure("(b) one replica, all cores shared", replicaUrl) : one;
    const replicaPids = cluster.replicas.map((r) => r.pid as number);
    const lbRun = await edgeRun(replicaPids, () =>
      measure("(c) three replicas through nginx", `${cluster.lbUrl}/${slug}`),
    );
    const lb = lbRun.row;
    const lbUnknown = await unknownSlugRun(cluster, replicaPids, () =>
      measure("(c) three replicas through nginx, never-seen slugs", unknownSlugUrl(cluster.lbUrl)),
    );
    const probeUrl = `${cluster.lbUrl}/${probeSlug}`;
    const floods = [
      await probedFlood("real-link flood", `${cluster.lbUrl}/${slug}`, "redirect", probeUrl),
      await probedFlood("never-seen-slug flood", unknownSlugUrl(cluster.lbUrl, true), "404", probeUrl),
    ];
    const ramp: Row[] = [];
    for (const rate of RAMP)
      ramp.push(await paced("(d) ramp through nginx", `${cluster.lbUrl}/${slug}`, rate));

    // Every redirect answered must become a stored click: wait for the pipeline to drain.
    const answered = [warm, one, ...(pinned ? [oneShared] : []), lb, one2k, floods[0]?.flood, ...ramp].reduce(
      (n, r) => n + (r?.redirects ?? 0),
      0,
    );
    const stored = await storedClicks(cluster.databaseUrl, slug, answered);
    const dropped = cluster.replicas.reduce((n, r) => n + r.clicks.dropped, 0);
    report({ pinned, base, one, baseShared, oneShared, lb, base2k, one2k, ramp, answered, stored, dropped });
    const unknown = unknownSlugSection(
      [
        { ...oneUnknown, redirects: oneRun },
        { ...lbUnknown, redirects: lbRun },
      ],
      floods,
    );
    console.log(`${unknown.tables}\n`);
    writeSection("unknown-slugs", unknown.markdown);
    writeSection("cpu-per-redirect", cpuSection(accounted.answered, accounting.markdown));
  }
} finally {
  await baseline.stop();
  await cluster.close();
  rmSync(dir, { recursive: true, force: true });
}

async function edgeRun(pids: number[], load: () => Promise<Row>): Promise<EdgeRun> {
  const { result: row, cpu: edgeCpu } = await withCpu(pids, load);
  return { row, edgeCpu };
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

function cpuSection(redirects: number, tableAndSummary: string): string {
  return `## CPU per redirect, whole system (${new Date().toISOString().slice(0, 10)})

Row (e): ${redirects} redirects of one link through nginx to three replicas (autocannon, ${CONNECTIONS} connections,
all cores shared), then the wait until the last click is committed; each group's CPU time (user + system) is read
from \`/proc\` before the first request and after the last click (\`bench/cpu-groups.ts\`), exited Postgres backends
included (their postmaster's cutime). Postgres runs at its stock durability (fsync, synchronous_commit and
full_page_writes on). The baseline is the constant-302 workerd of row (a), pinned, its own CPU per 302 answered; ${machine()},
load average ${(loadavg()[0] ?? 0).toFixed(1)} at the end.

${tableAndSummary}`;
}

function ratio(r: Row, base: Row): string {
  return (r.rps / base.rps).toFixed(2);
}

/** Prints the table and writes the redirect section of docs/benchmarks.md. */
function report(r: {
  pinned: boolean;
  base: Row;
  one: Row;
  baseShared: Row;
  oneShared: Row;
  lb: Row;
  base2k: Row;
  one2k: Row;
  ramp: Row[];
  answered: number;
  stored: number;
  dropped: number;
}): void {
  const fmt = (row: Row, base?: Row) => [
    row.name,
    row.offered,
    row.rps,
    row.p50,
    row.p95,
    row.p99,
    row.errors + row.non3xx,
    base ? ratio(row, base) : "",
  ];
  const head = ["run", "offered req/s", "req/s", "p50 ms", "p95 ms¹", "p99 ms", "errors", "× baseline"];
  const throughput = r.pinned
    ? [
        fmt(r.base, r.base),
        fmt(r.one, r.base),
        fmt(r.baseShared, r.baseShared),
        fmt(r.oneShared, r.baseShared),
        fmt(r.lb, r.baseShared),
      ]
    : [fmt(r.base, r.base), fmt(r.one, r.base), fmt(r.lb, r.base)];
  const output = table(head, [...throughput, ...[r.base2k, r.one2k, ...r.ramp].map((row) => fmt(row))]);
  const over10 = r.ramp.find((row) => row.p99 > 10);
  const short = r.ramp.find((row) => row.rps < Number(row.offered) * 0.95);
  const rampErrors = r.ramp.reduce((n, row) => n + row.errors + row.non3xx, 0);
  // autocannon stops counting with its connections still busy; those redirects are answered and stored too.
  const clicks = `${r.stored} clicks stored for ${r.answered} redirects counted by the load generators (autocannon leaves up to ${CONNECTIONS} per run uncounted); ${r.dropped} dropped by the replicas' click shippers`;
  console.log(`\n${output}\n\n${clicks}\n`);
  const pinning = r.pinned
    ? `The first (a) and (b) rows and the rows at 2k pin each workerd alone to core 0 and everything else (load generator, click shipper,
broker, aggregator, Redis, Postgres, the other replicas) to core 1, as a replica on a host of its own; the rows
"all cores shared" repeat them unpinned, where the click pipeline and the load generator compete with the replica.`
    : "Pinning was not available (one core or no taskset): every row shares all cores.";
  writeSection(
    "redirect",
    `## Redirect path (${new Date().toISOString().slice(0, 10)})

Throughput rows: autocannon, ${SECONDS}s, ${CONNECTIONS} connections, in its own process on the same ${machine()}.
Rows at an offered rate: \`bench/paced-load.ts\`, open loop (request i is due at i/rate and its latency counts from
then), 5s each, 64 connections. The baseline is a workerd worker that returns a constant 302, with the same V8 flags;
(b)–(d) run the real edge worker bundle (link record from the isolate cache, each click written as a line to stdout
and shipped to the Redis Streams broker in batches, metrics) while the aggregator, Redis and Postgres ingest the
clicks. ${pinning} ¹ p97.5 for the autocannon rows.

${output}

One replica reaches **${ratio(r.one, r.base)}×** the constant-302 baseline${r.pinned ? ` with a core each (**${ratio(r.oneShared, r.baseShared)}×** with all cores shared)` : ""}; three replicas
through nginx **${ratio(r.lb, r.pinned ? r.baseShared : r.base)}×** (on the same two cores as the load generator and the pipeline, so more
replicas cannot add throughput here). At 2k req/s offered, p99 is **${r.one2k.p99} ms** for one replica against
${r.base2k.p99} ms for the baseline. The ramp through nginx had ${rampErrors} errors; ${over10 ? `p99 is above 10 ms from ${over10.offered} req/s offered (${over10.p99} ms)` : "p99 stayed under 10 ms"}, and ${short ? `throughput falls short of the offered rate from ${short.offered} req/s (${short.rps} served)` : "every step was served at its offered rate"}.
Clicks: ${clicks}.`,
  );
}
