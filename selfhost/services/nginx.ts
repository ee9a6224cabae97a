import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exited, killOnExit, waitForPort } from "./processes";

/** nginx in the foreground with a config the caller writes; reload applies a new one without dropping requests. */
export async function startNginx(opts: { prefix: string; port: number; config: string }) {
  mkdirSync(opts.prefix, { recursive: true });
  const conf = join(opts.prefix, "nginx.conf");
  writeFileSync(conf, opts.config);
  const binary = "nginx";
  const child: ChildProcess = spawn(binary, ["-p", opts.prefix, "-c", conf, "-g", "daemon off;"], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  killOnExit(child);
  await waitForPort(opts.port);
  return {
    url: `http://127.0.0.1:${opts.port}`,
    /** Writes a new config and reloads; old workers finish their requests. */
    reload(config: string) {
      writeFileSync(conf, config);
      execFileSync(binary, ["-p", opts.prefix, "-c", conf, "-s", "reload"], { stdio: "pipe" });
    },
    async stop() {
      child.kill("SIGQUIT");
      await exited(child);
    },
  };
}
