/**
 * The unknown-slug rows of `npm run bench`: what a flood of never-seen (random, valid)
 * slugs costs next to real redirects in the same run, how many Postgres connections it
 * opens, and what it does to a real link probed alongside (issue 19).
 */
import type { Cluster } from "../selfhost/cluster";
import { withCpu } from "./cpu-time";
import { NEW_SLUG_EACH_REQUEST, paced, type Row } from "./load-runs";
import { table } from "./report";

/** A load and the CPU seconds the edge replicas it reached used meanwhile. */
export type EdgeRun = { row: Row; edgeCpu: number };
/**
 * A never-seen-slug run beside the real-link run on the same path. `edgeQueries`: the
 * Postgres queries the replicas report (edge_kv_miss_fallback_total); `postgresConnections`:
 * what the proxy saw, null when the click pipeline was still busy (then the aggregator's
 * writes would be counted too).
 */
export type UnknownRow = EdgeRun & {
  redirects: EdgeRun;
  edgeQueries: number;
  /** Lookups the replicas' index of KV keys answered without a KV read (edge_kv_index_absent_total, skipped). */
  indexSkipped: number;
  postgresConnections: number | null;
};
export type ProbedFlood = { name: string; flood: Row; unexpected: number; probe: Row };

export const PROBE_RATE = 100;

/**
 * Runs `load` and counts the CPU seconds of `edgePids` and the connections the Neon
 * driver asked the WebSocket proxy for meanwhile (every Postgres query of the edge or the
 * aggregator opens one). Waits for the click pipeline to drain first, so that the
 * aggregator's writes are not counted.
 */
export async function unknownSlugRun(
  cluster: Cluster,
  edgePids: number[],
  load: () => Promise<Row>,
): Promise<Omit<UnknownRow, "redirects">> {
  const drained = await pipelineDrained(cluster);
  const before = { connections: cluster.wsProxy.requested, ...(await edgeCounts(cluster)) };
  const { result: row, cpu: edgeCpu } = await withCpu(edgePids, load);
  const after = await edgeCounts(cluster);
  return {
    row,
    edgeCpu,
    edgeQueries: after.queries - before.queries,
    indexSkipped: after.skipped - before.skipped,
    postgresConnections: drained ? cluster.wsProxy.requested - before.connections : null,
  };
}

/**
 * Postgres queries the KV-miss fallback of every replica has made so far, and the lookups their index of KV keys
 * answered without a KV read, from their /metrics.
 */
async function edgeCounts(cluster: Cluster): Promise<{ queries: number; skipped: number }> {
  let total = 0;
  let skipped = 0;
  for (const replica of cluster.replicas) {
    const res = await fetch(`${replica.url}/metrics`, {
      headers: { Authorization: `Bearer ${cluster.secrets.metricsToken}` },
    });
    const text = await res.text();
    skipped += Number(/^edge_kv_index_absent_total\{outcome="skipped"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    const counts = [
      ...text.matchAll(/^edge_kv_miss_fallback_total\{outcome="(found|not_found|failed)"\} (\d+)$/gm),
    ];
    // Never a silent 0: a refused scrape or a renamed metric stops the bench.
    if (counts.length !== 3)
      throw new Error(`no fallback counts from ${replica.url}/metrics (${res.status})`);
    for (const m of counts) total += Number(m[2]);
  }
  return { queries: total, skipped };
}

/** Waits until no click is held by a shipper or the broker; false if `timeoutMs` passed first. */
export async function pipelineDrained(cluster: Cluster, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const broker = await cluster.broker.stats();
    const shipping = cluster.replicas.reduce((n, r) => n + r.clicks.pending, 0);
    if (broker.backlog + broker.pending + shipping === 0) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/**
 * A 2k req/s flood through nginx with a real link probed at PROBE_RATE alongside; the
 * probe starts after the flood and ends before it, so all of its requests meet the flood.
 */
export async function probedFlood(
  name: string,
  floodUrl: string,
  expect: "redirect" | "404",
  probeUrl: string,
): Promise<ProbedFlood> {
  const [flood, probe] = await Promise.all([
    paced(`${name} at 2k`, floodUrl, 2000, 7),
    new Promise((r) => setTimeout(r, 1000)).then(() =>
      paced(`probe of a real link during ${name}`, probeUrl, PROBE_RATE, 5, 4),
    ),
  ]);
  const unexpected =
    expect === "redirect"
      ? flood.errors + flood.non3xx
      : flood.errors + flood.redirects + flood.non3xx - flood.notFound;
  return { name, flood, unexpected, probe };
}

/** A URL whose every request carries a never-seen slug, for `measure` or for `paced`. */
export const unknownSlugUrl = (origin: string, forPaced = false) =>
  `${origin}/${forPaced ? "*" : NEW_SLUG_EACH_REQUEST}`;

/** The unknown-slug tables (to print) and the section of docs/benchmarks.md around them. */
export function unknownSlugSection(
  rows: UnknownRow[],
  floods: ProbedFlood[],
): { tables: string; markdown: string } {
  const ratio = (a: Row, b: Row) => (a.rps / b.rps).toFixed(2);
  const answers = (r: Row) => r.redirects + r.non3xx;
  const cpuMicros = (run: EdgeRun) => Math.round((run.edgeCpu * 1e6) / Math.max(1, answers(run.row)));
  const throughput = table(
    [
      "run",
      "req/s",
      "p50 ms",
      "p97.5 ms",
      "p99 ms",
      "answers other than 404",
      "× redirects, same path",
      "edge CPU-µs per 404 (per redirect)",
      "KV reads per 404",
      "Postgres queries (edge) / 404s",
      "Postgres connections (proxy)",
    ],
    rows.map(({ row, edgeCpu, redirects, edgeQueries, indexSkipped, postgresConnections }) => [
      row.name,
      row.rps,
      row.p50,
      row.p95,
      row.p99,
      row.errors + row.non3xx + row.redirects - row.notFound,
      `**${ratio(row, redirects.row)}** (${redirects.row.rps} req/s)`,
      `${cpuMicros({ row, edgeCpu })} (${cpuMicros(redirects)})`,
      ((row.notFound - indexSkipped) / Math.max(1, row.notFound)).toFixed(3),
      `${edgeQueries} / ${row.notFound}`,
      postgresConnections ?? "n/a (click pipeline busy)",
    ]),
  );
  const probes = table(
    [
      "flood at 2k req/s through nginx",
      "flood req/s",
      "flood: unexpected answers",
      `probe (${PROBE_RATE} req/s) p50 ms`,
      "probe p95 ms",
      "probe p99 ms",
      "probe errors",
    ],
    floods.map(({ name, flood, unexpected, probe }) => [
      name,
      flood.rps,
      unexpected,
      probe.p50,
      probe.p95,
      probe.p99,
      probe.errors + probe.non3xx,
    ]),
  );
  const tables = `${throughput}\n\n${probes}`;
  const [real, unknown] = floods;
  const gap =
    real && unknown
      ? `Its p99 is **${unknown.probe.p99} ms** during the never-seen-slug flood against **${real.probe.p99} ms** during the
real-link flood (${(unknown.probe.p99 - real.probe.p99).toFixed(2)} ms apart; the target is within 2 ms).`
      : "";
  const markdown = `## Unknown slugs (${new Date().toISOString().slice(0, 10)})

Every request of a never-seen-slug row asks for a slug nobody created: autocannon's \`-I\` ids (34 characters of the
slug alphabet) in the throughput rows, 7 random base62 characters (the shape of the service's own slugs) in the paced
flood. The one-replica row is pinned like (b); "× redirects" compares with the real-link row of the same run on the
same path ((b) or (c); its req/s and edge CPU in parentheses); edge CPU is the replicas' own (from
\`/proc\`, so other load on the machine does not change it much). Postgres queries are the replicas' own count
(\`edge_kv_miss_fallback_total\`); connections are those the Neon WebSocket proxy was asked for during the row, counted
only once the click pipeline had drained (every Postgres query, the edge's or the aggregator's, opens one). The
self-hosted edge runs with \`KV_MISS_FALLBACK=none\` (docs/decisions.md). "KV reads per 404" is 1 less the share the
replicas' index of KV keys answered without a read (\`edge_kv_index_absent_total{outcome="skipped"}\`).

${tables}

The probe is a second real link at ${PROBE_RATE} req/s, paced, for 5 s inside a 7 s flood at 2k req/s through nginx. ${gap}`;
  return { tables, markdown };
}
