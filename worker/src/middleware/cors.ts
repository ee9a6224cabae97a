import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "../env";
import { runtimeFor } from "../runtime";

/**
 * CORS for the API from the CORS_ORIGINS setting (read once per isolate). Keys travel
 * in headers, never cookies, so credentials are not allowed.
 *
 * @example api.use("*", corsFromConfig())
 */
export const corsFromConfig = (): MiddlewareHandler<AppEnv> => {
  let cached: { origins: readonly string[]; handler: MiddlewareHandler } | undefined;
  return (c, next) => {
    const origins = runtimeFor(c.env).config.corsOrigins;
    if (origins.length === 0) return next();
    if (cached?.origins !== origins) {
      cached = {
        origins,
        handler: cors({
          origin: origins.includes("*") ? "*" : [...origins],
          allowMethods: ["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
          allowHeaders: ["Authorization", "X-Api-Key", "Content-Type"],
          exposeHeaders: [
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "Retry-After",
            "Location",
          ],
          maxAge: 600,
        }),
      };
    }
    return cached.handler(c, next);
  };
};
