import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) that `pids` have used so far, from /proc/<pid>/stat; a
 * process that cannot be read counts 0. Unlike throughput on a shared machine, this
 * does not change with what else the machine runs.
 */
export function cpuSeconds(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // The fields after the command name, which is in parentheses and may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    } catch {}
  }
  return total;
}

/** Runs `load` and returns its result with the CPU seconds `pids` used meanwhile. */
export async function withCpu<T>(
  pids: number[],
  load: () => Promise<T>,
): Promise<{ result: T; cpu: number }> {
  const before = cpuSeconds(pids);
  const result = await load();
  return { result, cpu: cpuSeconds(pids) - before };
}
