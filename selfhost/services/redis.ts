import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { generateSecret } from "../secrets";
import { freePort } from "./free-port";
import { exited, killOnExit } from "./processes";

export type RedisServer = {
  port: number;
  /** `redis://:<password>@127.0.0.1:<port>` */
  url: string;
  /** Stops the server; the data directory stays, so `start()` can bring it back. */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory after `stop()`. */
  start(): Promise<void>;
  /** Stops and removes the data directory when it was temporary. */
  dispose(): Promise<void>;
  /** Calls `listener` when the server exits without `stop()` (selfhost/supervisor.ts). */
  onCrash(listener: (reason: string) => void): void;
  /** The running server's process id (failover tests kill it). */
  readonly pid: number | undefined;
};

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * Starts a real redis-server on 127.0.0.1 (a free port unless given), in `dir` or a
 * temporary directory, requiring `password` (a random one when left out; the URL
 * carries it). Without `persist` nothing is written to disk; with it, the append-only
 * file (fsync every second, Redis's default) and snapshots in `dir` survive
 * `stop()`/`start()` and crashes.
 *
 * @example
 *   const redis = await startRedis();
 *   const client = new IORedis(redis.url);
 *   await redis.dispose();
 */
export async function startRedis(
  opts: { port?: number; dir?: string; persist?: boolean; password?: string } = {},
): Promise<RedisServer> {
  const binary = redisBinary();
  const port = opts.port ?? (await freePort());
  const temporary = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "redis-"));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const logFile = join(dir, "redis.log");
  const password = opts.password ?? generateSecret();
  // The password goes in through stdin, as a config file: on the command line every local user could read it.
  const args = ["-", "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--logfile", logFile];
  args.push(...(opts.persist ? ["--appendonly", "yes"] : ["--save", "", "--appendonly", "no"]));
  let child: ChildProcess | undefined;
  const crashListeners: Array<(reason: string) => void> = [];

  const start = async () => {
    if (child) return;
    const started = spawn(binary, args, { stdio: ["pipe", "ignore", "ignore"] });
    started.stdin?.end(`requirepass ${JSON.stringify(password)}\n`);
    child = started;
    killOnExit(started);
    let ready = false;
    started.once("exit", (code, signal) => {
      if (child !== started) return;
      child = undefined;
      // An exit while starting is start()'s error; one after is a crash (stop() forgets its child first).
      if (ready) for (const listener of crashListeners) listener(`exited (${signal ?? code})`);
    });
    try {
      await untilPong(port, password, started);
      ready = true;
    } catch (err) {
      await stop();
      throw new Error(`${(err as Error).message}\n${tail(logFile)}`);
    }
  };
  const stop = async () => {
    const running = child;
    if (!running) return;
    child = undefined;
    // SIGTERM lets Redis flush its append-only file when `persist` is on.
    running.kill("SIGTERM");
    const timer = setTimeout(() => running.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited(running);
    clearTimeout(timer);
  };

  if (temporary) {
    await start().catch((err) => {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    });
  } else {
    await start();
  }
  return {
    port,
    url: `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    start,
    stop,
    onCrash: (listener) => void crashListeners.push(listener),
    get pid() {
      return child?.pid;
    },
    async dispose() {
      await stop();
      if (temporary) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function redisBinary(): string {
  const dirs = [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), "/usr/bin", "/usr/sbin"];
  const found = dirs.map((d) => join(d, "redis-server")).find((path) => existsSync(path));
  if (!found)
    throw new Error("redis-server not found on PATH: install it with `apt-get install redis-server`");
  return found;
}

/**
 * Resolves once Redis answers PING on `port`. An open port is not enough: it could be
 * another process that took the port, or a Redis still loading its data.
 */
async function untilPong(port: number, password: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited (${child.exitCode ?? child.signalCode})`);
    }
    if (await pings(port, password)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms`);
}

function pings(port: number, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => socket.write(`AUTH ${JSON.stringify(password)}\r\nPING\r\n`));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      // Two answers: +OK to AUTH, then +PONG (or -LOADING while it reads its data).
      const lines = reply.split("\r\n");
      if (lines.length > 2) done(lines[0] === "+OK" && lines[1] === "+PONG");
    });
    socket.once("error", () => done(false));
    socket.once("close", () => done(false));
  });
}

function tail(logFile: string): string {
  try {
    return readFileSync(logFile, "utf8").split("\n").slice(-10).join("\n");
  } catch {
    return "(no redis log)";
  }
}
