import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, createWriteStream, openSync, type WriteStream, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { type ClickShipper, type ClickShipperStats, shipClicks } from "../click-shipper";
import { openClickPipe } from "./click-pipe";
import { exited, killOnExit, waitForPort } from "./processes";

const require = createRequire(import.meta.url);

/** The workerd binary that npm installed with miniflare. */
export function workerdBinary(): string {
  const pkg = require.resolve("workerd/package.json");
  return pkg.replace(/package\.json$/, "bin/workerd");
}

export type WorkerdProcess = {
  port: number;
  url: string;
  /** Starts (again) with the current config; does nothing while it runs. */
  start(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** Sends a signal without waiting (kill -9 in failover tests). */
  kill(signal: NodeJS.Signals): void;
  /** Calls `listener` when a started process exits without `stop()` (selfhost/supervisor.ts). */
  onCrash(listener: (reason: string) => void): void;
  readonly running: boolean;
  /** The running process's id (benchmarks pin it to a core). */
  readonly pid: number | undefined;
  /** Replaces the config file; takes effect at the next start. */
  configure(capnp: string): void;
  /** Click shipping over every run of this replica (edge replicas, see `shipClicksTo`). */
  readonly clicks: ClickShipperStats;
};

/**
 * One workerd process serving `configPath` on 127.0.0.1:`port`.
 *
 * @example const w = workerd({ configPath, port }); w.configure(edgeConfig(…)); await w.start();
 */
export function workerd(opts: {
  configPath: string;
  port: number;
  logPath?: string;
  /** Edge replicas: where the click lines of stdout go (click-shipper.ts). */
  shipClicksTo?: (bodies: string[]) => Promise<void>;
}): WorkerdProcess {
  let child: ChildProcess | undefined;
  // A killed replica's shipper goes on draining its pipe after a restart: all are counted.
  const shippers: ClickShipper[] = [];
  let shipper: ClickShipper | undefined;
  let shipperLog: WriteStream | undefined;
  const crashListeners: Array<(reason: string) => void> = [];
  return {
    port: opts.port,
    url: `http://127.0.0.1:${opts.port}`,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    get pid() {
      return child?.pid;
    },
    clicks: totalOf(shippers),
    configure(capnp) {
      writeFileSync(opts.configPath, capnp);
    },
    async start() {
      // A supervisor's restart and a caller's start may meet: the second one has nothing to do.
      if (child && child.exitCode === null && child.signalCode === null) return;
      // Logs go to a file when one is given (clusters, tests); to this terminal otherwise.
      const out = opts.logPath ? openSync(opts.logPath, "a") : "inherit";
      const pipe = opts.shipClicksTo ? openClickPipe(dirname(opts.configPath)) : undefined;
      try {
        child = spawn(workerdBinary(), ["serve", opts.configPath], {
          stdio: ["ignore", pipe?.stdout ?? out, out],
        });
      } catch (err) {
        pipe?.close();
        throw err;
      }
      const input = pipe?.reader(child);
      if (opts.shipClicksTo && input) {
        // One log stream for every run of this replica (the file stays open while the runner lives).
        if (opts.logPath && !shipperLog) {
          shipperLog = createWriteStream(opts.logPath, { flags: "a" });
          shipperLog.on("error", () => {}); // a full disk must not stop the runner
        }
        const log = shipperLog ?? process.stdout;
        shipper = shipClicks({ input, passthrough: log, deliver: opts.shipClicksTo });
        shippers.push(shipper);
      }
      if (typeof out === "number") closeSync(out);
      killOnExit(child);
      const started = child;
      await listening(started, opts.port, opts.configPath);
      // stop() forgets its child first, so an exit of the current child is one nobody asked for.
      started.once("exit", (code, signal) => {
        if (child === started) for (const listener of crashListeners) listener(`exited (${signal ?? code})`);
      });
    },
    async stop() {
      if (!child) return;
      const c = child;
      child = undefined;
      c.kill("SIGTERM");
      await exited(c);
      // Clicks the replica wrote before it stopped are still in the pipe or the shipper. The
      // wait stays under the cluster's 10 s per stop; what is left then is counted as lost.
      if (shipper && !(await shipper.drained(7000))) shipper.stop();
    },
    kill(signal) {
      child?.kill(signal);
    },
    onCrash(listener) {
      crashListeners.push(listener);
    },
  };
}

/** Live sums over `shippers`, which grows by one each time the replica starts again. */
function totalOf(shippers: ClickShipper[]): ClickShipperStats {
  const sum = (pick: (s: ClickShipper) => number) => shippers.reduce((n, s) => n + pick(s), 0);
  return {
    get pending() {
      return sum((s) => s.pending);
    },
    get shipped() {
      return sum((s) => s.shipped);
    },
    get dropped() {
      return sum((s) => s.dropped);
    },
  };
}

/** Resolves once `port` accepts connections; rejects if `child` exits first (a bad config, say). */
async function listening(child: ChildProcess, port: number, configPath: string): Promise<void> {
  const failed = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`workerd exited with ${code} (${configPath})`))),
  );
  await Promise.race([waitForPort(port), failed]);
}
