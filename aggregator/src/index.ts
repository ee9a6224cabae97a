import { PROMETHEUS_CONTENT_TYPE } from "@shared/metrics/registry";
import { hasSecret } from "@shared/secrets-equal";
import type { AggregatorEnv } from "./env";
import { handleClickBatch } from "./handle-batch";
import { recordReconcile, registry } from "./metrics";
import { handlePushedBatch } from "./push-endpoint";
import { reconcileCounters } from "./reconcile";
import { redisCounters } from "./redis-counters";
import { type AggregatorRuntime, runtimeFor } from "./runtime";

async function reconcile(rt: AggregatorRuntime) {
  const { db, close } = rt.openPool();
  try {
    const report = await reconcileCounters(db, rt.redis);
    recordReconcile(report);
    return report;
  } finally {
    await close();
  }
}

export { ClickWriter } from "./click-writer";

export default {
  /** Consumes `clicks` (and `clicks-dlq` while a replay is running: writes are idempotent). */
  async queue(batch, env) {
    const rt = runtimeFor(env);
    const outcome = await handleClickBatch(batch, rt.openPool, redisCounters(rt.redis));
    console.log(JSON.stringify({ queue: batch.queue, ...outcome }));
  },

  /** Cron: repairs Redis click counters that fell behind Postgres, and reports the drift. */
  async scheduled(_controller, env) {
    console.log(JSON.stringify({ reconcile: await reconcile(runtimeFor(env)) }));
  },

  /** Health and metrics; in self-host also the broker's push endpoint and a reconcile trigger. */
  async fetch(request, env) {
    const rt = runtimeFor(env);
    const { metricsToken, queuePushToken } = rt.config;
    const url = new URL(request.url);
    const unauthorized = () => new Response("unauthorized\n", { status: 401 });
    if (url.pathname === "/health") return Response.json({ status: "ok" });
    if (url.pathname === "/metrics") {
      if (metricsToken && !(await hasSecret(request.headers, metricsToken))) return unauthorized();
      return new Response(registry.render(), { headers: { "Content-Type": PROMETHEUS_CONTENT_TYPE } });
    }
    // The broker's routes exist only where QUEUE_PUSH_TOKEN is set (self-host), never on Cloudflare.
    const internal = url.pathname.startsWith("/__queue/") || url.pathname === "/__reconcile";
    if (!queuePushToken || !internal || request.method !== "POST")
      return new Response("not found\n", { status: 404 });
    if (!(await hasSecret(request.headers, queuePushToken))) return unauthorized();
    if (url.pathname === "/__reconcile") return Response.json(await reconcile(rt));
    const queue = url.pathname.slice("/__queue/".length);
    if (env.CLICK_WRITER) return env.CLICK_WRITER.get(env.CLICK_WRITER.idFromName(queue)).fetch(request);
    return handlePushedBatch(request, queue, rt.openPool, redisCounters(rt.redis));
  },
} satisfies ExportedHandler<AggregatorEnv>;
