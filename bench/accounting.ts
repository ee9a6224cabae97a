/**
 * The whole-system rows of `npm run bench` (issue 19): a fixed number of redirects through
 * nginx, the pipeline drained until every click is stored, and the CPU time each process
 * group used meanwhile, per redirect, against the constant-302 baseline's CPU per 302 in
 * the same run.
 */
import type pg from "pg";
import type { Cluster } from "../selfhost/cluster";
import { GROUP_NAMES, type GroupSeconds, groupDelta, groupSeconds } from "./cpu-groups";
import { CONNECTIONS, measure, type Row } from "./load-runs";
import { table } from "./report";
import { pipelineDrained } from "./unknown-slugs";

export type Accounted = {
  row: Row;
  /** Redirects the replicas counted (their /metrics): every answer, also those autocannon left uncounted. */
  answered: number;
  /** Clicks of the run's link stored in Postgres once the pipeline was drained. */
  stored: number;
  cpu: GroupSeconds;
  /** Seconds from the first request until the last click was stored (or the wait gave up). */
  seconds: number;
};

/**
 * Once the pipeline holds nothing from earlier rows, sends `requests` redirects to `url`
 * (a link of its own, `slug`), waits until its hourly rollups have counted as many clicks
 * as the replicas answered (or stopped growing for 5 s), and reads every group's CPU time
 * before the first request and after the last click. The clicks stored are counted in
 * click_events after that reading: a count over the events while waiting would be
 * Postgres work of the bench's own.
 */
export async function accountedRun(
  cluster: Cluster,
  db: pg.Client,
  name: string,
  slug: string,
  requests: number,
): Promise<Accounted> {
  if (!(await pipelineDrained(cluster))) throw new Error("the click pipeline did not drain before row (e)");
  const events = async () => Number((await db.query(EVENTS, [slug])).rows[0]?.n ?? 0);
  const rolledUp = async () => Number((await db.query(ROLLED_UP, [slug])).rows[0]?.n ?? 0);
  const storedBefore = await events();
  const rolledBefore = await rolledUp();
  const answeredBefore = await redirectsAnswered(cluster);
  const started = performance.now();
  const before = groupSeconds(cluster);
  const row = await measure(name, `${cluster.lbUrl}/${slug}`, undefined, undefined, requests);
  const answered = (await redirectsAnswered(cluster)) - answeredBefore;
  let last = -1;
  for (let quiet = 0; quiet < 25; ) {
    const n = (await rolledUp()) - rolledBefore;
    if (n >= answered) break;
    quiet = n === last ? quiet + 1 : 0;
    last = n;
    await new Promise((r) => setTimeout(r, 200));
  }
  const cpu = groupDelta(before, groupSeconds(cluster));
  const seconds = (performance.now() - started) / 1000;
  // A second look, so that a click stored twice or late would show.
  await new Promise((r) => setTimeout(r, 1000));
  const stored = (await events()) - storedBefore;
  return { row, answered, stored, cpu, seconds };
}

const EVENTS = "select count(*)::int as n from click_events where slug = $1";
const ROLLED_UP =
  "select coalesce(sum(r.count), 0)::int as n from click_rollups r join links l on l.id = r.link_id where l.slug = $1";

/** Redirects every replica has answered so far, from its edge_requests_total. */
async function redirectsAnswered(cluster: Cluster): Promise<number> {
  let total = 0;
  for (const replica of cluster.replicas) {
    const res = await fetch(`${replica.url}/metrics`, {
      headers: { Authorization: `Bearer ${cluster.secrets.metricsToken}` },
    });
    const text = await res.text();
    // Never a silent 0: a refused scrape stops the bench.
    if (!res.ok || !text.includes("edge_requests_total"))
      throw new Error(`no request counts from ${replica.url}/metrics (${res.status})`);
    for (const m of text.matchAll(/^edge_requests_total\{route="redirect",status="3\d\d"\} (\d+)$/gm))
      total += Number(m[1]);
  }
  return total;
}

const us = (seconds: number, per: number) => (per > 0 ? Math.round((seconds * 1e6) / per) : 0);

/** The table and its summary for the console and docs/benchmarks.md. */
export function accountingSection(
  run: Accounted,
  baseline: { name: string; cpu: number; redirects: number; loadCpu: number },
): { markdown: string; console: string } {
  const n = run.answered;
  const basePer302 = (baseline.cpu * 1e6) / baseline.redirects;
  const c = run.cpu;
  const pipeline = c.runner + c.aggregator + c.redis + c.postgres;
  const system = c.edge + pipeline;
  const times = (seconds: number) => (basePer302 > 0 ? (us(seconds, n) / basePer302).toFixed(2) : "");
  const line = (name: string, seconds: number, vsBaseline = true) => [
    name,
    seconds.toFixed(2),
    us(seconds, n),
    vsBaseline ? times(seconds) : "",
  ];
  const rows = [
    line(GROUP_NAMES.edge, c.edge),
    line(GROUP_NAMES.runner, c.runner),
    line(GROUP_NAMES.aggregator, c.aggregator),
    line(GROUP_NAMES.redis, c.redis),
    line(GROUP_NAMES.postgres, c.postgres),
    line("**click pipeline with Postgres** (after the edge's write until the row is committed)", pipeline),
    line("**whole system** (edge + pipeline + Postgres)", system),
    line(GROUP_NAMES.nginx, c.nginx),
    line("whole system with nginx", system + c.nginx),
    line(GROUP_NAMES.load, c.load, false),
    [`baseline: ${baseline.name}`, baseline.cpu.toFixed(2), Math.round(basePer302), "1.00"],
    ["baseline's load generator", baseline.loadCpu.toFixed(2), us(baseline.loadCpu, baseline.redirects), ""],
  ];
  const out = table(["process group", "CPU s", "CPU-µs per redirect", "× baseline's CPU-µs per 302"], rows);
  const clicks =
    run.stored === n
      ? `clicks stored = redirects answered (the replicas' count): ${run.stored} of ${n}`
      : `**clicks stored ≠ redirects answered** (the replicas' count): ${run.stored} stored for ${n}`;
  const summary = `${n} redirects through nginx (${run.row.rps} req/s, ${CONNECTIONS} connections, ${run.row.errors + run.row.non3xx} errors), drained in ${run.seconds.toFixed(1)} s; ${clicks}. Whole system **${times(system)}×** the baseline's CPU per 302 (target ≤ 2.2×), ${times(system + c.nginx)}× with nginx; click pipeline **${times(pipeline)}×** (target ≤ 0.5×).`;
  return { markdown: `${out}\n\n${summary}`, console: `${out}\n\n${summary}` };
}
