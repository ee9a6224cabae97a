import { createServer } from "node:http";
import { PROMETHEUS_CONTENT_TYPE } from "@shared/metrics/registry";
import { type ClickShipperStats, shipperMetrics } from "./click-shipper";

/**
 * `GET /metrics` with the click shippers' counters, for Prometheus: workerd's own
 * /metrics cannot see them. The runner serves all its replicas on one port; a Compose
 * edge container serves its own (selfhost/container-entry.ts).
 */
export async function serveShipperMetrics(
  port: number,
  replicas: Array<{ replica: string; stats: ClickShipperStats }>,
  host = "127.0.0.1",
): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
    res.end(shipperMetrics(replicas));
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
