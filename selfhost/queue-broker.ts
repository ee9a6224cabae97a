/**
 * The self-hosted stand-in for Cloudflare Queues, on a Redis stream `q:<queue>`, in three parts:
 * the stream store (queue-broker/store.ts), the delivery loop (queue-broker/delivery.ts) and the
 * HTTP surface (queue-broker/http.ts).
 * - Producer side, what workerd's Queue binding sends (RUNTIME-NOTES): `POST /message`
 *   (`X-Msg-Fmt: json|text|bytes`; v8 is refused) and `POST /batch` (base64 bodies). Each message
 *   is XADDed before the 200 (waiting out a Redis restart), so a 200 means stored.
 *   Also `GET /stats` and `POST /replay-dlq`. Every route needs `Authorization: Bearer <token>`
 *   (selfhost/internal-auth.ts): a forged `/message` is a forged click.
 * - Consumer side: a loop reads batches through the consumer group `aggregator` and POSTs them to
 *   `consumerUrl` (aggregator/src/push-endpoint.ts), which answers `{acked, retried}`. Acked ids are
 *   XACKed and XDELed only after that answer (after the consumer's commit); retried ids stay pending,
 *   parked in the sorted set `q:<queue>:delayed` until due; deliveries unanswered for
 *   `visibilityTimeoutMs` are taken back with XAUTOCLAIM. `attempts` counts deliveries (hash
 *   `q:<queue>:attempts`); a retry on the (maxRetries+1)-th delivery goes to `q:<queue>-dlq`.
 * - Consumer failing: the batch is retried with backoff and the loop pauses; a refused connection
 *   costs no attempt, so an aggregator outage fills no dead-letter queue.
 *
 * @example
 *   const broker = await startQueueBroker({ redisUrl, token, consumerUrl: "http://127.0.0.1:8090/__queue/clicks", consumerToken });
 *   // workerd: edgeConfig({ queueAddress: `127.0.0.1:${broker.port}`, internalToken: token })
 *   await broker.stats(); // { backlog, pending, deadLetters, oldestAgeSeconds }
 *   await broker.close();
 * CLI: REDIS_URL=… INTERNAL_TOKEN=… CONSUMER_URL=… CONSUMER_TOKEN=… [PORT=8071] [HOST=…] tsx selfhost/queue-broker.ts
 */
import { runServiceIfMain } from "./entry-point";
import type { ServiceHandle } from "./http-service";
import { requireToken } from "./internal-auth";
import { startDelivery } from "./queue-broker/delivery";
import { serveBroker } from "./queue-broker/http";
import { type QueueBrokerStats, StreamStore } from "./queue-broker/store";

export type { QueueBrokerStats } from "./queue-broker/store";
export type QueueBroker = ServiceHandle & {
  stats(): Promise<QueueBrokerStats>;
  replayDeadLetters(): Promise<number>;
  /**
   * Stores JSON message bodies, one line each, as one stream entry, without the HTTP round or its
   * JSON check: click-shipper.ts passes whole lines of JSON.stringify output and checks a cut one.
   */
  appendJson(bodies: string[]): Promise<void>;
};

export async function startQueueBroker(opts: {
  redisUrl: string;
  port?: number;
  host?: string;
  /** Default "clicks": stream `q:clicks`, dead letters `q:clicks-dlq`. */
  queue?: string;
  /** What producers and operators must present; the broker refuses to start without one. */
  token: string;
  consumerUrl: string;
  consumerToken: string;
  maxBatchSize?: number;
  /** How long an idle read of the stream waits for a first message (default 1000); the fill is batchFillMs. */
  maxBatchTimeoutMs?: number;
  /**
   * Once a delivery has new messages, how long it waits for more to fill it to maxBatchSize
   * (Cloudflare's max_batch_timeout). Default 250: most of what a delivery costs the broker, the
   * aggregator and Postgres is per delivery, not per click (docs/benchmarks.md, issue 19).
   */
  batchFillMs?: number;
  maxRetries?: number;
  /** An unanswered delivery is delivered again after this (also the consumer request's timeout). */
  visibilityTimeoutMs?: number;
  /** Backoff after a consumer failure: base · 2^(attempts-1), at most 60 s. Default 1000. */
  retryBaseDelayMs?: number;
}): Promise<QueueBroker> {
  const token = requireToken(opts.token, "queue broker");
  const queue = opts.queue ?? "clicks";
  const visibilityTimeoutMs = opts.visibilityTimeoutMs ?? 30_000;
  const store = await StreamStore.open({
    redisUrl: opts.redisUrl,
    queue,
    maxRetries: opts.maxRetries ?? 5,
    visibilityTimeoutMs,
    readBlockMs: opts.maxBatchTimeoutMs ?? 1000,
    fillMs: opts.batchFillMs ?? 250,
  });
  const http = await serveBroker({ store, token, port: opts.port, host: opts.host }).catch(async (err) => {
    await store.close();
    throw err;
  });
  const delivery = startDelivery({
    store,
    queue,
    consumerUrl: opts.consumerUrl,
    consumerToken: opts.consumerToken,
    // Each delivery costs the aggregator a Postgres connection (workerd keeps none across requests):
    // at 100 per batch, authenticating it was two thirds of the aggregator's CPU (docs/benchmarks.md).
    maxBatchSize: opts.maxBatchSize ?? 1000,
    visibilityTimeoutMs,
    retryBaseDelayMs: opts.retryBaseDelayMs ?? 1000,
  });

  let closing: Promise<void> | undefined;
  const close = async () => {
    // The batch in flight and the appends in flight finish before Redis is let go.
    await Promise.all([delivery.stop(), http.close()]);
    await store.close();
  };
  return {
    url: http.url,
    port: http.port,
    stats: () => store.stats(),
    replayDeadLetters: () => store.replayDeadLetters(),
    appendJson: (bodies) => store.appendBatch(bodies),
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}

await runServiceIfMain(import.meta.url, { port: 8071 }, async (env) => {
  const consumerUrl = env.require("CONSUMER_URL", "e.g. http://127.0.0.1:8090/__queue/clicks");
  const consumerToken = env.require("CONSUMER_TOKEN", "the aggregator's QUEUE_PUSH_TOKEN");
  const broker = await startQueueBroker({
    redisUrl: env.redisUrl,
    port: env.port,
    host: env.host,
    token: env.internalToken,
    consumerUrl,
    consumerToken,
  });
  return { service: broker, started: `queue broker on ${broker.url} → ${consumerUrl}` };
});
