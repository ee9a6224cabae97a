/**
 * Entry point of the edge and aggregator containers in docker-compose.test.yml: writes
 * the workerd config for its role from the environment, then runs workerd in the
 * foreground (so the container stops with it). An edge's stdout goes through the click
 * shipper, which posts its click lines to the broker (CLICK_SINK=stdout).
 *   tsx selfhost/container-entry.ts edge|aggregator
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { postToBroker, shipClicks } from "./click-shipper";
import { serveShipperMetrics } from "./click-shipper-metrics";
import { openClickPipe } from "./services/click-pipe";
import { workerdBinary } from "./services/workerd";
import { AGGREGATOR_VARS, aggregatorConfig, EDGE_VARS, edgeConfig } from "./workerd-config";

const role = process.argv[2];
const root = fileURLToPath(new URL("..", import.meta.url));
const address = `0.0.0.0:${process.env.PORT ?? "8080"}`;
const pick = (names: readonly string[]) =>
  Object.fromEntries(
    names.filter((n) => process.env[n] !== undefined).map((n) => [n, process.env[n] as string]),
  );

const queueAddress = process.env.QUEUE_ADDRESS ?? "broker:8071";
// For workerd's KV and queue bindings and the click shipper; not a var of the worker itself.
const internalToken = process.env.INTERNAL_TOKEN ?? "";
let capnp: string;
if (role === "edge") {
  capnp = edgeConfig({
    bundlePath: relative("/tmp", `${root}dist/worker/index.js`),
    assetsPath: `${root}dist/assets`,
    address,
    kvAddress: process.env.KV_ADDRESS ?? "kv:8070",
    queueAddress,
    internalToken,
    vars: pick(EDGE_VARS),
  });
} else if (role === "aggregator") {
  capnp = aggregatorConfig({
    bundlePath: `${root}dist/aggregator/index.js`,
    address,
    vars: pick(AGGREGATOR_VARS),
  });
} else {
  console.error("usage: container-entry.ts edge|aggregator");
  process.exit(2);
}
const configPath = `/tmp/${role}.capnp`;
writeFileSync(configPath, capnp);
const edge = role === "edge";
const pipe = edge ? openClickPipe("/tmp") : undefined;
const child = spawn(workerdBinary(), ["serve", configPath], {
  stdio: ["inherit", pipe?.stdout ?? "inherit", "inherit"],
});
const input = pipe?.reader(child);
const shipper = input
  ? shipClicks({
      input,
      passthrough: process.stdout,
      deliver: postToBroker(`http://${queueAddress}`, internalToken),
    })
  : undefined;
if (shipper) {
  // workerd's /metrics cannot see the shipper: its counters get a port of their own.
  const replica = process.env.REPLICA_NAME ?? process.env.HOSTNAME ?? "edge";
  await serveShipperMetrics({
    port: Number(process.env.SHIPPER_METRICS_PORT ?? 9464),
    replicas: [{ replica, stats: shipper }],
    metricsToken: process.env.METRICS_TOKEN ?? "",
    host: "0.0.0.0",
  });
}
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", async (code) => {
  // Clicks written before workerd stopped are still to be shipped; stop_grace_period in
  // docker-compose.test.yml leaves room for this wait.
  if (shipper && !(await shipper.drained(15_000))) shipper.stop();
  process.exit(code ?? 1);
});
