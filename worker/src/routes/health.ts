import { PROMETHEUS_CONTENT_TYPE } from "@shared/metrics/registry";
import { hasSecret } from "@shared/secrets-equal";
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { registry } from "../metrics";
import { runtimeFor } from "../runtime";
import { checkDependencies } from "../services/readiness";

/**
 * `/health`, `/health/live` (no I/O), `/ready` (503 naming what failed),
 * `/health/detailed` (per-dependency status and latency; admin token unless
 * HEALTH_DETAILED_PUBLIC=true) and `/metrics` (Prometheus; bearer METRICS_TOKEN when set).
 *
 * @example app.route("/", health)
 */
export const health = new Hono<AppEnv>()
  .get("/health", (c) => c.json({ status: "ok" }))
  .get("/health/live", (c) => c.json({ status: "ok" }))
  .get("/ready", async (c) => {
    const checks = await checkDependencies(c.env, c.executionCtx);
    const failed = checks.filter((d) => !d.ok).map((d) => d.name);
    // Not ready without them, so a deployment missing one fails its health checks before it takes traffic.
    const { missing } = runtimeFor(c.env).config;
    const ready = failed.length === 0 && missing.length === 0;
    c.header("Cache-Control", "no-store");
    return c.json(
      { status: ready ? "ready" : "unavailable", failed, ...(missing.length ? { missing } : {}) },
      ready ? 200 : 503,
    );
  })
  .get("/health/detailed", async (c) => {
    const { config } = runtimeFor(c.env);
    if (
      !config.healthDetailedPublic &&
      !(await hasSecret(c.req.raw.headers, config.adminToken, { apiKey: true }))
    ) {
      return c.json({ status: "hidden" }, 404);
    }
    const checks = await checkDependencies(c.env, c.executionCtx);
    const ok = checks.every((d) => d.ok);
    c.header("Cache-Control", "no-store");
    return c.json({ status: ok ? "ready" : "degraded", dependencies: checks }, ok ? 200 : 503);
  })
  .get("/metrics", async (c) => {
    const { metricsToken } = runtimeFor(c.env).config;
    if (metricsToken && !(await hasSecret(c.req.raw.headers, metricsToken, { apiKey: true }))) {
      return c.text("unauthorized\n", 401);
    }
    return c.body(registry.render(), 200, {
      "Content-Type": PROMETHEUS_CONTENT_TYPE,
      "Cache-Control": "no-store",
    });
  });
