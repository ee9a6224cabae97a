/**
 * CPU accounting of `npm run bench` (issue 19): the CPU seconds each process group of the
 * self-hosted cluster used, read from /proc, so that a run can say what a redirect costs
 * the whole system and where, whatever else the machine runs meanwhile.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Cluster } from "../selfhost/cluster";
import { postmasterPid } from "../selfhost/services/postmaster-watch";

/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The groups, in the order the bench prints them. */
export const GROUPS = ["edge", "nginx", "runner", "aggregator", "redis", "postgres", "load"] as const;
export type Group = (typeof GROUPS)[number];
export type GroupSeconds = Record<Group, number>;

export const GROUP_NAMES: Record<Group, string> = {
  edge: "edge replicas (workerd)",
  nginx: "nginx",
  runner:
    "runner process: click shippers, queue broker, WebSocket proxy, Redis REST gateway (and the KV service)",
  aggregator: "aggregator (workerd)",
  redis: "Redis",
  postgres: "Postgres",
  load: "load generator",
};

type Proc = { ppid: number; own: number; children: number };

/** Every process's parent, utime+stime and cutime+cstime (seconds), read once from /proc. */
function processTable(): Map<number, Proc> {
  const table = new Map<number, Proc>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // The fields after the command name, which is in parentheses and may hold spaces.
      const f = stat
        .slice(stat.lastIndexOf(")") + 2)
        .split(" ")
        .map(Number);
      table.set(Number(name), {
        ppid: f[1] ?? 0,
        own: ((f[11] ?? 0) + (f[12] ?? 0)) / TICKS_PER_SECOND,
        children: ((f[13] ?? 0) + (f[14] ?? 0)) / TICKS_PER_SECOND,
      });
    } catch {
      // exited while the table was read
    }
  }
  return table;
}

/**
 * The trees under `roots`: each process's own time plus what its exited children left in
 * it (cutime), so a Postgres backend that served one connection and exited is still
 * counted, by its postmaster. A live child is not in its parent's cutime yet, so nothing
 * is counted twice.
 */
function treeSeconds(table: Map<number, Proc>, roots: number[]): number {
  const tree = [...roots];
  for (let i = 0; i < tree.length; i++) for (const [pid, p] of table) if (p.ppid === tree[i]) tree.push(pid);
  return tree.reduce((sum, pid) => {
    const p = table.get(pid);
    return sum + (p ? p.own + p.children : 0);
  }, 0);
}

/**
 * CPU seconds used so far by each group. The cluster's Node services (click shippers,
 * queue broker, WebSocket proxy, Redis REST gateway, KV service) run in this process, so
 * its own time is the runner's, part of the click pipeline (the KV service is idle while a
 * hot link is redirected: the replicas cache the record); the load generators are its
 * children, run one at a time and reaped when done, so its cutime is theirs.
 */
export function groupSeconds(cluster: Cluster): GroupSeconds {
  const table = processTable();
  const pids = (list: Array<number | undefined>) => list.filter((p): p is number => p !== undefined);
  const self = table.get(process.pid) ?? { own: 0, children: 0 };
  const postmaster = cluster.postgres ? postmasterPid(join(cluster.dataDir, "postgres")) : null;
  return {
    edge: treeSeconds(table, pids(cluster.replicas.map((r) => r.pid))),
    nginx: treeSeconds(table, pids([cluster.nginx.pid])),
    runner: self.own,
    aggregator: treeSeconds(table, pids([cluster.aggregator.pid])),
    redis: treeSeconds(table, pids([cluster.redis.pid])),
    postgres: postmaster === null ? 0 : treeSeconds(table, [postmaster]),
    load: self.children,
  };
}

/** What each group used between two readings. */
export function groupDelta(before: GroupSeconds, after: GroupSeconds): GroupSeconds {
  const out = {} as GroupSeconds;
  for (const g of GROUPS) out[g] = after[g] - before[g];
  return out;
}
