import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitForPort } from "./processes";
import { restartableChild } from "./restartable";

/** nginx in the foreground with the config the caller gives; `start()` brings it back after a crash. */
export async function startNginx(opts: { prefix: string; port: number; config: string }) {
  mkdirSync(opts.prefix, { recursive: true });
  const conf = join(opts.prefix, "nginx.conf");
  writeFileSync(conf, opts.config);
  const proc = restartableChild({
    name: "nginx",
    spawn: () =>
      spawn("nginx", ["-p", opts.prefix, "-c", conf, "-g", "daemon off;"], {
        stdio: ["ignore", "inherit", "inherit"],
        detached: true, // its own process group, so its workers can be found by it
      }),
    ready: () => waitForPort(opts.port),
    stopSignal: "SIGQUIT",
    // Workers outlive a master killed with -9 and keep the port: end the whole group of the old one.
    beforeRestart: (dead) => dead.pid && killGroup(dead.pid),
  });
  await proc.start();
  return Object.assign(proc, { url: `http://127.0.0.1:${opts.port}` });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group is gone already
  }
}
