import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, createWriteStream, openSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { type ClickShipper, shipClicks } from "../click-shipper";
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
  /** Starts (again) with the current config. */
  start(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** Sends a signal without waiting (kill -9 in failover tests). */
  kill(signal: NodeJS.Signals): void;
  readonly running: boolean;
  /** The running process's id (benchmarks pin it to a core). */
  readonly pid: number | undefined;
  /** Replaces the config file; takes effect at the next start. */
  configure(capnp: string): void;
  /** The click shipper of the current run (edge replicas, see `shipClicksTo`). */
  readonly clicks: ClickShipper | undefined;
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
  let shipper: ClickShipper | undefined;
  return {
    port: opts.port,
    url: `http://127.0.0.1:${opts.port}`,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    get pid() {
      return child?.pid;
    },
    get clicks() {
      return shipper;
    },
    configure(capnp) {
      writeFileSync(opts.configPath, capnp);
    },
    async start() {
      // Logs go to a file when one is given (clusters, tests); to this terminal otherwise.
      const out = opts.logPath ? openSync(opts.logPath, "a") : "inherit";
      const stdout = opts.shipClicksTo ? "pipe" : out;
      child = spawn(workerdBinary(), ["serve", opts.configPath], { stdio: ["ignore", stdout, out] });
      if (opts.shipClicksTo && child.stdout) {
        const log = opts.logPath ? createWriteStream(opts.logPath, { flags: "a" }) : process.stdout;
        shipper = shipClicks({ input: child.stdout, passthrough: log, deliver: opts.shipClicksTo });
      }
      if (typeof out === "number") closeSync(out);
      killOnExit(child);
      const started = child;
      const failed = new Promise<never>((_, reject) =>
        started.once("exit", (code) => reject(new Error(`workerd exited with ${code} (${opts.configPath})`))),
      );
      await Promise.race([waitForPort(opts.port), failed]);
    },
    async stop() {
      if (!child) return;
      const c = child;
      child = undefined;
      c.kill("SIGTERM");
      await exited(c);
      // Clicks the replica wrote before it stopped are still in the pipe or the shipper.
      await shipper?.drained();
    },
    kill(signal) {
      child?.kill(signal);
    },
  };
}
