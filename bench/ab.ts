/**
 * `npm run bench:ab`: is the edge worker of the working tree (B) slower than the one of a
 * git ref (A)? Both bundles run in one run, on the one-replica setup of `npm run bench`
 * (the replica alone on core 0, everything else on core 1, autocannon in its own process),
 * alternating A B A B … with a restart of the replica before each turn, so a drift of the
 * shared machine falls on both. Prints req/s per round, each side's median and min–max,
 * and B/A per round with its median and min–max; the same for the replica's own CPU time
 * per request (from /proc), which other load moves far less; writes them to docs/benchmarks.md.
 * In each of B's turns a link with five redirect rules, none of which matches (so every rule and
 * every request fact it reads is evaluated: the worst case), is measured beside the plain link on
 * the same replica, first in even rounds and second in odd ones: "B5/B" is the cost of five rules
 * against a plain link in one run.
 *
 * BENCH_AB_BASE: the ref for A (default: where this branch left main, or HEAD~1 on main).
 * BENCH_AB_BUNDLE_A / BENCH_AB_BUNDLE_B: take these worker bundles instead of building.
 * BENCH_AB_ROUNDS (default 5, at least 3), BENCH_SECONDS (10), BENCH_CONNECTIONS (32).
 */
import { execFileSync } from "node:child_process";
import { realpathSync, rmSync, symlinkSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildWorker, buildWorkers } from "../scripts/build-workers";
import { type Cluster, type Replica, startCluster } from "../selfhost/cluster";
import { benchDir } from "./bench-dir";
import { allCpus, canPin, pin, processTree, restartPinned } from "./cpu-pinning";
import { withCpu } from "./cpu-time";
import { createLink } from "./links";
import { CONNECTIONS, measure, type Row, SECONDS } from "./load-runs";
import { machine, median, table, writeSection } from "./report";

/**
 * Five rules that never match autocannon's requests (no country, no User-Agent so desktop, no
 * Accept-Language, no query, a window in the future): each request evaluates all five and reads
 * every request fact, then redirects to the link's own target.
 */
const FIVE_NEVER_MATCHING_RULES = [
  { when: { country: ["JP", "KR"] }, url: "https://example.com/asia" },
  { when: { device: ["ios", "android"] }, url: "https://example.com/mobile" },
  { when: { language: ["fr", "de"] }, url: "https://example.com/eu" },
  { when: { query: [{ name: "ref", value: "promo" }] }, url: "https://example.com/promo" },
  { when: { after: "2099-01-01T00:00:00Z" }, url: "https://example.com/future" },
];

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ROUNDS = Math.max(3, Number(process.env.BENCH_AB_ROUNDS ?? 5));
const WARM_UP_SECONDS = 2;

const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();

/** A: the given ref, else the merge-base with main, else (on main itself) the commit before. */
function baseCommit(): string {
  const given = process.env.BENCH_AB_BASE;
  if (given) return git("rev-parse", "--verify", `${given}^{commit}`);
  const head = git("rev-parse", "HEAD");
  const forkPoint = git("merge-base", "HEAD", "main");
  return forkPoint === head ? git("rev-parse", "HEAD~1") : forkPoint;
}

/** The edge bundle of `commit`, built in a temporary worktree that shares this checkout's node_modules. */
function buildAt(commit: string, dir: string): string {
  const src = join(dir, "a-src");
  git("worktree", "add", "--detach", src, commit);
  try {
    symlinkSync(realpathSync(join(ROOT, "node_modules")), join(src, "node_modules"));
    return buildWorker("wrangler.toml", join(dir, "a"), src);
  } finally {
    git("worktree", "remove", "--force", src);
  }
}

type Side = "A" | "B";
/** "median (min–max)" of `xs`, each formatted by `fmt`. */
const spread = (xs: number[], fmt = (x: number) => String(x)) =>
  `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;
const ratio = (x: number) => x.toFixed(3);

const base = baseCommit();
const baseLabel = process.env.BENCH_AB_BUNDLE_A ?? git("log", "-1", "--format=%h %s", base).slice(0, 72);
const headLabel =
  process.env.BENCH_AB_BUNDLE_B ?? `${git("log", "-1", "--format=%h", "HEAD")} + working tree`;
const loadBefore = loadavg()[0] as number;
const rps: Record<Side, number[]> = { A: [], B: [] };
/** The replica's own CPU time per request (µs): on a shared machine it moves far less than req/s. */
const cpuPerRequest: Record<Side, number[]> = { A: [], B: [] };
/** B's replica on the link with five rules, measured beside B's plain link in each round. */
const fiveRulesSeries = { rps: [] as number[], cpu: [] as number[] };
const fiveRules = { rps: fiveRulesSeries.rps, cpuPerRequest: fiveRulesSeries.cpu };
const faults: string[] = [];
let pinned = false;

const dir = benchDir("bench-ab-");
try {
  console.log(`A: ${baseLabel}\nB: ${headLabel}\nbuilding the bundles…`);
  const built = buildWorkers(join(dir, "b"));
  const bundles: Record<Side, string> = {
    A: process.env.BENCH_AB_BUNDLE_A ?? buildAt(base, dir),
    B: process.env.BENCH_AB_BUNDLE_B ?? built.worker,
  };
  console.log("starting a one-replica cluster (Postgres durability OFF: it is not on the redirect path)…");
  const cluster = await startCluster({
    dir: join(dir, "cluster"),
    replicas: 1,
    durability: "off-for-tests",
    vars: { RATE_LIMIT_API_PER_SECOND: "1000000" },
    bundles: { worker: bundles.B, aggregator: built.aggregator, assets: built.assets },
  });
  try {
    pinned = canPin();
    await alternate(cluster, bundles);
  } finally {
    if (pinned) pin(processTree(process.pid), allCpus());
    await cluster.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
report();

/** ROUNDS rounds of A then B on the cluster's one replica, restarted on each side's bundle. */
async function alternate(cluster: Cluster, bundles: Record<Side, string>): Promise<void> {
  const slug = await createLink(cluster, "bench-ab");
  const rulesSlug = await createLink(cluster, "bench-rules", { rules: FIVE_NEVER_MATCHING_RULES });
  const replica = cluster.replicas[0] as Replica;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const side of ["A", "B"] as const) {
      await restart(replica, bundles[side]);
      // On B's replica the plain link and the five-rule link take turns going first, so that
      // whatever a replica's second measurement pays (a grown heap) falls on both.
      const order = side === "A" ? ["plain"] : round % 2 === 1 ? ["plain", "five"] : ["five", "plain"];
      for (const which of order) {
        const url = `${replica.url}/${which === "plain" ? slug : rulesSlug}`;
        const label = which === "plain" ? `${side}, round ${round}` : `B five rules, round ${round}`;
        const { row, cpuUs } = await measureReplica(replica, label, url);
        const target = which === "plain" ? { rps: rps[side], cpu: cpuPerRequest[side] } : fiveRulesSeries;
        target.rps.push(row.rps);
        if (cpuUs !== null) target.cpu.push(cpuUs);
        const bad = row.errors + row.non3xx;
        if (bad > 0) faults.push(`${label}: ${bad} errors or answers other than a redirect`);
      }
    }
  }
}

/** Restarts the replica on `bundle` and pins it to core 0 (everything else to core 1). */
function restart(replica: Replica, bundle: string): Promise<void> {
  return restartPinned(replica, pinned, () => replica.reconfigure(bundle));
}

/** Warms the replica up on `url`, then measures it and its CPU per request. */
async function measureReplica(
  replica: Replica,
  name: string,
  url: string,
): Promise<{ row: Row; cpuUs: number | null }> {
  await measure("warm-up", url, undefined, WARM_UP_SECONDS);
  const { result: row, cpu } = await withCpu([replica.pid as number], () => measure(name, url));
  const requests = row.redirects + row.non3xx;
  return { row, cpuUs: requests && cpu > 0 ? (cpu * 1e6) / requests : null };
}

function report(): void {
  const ratios = rps.A.map((a, i) => (rps.B[i] as number) / a);
  const withCpu = cpuPerRequest.A.length === ROUNDS && cpuPerRequest.B.length === ROUNDS;
  const cpuRatios = cpuPerRequest.A.map((a, i) => (cpuPerRequest.B[i] as number) / a);
  const us = (x: number) => x.toFixed(0);
  const fiveRatios = fiveRules.rps.map((x, i) => x / (rps.B[i] as number));
  const fiveCpuRatios = fiveRules.cpuPerRequest.map((x, i) => x / (cpuPerRequest.B[i] as number));
  const withFive = withCpu && fiveRules.cpuPerRequest.length === ROUNDS;
  const rows = rps.A.map((a, i) => [
    i + 1,
    a,
    rps.B[i] as number,
    ratio(ratios[i] as number),
    ...(withCpu
      ? [us(cpuPerRequest.A[i] as number), us(cpuPerRequest.B[i] as number), ratio(cpuRatios[i] as number)]
      : []),
    ...(withFive
      ? [
          fiveRules.rps[i] as number,
          us(fiveRules.cpuPerRequest[i] as number),
          ratio(fiveCpuRatios[i] as number),
        ]
      : []),
  ]);
  const cpuHead = withCpu ? ["A CPU µs/req", "B CPU µs/req", "B/A CPU"] : [];
  const fiveHead = withFive ? ["B5 req/s", "B5 CPU µs/req", "B5/B CPU"] : [];
  const output = table(["round", "A req/s", "B req/s", "B/A", ...cpuHead, ...fiveHead], rows);
  const summary = [
    `A: median ${spread(rps.A)} req/s`,
    `B: median ${spread(rps.B)} req/s`,
    `B/A per round: median ${spread(ratios, ratio)}`,
    ...(withCpu
      ? [
          `replica CPU per request: A ${spread(cpuPerRequest.A, us)} µs, B ${spread(cpuPerRequest.B, us)} µs`,
          `B/A CPU per request, per round: median ${spread(cpuRatios, ratio)} (below 1: B costs less)`,
        ]
      : []),
  ];
  if (fiveRatios.length === ROUNDS) {
    summary.push(
      `B with five rules (none matching): median ${spread(fiveRules.rps)} req/s; B5/B per round: median ${spread(fiveRatios, ratio)}`,
    );
  }
  if (withFive) {
    summary.push(
      `B5 CPU per request ${spread(fiveRules.cpuPerRequest, us)} µs; B5/B CPU per round: median ${spread(fiveCpuRatios, ratio)}`,
    );
  }
  const load = `load average ${loadBefore.toFixed(1)} before, ${(loadavg()[0] as number).toFixed(1)} after`;
  console.log(`\n${output}\n\n${summary.join("\n")}\n${load}\n${faults.join("\n")}`);
  const placement = pinned
    ? "the replica alone on core 0; autocannon, the click pipeline and every other service on core 1"
    : "no pinning available: every process shares all cores";
  writeSection(
    "redirect-ab",
    `## Redirect A/B (${new Date().toISOString().slice(0, 10)})

\`npm run bench:ab\`: one replica of the edge worker, restarted on bundle A or B before each turn (A B A B …),
${ROUNDS} rounds, autocannon ${SECONDS}s at ${CONNECTIONS} connections after a ${WARM_UP_SECONDS}s warm-up; ${placement};
${machine()}, ${load}.
A: \`${baseLabel}\`; B: \`${headLabel}\`.

${output}

${summary.map((s) => `- ${s}`).join("\n")}${faults.length ? `\n- not all answers were redirects: ${faults.join("; ")}` : ""}`,
  );
}
