import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
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
  /** Replaces the config file; takes effect at the next start. */
  configure(capnp: string): void;
};

/**
 * One workerd process serving `configPath` on 127.0.0.1:`port`.
 *
 * @example const w = workerd({ configPath, port }); w.configure(edgeConfig(…)); await w.start();
 */
export function workerd(opts: { configPath: string; port: number; logPath?: string }): WorkerdProcess {
  let child: ChildProcess | undefined;
  return {
    port: opts.port,
    url: `http://127.0.0.1:${opts.port}`,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    configure(capnp) {
      writeFileSync(opts.configPath, capnp);
    },
    async start() {
      // Logs go to a file when one is given (clusters, tests); to this terminal otherwise.
      const out = opts.logPath ? openSync(opts.logPath, "a") : "inherit";
      child = spawn(workerdBinary(), ["serve", opts.configPath], { stdio: ["ignore", out, out] });
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
    },
    kill(signal) {
      child?.kill(signal);
    },
  };
}
