import { Redis } from "@upstash/redis/cloudflare";

/**
 * An Upstash REST client tuned for a request path: no retries and a short abort
 * timeout, so a slow Redis costs at most `timeoutMs` before callers fail open.
 * Auto-pipelining is off because a pipeline shared across requests would resolve one
 * request's promise from another's I/O, which workerd forbids.
 */
export function createRedis(url: string, token: string, timeoutMs: number): Redis {
  return new Redis({
    url,
    token,
    retry: false,
    enableAutoPipelining: false,
    enableTelemetry: false,
    signal: () => AbortSignal.timeout(timeoutMs),
  });
}
