import { Hono } from "hono";
import type { AppEnv } from "../env";

/**
 * Liveness: the process answers, no I/O. Readiness and metrics come with observability.
 *
 * @example app.route("/", health)
 */
export const health = new Hono<AppEnv>()
  .get("/health", (c) => c.json({ status: "ok" }))
  .get("/health/live", (c) => c.json({ status: "ok" }));
