import { DurableObject } from "cloudflare:workers";
import type { AggregatorEnv } from "./env";
import { handlePushedBatch } from "./push-endpoint";
import { redisCounters } from "./redis-counters";
import { runtimeFor } from "./runtime";
import type { Queryable } from "./writer";

/**
 * Self-host: writes the broker's batches over Postgres connections kept from one batch to
 * the next. workerd ties a connection to the request that opened it, so the stateless
 * handler must open (and authenticate: SCRAM, 4096 HMAC rounds) one per batch, which was
 * two thirds of the aggregator's CPU (docs/benchmarks.md). A Durable Object's requests
 * share one I/O context, so its pool outlives each request; a connection that breaks is
 * dropped by the pool and the batch is retried like any failed write.
 *
 * The aggregator's fetch hands it `POST /__queue/<queue>` after checking the token:
 *
 * @example const writer = env.CLICK_WRITER.get(env.CLICK_WRITER.idFromName(queue)); return writer.fetch(request);
 */
export class ClickWriter extends DurableObject<AggregatorEnv> {
  private pool: { db: Queryable; close(): Promise<void> } | undefined;

  override async fetch(request: Request): Promise<Response> {
    const rt = runtimeFor(this.env);
    const queue = new URL(request.url).pathname.slice("/__queue/".length);
    this.pool ??= rt.openPool();
    const kept = { db: this.pool.db, close: async () => {} };
    return handlePushedBatch(request, queue, () => kept, redisCounters(rt.redis));
  }
}
