import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import bcrypt from "bcryptjs";
import { waitForPort } from "./processes";
import { type RestartableChild, restartableChild } from "./restartable";

const ALERTS = fileURLToPath(new URL("../prometheus/alerts.yml", import.meta.url));

/** The user Prometheus's own web API asks for; the password is the deployment's metrics token. */
const PROMETHEUS_USER = "metrics";

/**
 * Prometheus (Debian's binary) scraping the local cluster with the same alert rules
 * as Compose; only the targets differ (127.0.0.1 ports instead of service names).
 * Its web API (queries, alerts) requires basic auth with the metrics token, like every
 * internal service: loopback alone would let any local user read the cluster's metrics.
 */
export async function startPrometheus(opts: {
  dir: string;
  port: number;
  targets: Record<string, string[]>;
  scrapeInterval?: string;
  /** Sent as the bearer token of every scrape: self-hosted /metrics endpoints require it. */
  metricsToken: string;
}): Promise<RestartableChild & { url: string; authorization: string }> {
  mkdirSync(opts.dir, { recursive: true });
  const tokenPath = join(opts.dir, "metrics-token");
  writeFileSync(tokenPath, opts.metricsToken, { mode: 0o600 });
  const interval = opts.scrapeInterval ?? "5s";
  const jobs = Object.entries(opts.targets)
    .map(
      ([job, targets]) =>
        `  - job_name: ${job}\n    authorization:\n      credentials_file: ${JSON.stringify(tokenPath)}\n    static_configs:\n      - targets: [${targets.map((t) => `"${t}"`).join(", ")}]`,
    )
    .join("\n");
  const config = `global:\n  scrape_interval: ${interval}\n  evaluation_interval: ${interval}\nrule_files:\n  - ${JSON.stringify(ALERTS)}\nscrape_configs:\n${jobs}\n`;
  const configPath = join(opts.dir, "prometheus.yml");
  writeFileSync(configPath, config);
  // Prometheus keeps only a bcrypt hash of the password (its web config format).
  const webConfigPath = join(opts.dir, "web.yml");
  const hash = bcrypt.hashSync(opts.metricsToken, 10);
  writeFileSync(webConfigPath, `basic_auth_users:\n  ${PROMETHEUS_USER}: ${JSON.stringify(hash)}\n`, {
    mode: 0o600,
  });
  const proc = restartableChild({
    name: "prometheus",
    spawn: () =>
      spawn(
        "prometheus",
        [
          `--config.file=${configPath}`,
          `--storage.tsdb.path=${join(opts.dir, "data")}`,
          `--web.listen-address=127.0.0.1:${opts.port}`,
          `--web.config.file=${webConfigPath}`,
          "--log.level=warn",
        ],
        { stdio: ["ignore", "ignore", "inherit"] },
      ),
    ready: () => waitForPort(opts.port, "127.0.0.1", 30_000),
    stopSignal: "SIGTERM",
  });
  await proc.start();
  const authorization = `Basic ${Buffer.from(`${PROMETHEUS_USER}:${opts.metricsToken}`).toString("base64")}`;
  return Object.assign(proc, { url: `http://127.0.0.1:${opts.port}`, authorization });
}
