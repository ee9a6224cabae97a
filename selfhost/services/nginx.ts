import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exited, killOnExit, waitForPort } from "./processes";

/** nginx in the foreground with the config the caller gives. */
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
    async stop() {
      child.kill("SIGQUIT");
      await exited(child);
    },
  };
}
