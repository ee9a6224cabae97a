import { Counter, Gauge, Histogram, Registry } from "@shared/metrics/registry";

/**
 * The edge worker's metrics, per isolate (one per workerd replica in self-host).
 * Handles for fixed label values are made once here, so counting on the hot path is
 * a property read and an addition.
 */
export const registry = new Registry();

const requests = registry.register(
  new Counter("edge_requests_total", "Requests answered, by route group and status.", ["route", "status"]),
);
const redirectDuration = registry.register(
  new Histogram(
    "edge_redirect_duration_seconds",
    "Time to answer GET /:slug.",
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  ),
);
const lookups = registry.register(
  new Counter("edge_link_lookups_total", "How redirects found their link.", ["result"]),
);
const fallbacks = registry.register(
  new Counter(
    "edge_kv_miss_fallback_total",
    "KV misses and what the Postgres fallback did with them (skipped: KV_MISS_FALLBACK=none; over_budget: rate spent).",
    ["outcome"],
  ),
);
const indexAnswers = registry.register(
  new Counter(
    "edge_kv_index_absent_total",
    "Lookups of keys the isolate's KV key index did not hold (self-host): answered 404 without a KV read (skipped), or read within the per-second budget (read).",
    ["outcome"],
  ),
);
const indexPulls = registry.register(
  new Counter("edge_kv_index_pulls_total", "Pulls of the KV service's change feed of keys, by outcome.", [
    "outcome",
  ]),
);
const indexKeys = registry.register(
  new Gauge("edge_kv_index_keys", "Keys in the isolate's KV key index after its last pull."),
);
const rateLimited = registry.register(
  new Counter("edge_rate_limited_total", "Requests answered 429.", ["tier"]),
);
const failOpen = registry.register(
  new Counter("edge_rate_limit_fail_open_total", "Limiter decisions taken without Redis.", ["tier"]),
);
const redisFailures = registry.register(
  new Counter("edge_redis_failures_total", "Redis calls on the redirect path that failed.", ["op"]),
);
const queueFailures = registry.register(
  new Counter("edge_queue_send_failures_total", "Click events that could not be queued."),
);
const clicksUnrecorded = registry.register(
  new Counter("edge_clicks_unrecorded_total", "Clicks redirected but not recorded, by reason.", ["reason"]),
);
registry
  .register(new Gauge("edge_build_info", "Build information; always 1.", ["version", "runtime"]))
  .set(1, "0.1.0", "workerd");

export type RouteGroup = "redirect" | "unlock" | "api" | "health" | "metrics" | "other";
type Inc = { inc(by?: number): void };
const requestHandles = new Map<string, Inc>();

/** Counts one answered request; `status` is a number, the label string is made once per pair. */
export function countRequest(route: RouteGroup, status: number): void {
  const key = `${route}${status}`;
  let handle = requestHandles.get(key);
  if (!handle) {
    handle = requests.labels(route, String(status));
    requestHandles.set(key, handle);
  }
  handle.inc();
}

const observeRedirect = redirectDuration.labels();

/**
 * Counts one answered request and, for redirects, its time since `start` (performance.now()):
 * the measure middleware for routed requests, the fast path for the rest.
 */
export function recordAnswer(group: RouteGroup, status: number, start: number): void {
  countRequest(group, status);
  if (group === "redirect") observeRedirect.observe((performance.now() - start) / 1000);
}
export const lookup = {
  kvHit: lookups.labels("kv_hit"),
  dbHit: lookups.labels("db_hit"),
  miss: lookups.labels("miss"),
  unavailable: lookups.labels("unavailable"),
  storeError: lookups.labels("store_error"),
};
/** found + not_found + failed is the number of Postgres queries redirects made. */
export const fallback = {
  found: fallbacks.labels("found"),
  notFound: fallbacks.labels("not_found"),
  failed: fallbacks.labels("failed"),
  overBudget: fallbacks.labels("over_budget"),
  skipped: fallbacks.labels("skipped"),
};
export const linkIndex = {
  skipped: indexAnswers.labels("skipped"),
  read: indexAnswers.labels("read"),
  pulls: indexPulls.labels("ok"),
  pullFailures: indexPulls.labels("failed"),
  keys: { set: (n: number) => indexKeys.set(n) },
};
export const limited = {
  strict: rateLimited.labels("strict"),
  api: rateLimited.labels("api"),
  key: rateLimited.labels("key"),
  unlockIp: rateLimited.labels("unlock_ip"),
  unlockLink: rateLimited.labels("unlock_link"),
};
export const failedOpen = {
  strict: failOpen.labels("strict"),
  api: failOpen.labels("api"),
  key: failOpen.labels("key"),
  unlockIp: failOpen.labels("unlock_ip"),
  unlockLink: failOpen.labels("unlock_link"),
};
export const redisFailure = { clickLimit: redisFailures.labels("click_limit") };
export const queueSendFailure = queueFailures.labels();
export const clickUnrecorded = { noVisitorSalt: clicksUnrecorded.labels("no_visitor_salt") };
