/**
 * `npm run bench:aggregator-cpu`: CPU-µs per click of the aggregator (workerd) and of Postgres
 * (durable) for a fixed load: deliveries of BENCH_DELIVERY clicks pushed straight to the
 * aggregator's `/__queue/clicks`, as the queue broker pushes them, one at a time. Row (e) of
 * `npm run bench` measures the whole pipeline, but its delivery sizes follow the load and the
 * machine; here they are fixed, so two builds compare on the same work (run it alternately in
 * both trees). Prints only; writes no docs.
 */
import { rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { startCluster } from "../selfhost/cluster";
import { CHROME, clickEvent, GOOGLEBOT, IPHONE } from "../test/fixtures";
import { benchDir } from "./bench-dir";
import { groupSeconds } from "./cpu-groups";
import { median } from "./report";

const DELIVERY = Number(process.env.BENCH_DELIVERY ?? 100);
const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** 60 distinct user agents (the classifier caches parsed ones), every tenth click counted at the edge. */
const AGENTS = Array.from({ length: 60 }, (_, i) => `${[CHROME, IPHONE, GOOGLEBOT][i % 3]} build/${i}`);

let sequence = 0;
function delivery(): string {
  const messages = Array.from({ length: DELIVERY }, () => {
    const i = sequence++;
    const body = clickEvent({
      linkId: 1 + (i % 20),
      ts: Date.now(),
      userAgent: AGENTS[i % AGENTS.length] as string,
      referrer: i % 3 ? "https://news.example.org/a" : null,
      counted: i % 10 === 0,
      domain: "",
    });
    return { id: `${i}-0`, body, attempts: 1, timestamp: Date.now() };
  });
  return JSON.stringify({ messages });
}

const dir = benchDir("bench-aggregator-cpu-");
const cluster = await startCluster({ dir: join(dir, "cluster"), durability: "durable" });
async function push(body: string): Promise<void> {
  const res = await fetch(`${cluster.aggregator.url}/__queue/clicks`, {
    method: "POST",
    headers: { authorization: `Bearer ${cluster.secrets.internalToken}` },
    body,
  });
  if (!res.ok) throw new Error(`delivery refused: ${res.status} ${await res.text()}`);
  const answer = (await res.json()) as { acked: string[] };
  if (answer.acked.length !== DELIVERY)
    throw new Error(`delivery not acknowledged: ${answer.acked.length} acked`);
}

try {
  console.log(`${ROUNDS} rounds of ${DELIVERIES} deliveries of ${DELIVERY} clicks; Postgres durable`);
  for (let i = 0; i < 50; i++) await push(delivery()); // warm-up: JIT, caches, the kept connection
  const aggregator: number[] = [];
  const postgres: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const bodies = Array.from({ length: DELIVERIES }, delivery);
    const before = groupSeconds(cluster);
    for (const body of bodies) await push(body);
    const after = groupSeconds(cluster);
    const perClick = (s: number) => (s * 1e6) / (DELIVERY * DELIVERIES);
    aggregator.push(perClick(after.aggregator - before.aggregator));
    postgres.push(perClick(after.postgres - before.postgres));
    console.log(
      `  round ${round}: aggregator ${aggregator.at(-1)?.toFixed(1)} µs per click, Postgres ${postgres.at(-1)?.toFixed(1)} (load average ${loadavg()[0]?.toFixed(2)})`,
    );
  }
  console.log(
    `median: aggregator ${median(aggregator).toFixed(1)} µs per click, Postgres ${median(postgres).toFixed(1)}`,
  );
} finally {
  await cluster.close();
  rmSync(dir, { recursive: true, force: true });
}
