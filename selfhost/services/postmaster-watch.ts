import { readFileSync } from "node:fs";
import { join } from "node:path";

const POLL_MS = 1000;

/**
 * Calls `onGone` once the postmaster of `dataDir` is no longer alive. pg_ctl daemonises
 * Postgres, so there is no child process whose exit could tell: this polls the pid in
 * `postmaster.pid` (a zombie left by an init that does not reap counts as gone).
 * Returns a function that stops watching.
 */
export function watchPostmaster(dataDir: string, onGone: () => void): () => void {
  const pid = postmasterPid(dataDir);
  const timer = setInterval(() => {
    if (pid !== null && isAlive(pid)) return;
    clearInterval(timer);
    onGone();
  }, POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** The postmaster's pid from `postmaster.pid` in `dataDir`, null while there is none. */
export function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    // Field 3 of /proc/<pid>/stat is the state; the name before it is in parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
