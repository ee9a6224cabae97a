import { PROMETHEUS_CONTENT_TYPE } from "@shared/metrics/registry";
import { type ClickShipperStats, shipperMetrics } from "./click-shipper";
import { type ServiceHandle, startHttpService } from "./http-service";

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
}): Promise<ServiceHandle> {
  return startHttpService({
    port: opts.port,
    host: opts.host,
    // Any other path is a 404 whether or not the token came with it.
    auth: { token: opts.metricsToken, service: "shipper metrics", open: (path) => path !== "/metrics" },
    handle: (req, res) => {
      if (req.url !== "/metrics") return [404];
      res.writeHead(200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
      res.end(shipperMetrics(opts.replicas) + (opts.extraMetrics?.() ?? ""));
    },
  });
}
