import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exited, killOnExit, waitForPort } from "./processes";

/** nginx in the foreground with the config the caller gives; `start()` brings it back after a crash. */
export async function startNginx(opts: { prefix: string; port: number; config: string }) {
  mkdirSync(opts.prefix, { recursive: true });
  const conf = join(opts.prefix, "nginx.conf");
  writeFileSync(conf, opts.config);
  let child: ChildProcess | undefined;
  const crashListeners: Array<(reason: string) => void> = [];

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    // Workers outlive a master killed with -9 and keep the port: end the whole group of the old one.
    if (child?.pid) killGroup(child.pid);
    const started = spawn("nginx", ["-p", opts.prefix, "-c", conf, "-g", "daemon off;"], {
      stdio: ["ignore", "inherit", "inherit"],
      detached: true, // its own process group, so its workers can be found by it
    });
    child = started;
    killOnExit(started);
    const failed = new Promise<never>((_, reject) =>
      started.once("exit", (code) => reject(new Error(`nginx exited with ${code}`))),
    );
    await Promise.race([waitForPort(opts.port), failed]);
    // stop() forgets its child first, so an exit of the current child is one nobody asked for.
    started.once("exit", (code, signal) => {
      if (child === started) for (const listener of crashListeners) listener(`exited (${signal ?? code})`);
    });
  };
  await start();
  return {
    url: `http://127.0.0.1:${opts.port}`,
    start,
    /** The running master's process id (failover tests kill it). */
    get pid() {
      return child?.pid;
    },
    onCrash: (listener: (reason: string) => void) => void crashListeners.push(listener),
    async stop() {
      const running = child;
      child = undefined;
      if (!running) return;
      running.kill("SIGQUIT");
      await exited(running);
    },
  };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group is gone already
  }
}
