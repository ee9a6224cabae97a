import type { Mutation } from "./types";

/** The writer's statement is a template literal: once planted there, the `${…}` below is code. */
const ROLLUP_FROM_WHOLE_BATCH =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: see above
  '  from (select * from unnest(${EVENT_COLUMNS.map((c, i) => `$${i + 1}::${c.type}[]`).join(", ")}) as batch(${EVENT_COLUMNS.map((c) => c.name).join(", ")})) as inserted\n  group by';

/** Click counters, click ids, the Redis budget and the aggregator's writer. */
export const COUNTER_MUTATIONS: Mutation[] = [
  {
    id: "edge-counter-keyed-by-slug",
    bug: "the edge counts clicks by slug, so a recreated slug inherits the deleted link's count",
    file: "worker/src/redirect/answer.ts",
    search: "await countClick(rt.counter, decision)",
    replace: "await countClick(rt.counter, { ...decision, linkId: slug })",
    tests: ["test/redirect.test.ts"],
  },
  {
    id: "aggregator-counter-keyed-by-slug",
    bug: "the aggregator adds unlimited links' clicks to slug-keyed counters",
    file: "aggregator/src/handle-batch.ts",
    search: "byLink.set(r.linkId, (byLink.get(r.linkId) ?? 0) + 1)",
    replace: "byLink.set(r.slug, (byLink.get(r.slug) ?? 0) + 1)",
    tests: ["aggregator/src/handle-batch.integration.test.ts"],
  },
  {
    id: "reconcile-skips-idle-limited",
    bug: "reconciliation skips limited links not clicked lately, so a lost counter reopens their limit",
    file: "aggregator/src/reconcile.ts",
    search: "and (l.max_clicks is not null",
    replace: "and (false",
    tests: ["aggregator/src/outage.integration.test.ts"],
  },
  {
    id: "rollup-conflict-adds-twice",
    bug: "a rollup row that already exists gets a batch's clicks added twice",
    file: "aggregator/src/writer.ts",
    search: "set count = click_rollups.count + excluded.count",
    replace: "set count = click_rollups.count + excluded.count * 2",
    tests: ["aggregator/src/handle-batch.integration.test.ts"],
  },
  {
    id: "rollup-conflict-overwrites",
    bug: "a rollup row that already exists is overwritten by a batch's count instead of added to",
    file: "aggregator/src/writer.ts",
    search: "set count = click_rollups.count + excluded.count",
    replace: "set count = excluded.count",
    tests: ["aggregator/src/handle-batch.integration.test.ts"],
  },
  {
    id: "rollup-counts-redelivered",
    bug: "rollups are built from the whole batch, not only the events the insert kept (redelivery counts twice)",
    file: "aggregator/src/writer.ts",
    search: "  from inserted\n  group by",
    replace: ROLLUP_FROM_WHOLE_BATCH,
    tests: ["aggregator/src/handle-batch.integration.test.ts"],
  },
  {
    id: "request-id-always-trusted",
    bug: "X-Request-Id becomes the click id without TRUST_REQUEST_ID (clients choose click ids)",
    file: "worker/src/redirect/answer.ts",
    search: 'requestId: rt.config.trustRequestId ? headers.get("x-request-id") : null,',
    replace: 'requestId: headers.get("x-request-id"),',
    tests: ["test/request-id.test.ts"],
  },
  {
    id: "request-id-never-trusted",
    bug: "TRUST_REQUEST_ID=true is ignored (nginx's retries count a click twice)",
    file: "worker/src/config.ts",
    search: 'trustRequestId: env.TRUST_REQUEST_ID === "true",',
    replace: "trustRequestId: false,",
    tests: ["test/request-id.test.ts"],
  },
  {
    id: "redis-timeout-removed",
    bug: "the Redis client has no abort timeout, so a hanging Redis hangs limited redirects",
    file: "worker/src/adapters/redis.ts",
    search: "signal: () => AbortSignal.timeout(timeoutMs),",
    replace: "",
    tests: ["test/slow-redis.test.ts"],
  },
];
