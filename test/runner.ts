import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exited } from "../selfhost/services/processes";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The runner's fixed ports (selfhost/run.ts) before the offset. */
const RUNNER_PORTS = [5433, 5434, 6380, 8070, 8071, 8072, 8079, 8080, 8081, 8082, 8083, 8090, 8099];

export type Runner = {
  lbUrl: string;
  /** The control port's /metrics and /rolling-restart, and the shipper metrics. */
  shipperMetricsUrl: string;
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Ctrl-C, as an operator stops it; resolves with its exit code. */
  interrupt(): Promise<number | null>;
};

/**
 * `npm run selfhost` itself (selfhost/run.ts) as a child process, on ports shifted by
 * `offset` so it can run beside other runners, with its data in `dataDir`. Resolves
 * once it prints its banner, i.e. everything answers.
 */
export async function startRunner(opts: {
  dataDir: string;
  runDir: string;
  offset: number;
}): Promise<Runner> {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "selfhost/run.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      SELFHOST_DIR: opts.runDir,
      SELFHOST_DATA_DIR: opts.dataDir,
      SELFHOST_PORT_OFFSET: String(opts.offset),
      SELFHOST_PROMETHEUS: "off",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (chunk) => {
    out += chunk.toString();
  });
  child.stderr?.on("data", (chunk) => {
    out += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the runner did not start in 150 s:\n${out}`)), 150_000);
    child.stdout?.on("data", () => {
      if (out.includes("Ctrl-C stops everything")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the runner exited with ${code} while starting:\n${out}`));
    });
  });
  return {
    lbUrl: `http://127.0.0.1:${8080 + opts.offset}`,
    shipperMetricsUrl: `http://127.0.0.1:${8072 + opts.offset}/metrics`,
    child,
    output: () => out,
    async interrupt() {
      child.kill("SIGINT");
      await exited(child);
      return child.exitCode;
    },
  };
}

/** The admin token the runner generated into its data directory. */
export const adminTokenOf = (dataDir: string): string =>
  JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")).adminToken;

/**
 * An offset that puts every runner port on a free port, so tests can run beside a real runner. Every port stays
 * below 32768, where Linux's ephemeral range starts: an outgoing connection could take one there at any time.
 */
export async function freeRunnerOffset(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 10_000 + Math.floor(Math.random() * 146) * 100;
    const free = await Promise.all(RUNNER_PORTS.map((port) => isFree(port + offset)));
    if (free.every(Boolean)) return offset;
  }
  throw new Error("found no free range of ports for the runner");
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
