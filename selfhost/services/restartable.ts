import type { ChildProcess } from "node:child_process";
import { exited, killOnExit } from "./processes";

export type RestartableChild = {
  /** Starts the process unless it runs; resolves once `ready` does. */
  start(): Promise<void>;
  /** Sends `stopSignal` and waits; the exit is not a crash. */
  stop(): Promise<void>;
  /** Calls `listener` when a started process exits without `stop()` (selfhost/supervisor.ts). */
  onCrash(listener: (reason: string) => void): void;
  readonly pid: number | undefined;
};

/**
 * One long-running child process (nginx, Prometheus) that `start()` can bring back after
 * it died: the pieces a supervisor needs, written once.
 *
 * @example
 *   const proc = restartableChild({ spawn: () => spawn("nginx", args), ready: () => waitForPort(port), stopSignal: "SIGQUIT" });
 *   await proc.start();
 */
export function restartableChild(opts: {
  spawn(): ChildProcess;
  ready(): Promise<void>;
  stopSignal: NodeJS.Signals;
  /** Cleans up after a dead process before the next starts (nginx: its orphaned workers). */
  beforeRestart?(dead: ChildProcess): void;
  name: string;
}): RestartableChild {
  let child: ChildProcess | undefined;
  const crashListeners: Array<(reason: string) => void> = [];
  return {
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      if (child) opts.beforeRestart?.(child);
      const started = opts.spawn();
      child = started;
      killOnExit(started);
      const failed = new Promise<never>((_, reject) =>
        started.once("exit", (code) => reject(new Error(`${opts.name} exited with ${code}`))),
      );
      await Promise.race([opts.ready(), failed]);
      // stop() forgets its child first, so an exit of the current child is one nobody asked for.
      started.once("exit", (code, signal) => {
        if (child === started) for (const listener of crashListeners) listener(`exited (${signal ?? code})`);
      });
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running) return;
      running.kill(opts.stopSignal);
      await exited(running);
    },
    onCrash: (listener) => void crashListeners.push(listener),
    get pid() {
      return child?.pid;
    },
  };
}
