import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port";
import { exited, killOnExit, waitForPort } from "./processes";

export type RedisServer = {
  port: number;
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops and removes the data directory when it was temporary. */
  dispose(): Promise<void>;
};

function redisBinary(): string {
  const found = spawnSync("sh", ["-c", "command -v redis-server"]).stdout?.toString().trim();
  if (found) return found;
  if (existsSync("/usr/bin/redis-server")) return "/usr/bin/redis-server";
  throw new Error("redis-server is not installed: apt-get install redis-server");
}

/**
 * Starts a real redis-server on 127.0.0.1 (a free port unless given). Without
 * `persist` nothing is written to disk; with it, an append-only file in `dir`.
 *
 * @example const redis = await startRedis(); … await redis.dispose();
 */
export async function startRedis(
  opts: { port?: number; dir?: string; persist?: boolean } = {},
): Promise<RedisServer> {
  const binary = redisBinary();
  const port = opts.port ?? (await freePort());
  const temporary = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "redis-"));
  mkdirSync(dir, { recursive: true });
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""];
  args.push("--appendonly", opts.persist ? "yes" : "no");
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn(binary, args, { stdio: "ignore" });
    killOnExit(child);
    await waitForPort(port);
  };
  const stop = async () => {
    if (!child) return;
    const c = child;
    child = undefined;
    c.kill("SIGTERM");
    await exited(c);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    async dispose() {
      await stop();
      if (temporary) rmSync(dir, { recursive: true, force: true });
    },
  };
}
