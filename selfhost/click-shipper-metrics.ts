import { createServer } from "node:http";
import { PROMETHEUS_CONTENT_TYPE } from "@shared/metrics/registry";
import { type ClickShipperStats, shipperMetrics } from "./click-shipper";
import { bearerCheck } from "./internal-auth";

/**
 * `GET /metrics` with the click shippers' counters, for Prometheus: workerd's own
 * /metrics cannot see them. The runner serves all its replicas on one port; a Compose
 * edge container serves its own (selfhost/container-entry.ts). Like the workers'
 * /metrics it needs `Authorization: Bearer <METRICS_TOKEN>`.
 */
export async function serveShipperMetrics(opts: {
  port: number;
  replicas: Array<{ replica: string; stats: ClickShipperStats }>;
  metricsToken: string;
  /** More of the serving process's own metrics (the runner adds its restarts, selfhost/supervisor.ts). */
  extraMetrics?: () => string;
  host?: string;
}): Promise<{ port: number; close(): Promise<void> }> {
  const authorized = bearerCheck(opts.metricsToken, "shipper metrics");
  const server = createServer((req, res) => {
    if (req.url !== "/metrics") return void res.writeHead(404).end();
    if (!authorized(req)) return void res.writeHead(401).end();
    res.writeHead(200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
    res.end(shipperMetrics(opts.replicas) + (opts.extraMetrics?.() ?? ""));
  });
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host ?? "127.0.0.1", resolve));
  return {
    port: opts.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
