import type { MiddlewareHandler } from "hono";
import { type RouteGroup, recordAnswer } from "../metrics";

/**
 * The route group of a path, from its first segment only: no per-request label building.
 * A POST to a slug is a password form's submission: its PBKDF2 must not count as redirect time.
 */
function routeGroup(method: string, path: string): RouteGroup {
  if (path.startsWith("/api/") || path === "/openapi.json") return "api";
  if (path === "/metrics") return "metrics";
  if (path === "/health" || path.startsWith("/health/") || path === "/ready") return "health";
  if (path.indexOf("/", 1) !== -1) return "other";
  return method === "POST" ? "unlock" : "redirect";
}

/**
 * Counts every answered request by route group and status, and times redirects.
 *
 * @example app.use("*", measure())
 */
export const measure = (): MiddlewareHandler => async (c, next) => {
  const start = performance.now();
  await next();
  recordAnswer(routeGroup(c.req.method, c.req.path), c.res.status, start);
};
