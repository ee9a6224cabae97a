import { execFileSync } from "node:child_process";
import { availableParallelism, cpus } from "node:os";

/**
 * Core pinning for the throughput rows of `npm run bench`. On a small shared machine the
 * load generator and the click pipeline (shipper, broker, aggregator, Redis, Postgres)
 * take CPU from the replica under test; pinned, the baseline and the replica each get
 * core 0 alone and everything else shares core 1, as a replica on a host of its own would.
 */
export function canPin(): boolean {
  if (availableParallelism() < 2) return false;
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Sets the CPU affinity of every thread of `pids` (e.g. "0" or "0,1"). */
export function pin(pids: number[], cpus: string): void {
  for (const pid of pids) execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
}

/** Every CPU of the machine ("0-7"), to undo pinning (availableParallelism follows the pinned mask). */
export function allCpus(): string {
  return `0-${cpus().length - 1}`;
}

/** `root` and every process below it. */
export function processTree(root: number): number[] {
  const rows = execFileSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of rows) if (ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

/**
 * Stops `replica`, runs `meanwhile` (a new bundle, say), starts it again and, when `pinned`, pins it alone to
 * core 0 and this process's tree to core 1 again (a restarted process has a new pid, unpinned).
 */
export async function restartPinned(
  replica: { stop(): Promise<void>; start(): Promise<void>; readonly pid: number | undefined },
  pinned: boolean,
  meanwhile: () => void = () => {},
): Promise<void> {
  await replica.stop();
  meanwhile();
  await replica.start();
  if (pinned) {
    pin(processTree(process.pid), "1");
    pin([replica.pid as number], "0");
  }
}
