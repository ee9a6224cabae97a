import { type ChildProcess, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";

const children = new Set<ChildProcess>();
let hooked = false;
/** How long the exit hook lets children stop on SIGTERM before it SIGKILLs them. */
const EXIT_GRACE_MS = 5_000;

/**
 * Stops `child` when this Node process exits, however it exits: SIGTERM, up to EXIT_GRACE_MS for it to
 * go (on SIGTERM Redis writes out and fsyncs its append-only file, which it otherwise fsyncs only every
 * second; nginx and workerd shut down cleanly too), then SIGKILL. The exit hook cannot await, so it waits synchronously.
 */
export function killOnExit(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
  if (hooked) return;
  hooked = true;
  process.once("exit", () => {
    const left = [...children];
    for (const c of left) c.kill("SIGTERM");
    const deadline = Date.now() + EXIT_GRACE_MS;
    const pending = () => left.filter((c) => c.pid !== undefined && alive(c.pid));
    while (pending().length > 0 && Date.now() < deadline) sleepSync(20);
    for (const c of pending()) c.kill("SIGKILL");
  });
}

/** Whether `pid` still runs; an exited child nobody reaped yet (the event loop is gone) is a zombie, not running. */
function alive(pid: number): boolean {
  try {
    // Linux: the state is the field after the parenthesised command name.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT" || !process.platform.startsWith("linux")) {
      const ps = spawnSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" });
      return ps.status === 0 && !/^[ZX]/.test(ps.stdout.trim());
    }
    return false;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Resolves once something accepts TCP connections on host:port, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, host = "127.0.0.1", timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, host);
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
}

/** Resolves when `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}
