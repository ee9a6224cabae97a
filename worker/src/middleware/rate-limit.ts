import { rateLimitPrefix } from "@shared/keys";
import { ProblemError } from "@shared/problem";
import { Ratelimit } from "@upstash/ratelimit";
import { createMiddleware } from "hono/factory";
import type { AppEnv, Env } from "../env";
import { failedOpen, limited } from "../metrics";
import { runtimeFor } from "../runtime";
import { clientIp } from "../services/click-event";

/**
 * The tiers: strict per IP on key endpoints, general per IP on the API, per API key (each
 * per second); password attempts per IP and per link (per minute, redirect/unlock.ts).
 */
export type Tier = "strict" | "api" | "key" | "unlockIp" | "unlockLink";

/** Built once per isolate, like the runtime (see runtimeFor). */
const limiters = new Map<Tier, Ratelimit>();

function limiterFor(env: Env, tier: Tier): Ratelimit {
  let limiter = limiters.get(tier);
  if (!limiter) {
    const rt = runtimeFor(env);
    const { rateLimitPerSecond: perSecond, passwordAttemptsPerMinute: perMinute } = rt.config;
    limiter = new Ratelimit({
      redis: rt.redis,
      limiter:
        tier === "unlockIp" || tier === "unlockLink"
          ? Ratelimit.slidingWindow(tier === "unlockIp" ? perMinute.ip : perMinute.link, "1 m")
          : Ratelimit.slidingWindow(perSecond[tier], "1 s"),
      prefix: rateLimitPrefix(tier),
      // The Redis client aborts after REDIS_TIMEOUT_MS; this is the limiter's own fail-open bound.
      timeout: rt.config.redis.timeoutMs,
      analytics: false,
    });
    limiters.set(tier, limiter);
  }
  return limiter;
}

/**
 * Counts one request of `identifier` against `tier`. Throws a 429 problem (with
 * `Retry-After` and `RateLimit-*` headers) when over the limit; returns the headers to
 * add to a passing response, or null when Redis could not answer (fail open, counted
 * in edge_rate_limit_fail_open_total).
 */
export async function consumeLimit(
  env: Env,
  tier: Tier,
  identifier: string,
): Promise<Record<string, string> | null> {
  let result: Awaited<ReturnType<Ratelimit["limit"]>> | null = null;
  try {
    result = await limiterFor(env, tier).limit(identifier);
    if (result.reason === "timeout") result = null;
  } catch {
    result = null;
  }
  if (!result) {
    failedOpen[tier].inc();
    return null;
  }
  const resetSeconds = Math.max(0, Math.ceil((result.reset - Date.now()) / 1000));
  const headers = {
    "RateLimit-Limit": String(result.limit),
    "RateLimit-Remaining": String(Math.max(0, result.remaining)),
    "RateLimit-Reset": String(resetSeconds),
  };
  if (!result.success) {
    limited[tier].inc();
    throw new ProblemError(429, "rate-limited", "Too many requests", {
      detail: `more than ${result.limit} requests per ${tier.startsWith("unlock") ? "minute" : "second"}`,
      headers: { ...headers, "Retry-After": String(Math.max(1, resetSeconds)) },
    });
  }
  return headers;
}

/**
 * Per-IP limiting with @upstash/ratelimit, failing open when Redis is slow or down.
 * The per-key tier runs inside authentication (middleware/auth.ts), once the key is known.
 *
 * @example api.use("*", rateLimit("api"))
 */
export const rateLimit = (tier: "strict" | "api") =>
  createMiddleware<AppEnv>(async (c, next) => {
    const ip = clientIp(c.req.raw, runtimeFor(c.env).config.clientIpHeader);
    const headers = await consumeLimit(c.env, tier, ip || "unknown");
    await next();
    // An inner, stricter tier (or its 429) already described the limit that binds.
    if (headers && !c.res.headers.has("RateLimit-Limit")) {
      for (const [name, value] of Object.entries(headers)) c.header(name, value);
    }
  });
