/**
 * The two load generators `npm run bench` runs, each in a process of its own so that it
 * does not share an event loop with the cluster's Node services (gateway, KV service,
 * broker, proxy): autocannon for throughput (closed loop, fixed connections and
 * duration) and bench/paced-load.ts for latency at an offered rate (open loop).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { PacedResult } from "./paced-load";

const AUTOCANNON = fileURLToPath(new URL("../node_modules/.bin/autocannon", import.meta.url));
const PACED = fileURLToPath(new URL("paced-load.ts", import.meta.url));
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

/**
 * Ends a URL given to `measure` whose every request must ask for a new slug: autocannon's
 * `-I` replaces `[<id>]` (33 characters of the slug alphabet); the "x" after it keeps
 * autocannon's argument parser from reading a final `]` as the end of a sub-argument.
 * In a URL given to `paced`, use `*`.
 */
export const NEW_SLUG_EACH_REQUEST = "[<id>]x";

export type Row = {
  name: string;
  offered: string;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  non3xx: number;
  redirects: number;
  notFound: number;
};

/**
 * One run of autocannon; `rate` unset means as fast as the connections go. With `requests`
 * it sends exactly that many and counts every answer (a timed run leaves up to one per
 * connection uncounted), for runs whose stored clicks must match.
 */
export function measure(
  name: string,
  url: string,
  rate?: number,
  seconds = SECONDS,
  requests?: number,
): Promise<Row> {
  const length = requests ? `${requests} requests` : `${seconds}s`;
  process.stdout.write(`  ${name} (${rate ? `${rate} req/s offered` : "max"}, ${length})…\n`);
  const args = [
    "-j",
    "-c",
    String(CONNECTIONS),
    ...(requests ? ["-a", String(requests)] : ["-d", String(seconds)]),
    "-t",
    "10",
    "-H",
    "user-agent=Mozilla/5.0 bench",
  ];
  if (rate) args.push("-R", String(rate));
  if (url.endsWith(NEW_SLUG_EACH_REQUEST)) args.push("-I");
  return new Promise((resolve, reject) => {
    execFile(AUTOCANNON, [...args, url], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(err);
      // Thrown here, a parse error would end the bench without stopping the cluster.
      if (!stdout.trim()) return reject(new Error(`autocannon printed no result: ${stderr.slice(0, 300)}`));
      const r = JSON.parse(stdout) as {
        requests: { average: number };
        latency: { p50: number; p97_5: number; p99: number };
        errors: number;
        timeouts: number;
        "1xx": number;
        "2xx": number;
        "3xx": number;
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
        redirects: r["3xx"],
        notFound: r["4xx"],
      });
    });
  });
}

/** One open-loop run at `rate` req/s (bench/paced-load.ts). */
export function paced(name: string, url: string, rate: number, seconds = 5, connections = 64): Promise<Row> {
  process.stdout.write(`  ${name} (${rate} req/s offered, paced, ${seconds}s)…\n`);
  const args = ["--import", "tsx", PACED, url, String(rate), String(seconds), String(connections)];
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
        notFound: r.byStatus["404"] ?? 0,
      });
    });
  });
}
