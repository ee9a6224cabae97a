/**
 * The queue broker's consumer side (selfhost/queue-broker.ts): a loop that takes batches from the
 * stream store and POSTs them to the aggregator's push endpoint (aggregator/src/push-endpoint.ts),
 * which answers `{acked, retried}` after its commit.
 * - Consumer failing (an error status or no valid answer): the batch is retried with backoff and the
 *   loop pauses. A refused connection costs no attempt, so an aggregator outage fills no dead-letter
 *   queue; a request left unanswered stays pending until the visibility timeout.
 *
 * @example
 *   const delivery = startDelivery({ store, queue: "clicks", consumerUrl, consumerToken, maxBatchSize: 100, visibilityTimeoutMs: 30_000, retryBaseDelayMs: 1000 });
 *   await delivery.stop(); // after the batch in flight
 */
import { type Answer, entryMessages, type Message, type StreamStore } from "./store";

const MAX_BACKOFF_MS = 60_000;
/** fetch failures that mean the request never reached the consumer. */
const NOT_REACHED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

type Outcome = Answer | "unreached" | "failed" | "unanswered";

export type DeliveryOptions = {
  store: StreamStore;
  /** Names the backlog figures sent along with each batch. */
  queue: string;
  consumerUrl: string;
  consumerToken: string;
  maxBatchSize: number;
  /** Also the consumer request's timeout: past it the batch is due for redelivery anyway. */
  visibilityTimeoutMs: number;
  /** Backoff after a consumer failure: base · 2^(attempts-1), at most 60 s. */
  retryBaseDelayMs: number;
};

/** Starts delivering; `stop()` resolves once the batch in flight is settled (bounded by the visibility timeout). */
export function startDelivery(opts: DeliveryOptions): { stop(): Promise<void> } {
  const { store } = opts;
  const backoff = (n: number) => Math.min(MAX_BACKOFF_MS, opts.retryBaseDelayMs * 2 ** Math.max(0, n - 1));
  let running = true;
  let wake = () => {};
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  let failures = 0; // consecutive batches the consumer did not take

  /** Delivers one batch; returns how long to pause before the next. */
  async function deliverOnce(): Promise<number> {
    const batch = await store.take(opts.maxBatchSize);
    if (batch.length === 0) return 0;
    const outcome = await post(opts, batch);
    if (typeof outcome === "object") {
      failures = 0;
      await store.settle(batch, outcome);
      return 0;
    }
    const wait = backoff(++failures);
    if (outcome === "unreached") await store.giveBack(batch, Date.now() + wait);
    else if (outcome === "failed") {
      const retried = batch.map((m) => ({ id: m.id, delaySeconds: backoff(m.attempts) / 1000 }));
      await store.settle(batch, { acked: [], retried });
    } // "unanswered": left pending; the store takes it back once the visibility timeout has passed.
    return wait;
  }

  const loop = (async () => {
    while (running) {
      try {
        const wait = await deliverOnce();
        if (wait > 0 && running) await pause(wait);
      } catch (err) {
        // Redis restarted empty: the group is gone with the stream.
        if ((err as Error).message?.includes("NOGROUP")) await store.ensureGroup().catch(() => {});
        if (running) await pause(500);
      }
    }
  })();

  return {
    stop() {
      running = false;
      wake();
      return loop;
    },
  };
}

async function post(opts: DeliveryOptions, batch: Message[]): Promise<Outcome> {
  const s = await opts.store.stats();
  let res: Response;
  try {
    res = await fetch(opts.consumerUrl, {
      method: "POST",
      headers: { Authorization: `Bearer ${opts.consumerToken}`, "Content-Type": "application/json" },
      body: requestBody(batch, {
        backlog: { [opts.queue]: s.backlog + s.pending, [`${opts.queue}-dlq`]: s.deadLetters },
        lagSeconds: s.oldestAgeSeconds,
      }),
      signal: AbortSignal.timeout(opts.visibilityTimeoutMs),
    });
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code ?? "";
    return NOT_REACHED.has(code) ? "unreached" : "unanswered";
  }
  const answer = (await res.json().catch(() => undefined)) as Partial<Answer> | undefined;
  if (!res.ok || !Array.isArray(answer?.acked) || !Array.isArray(answer?.retried)) return "failed";
  return answer as Answer;
}

/**
 * `{messages, backlog, lagSeconds}` for the consumer, written as text: a JSON body goes in as
 * stored, neither parsed nor serialized again. That is safe because every way into the stream
 * checks it (the HTTP routes parse it, the click shipper drops a line cut short), and a replayed dead
 * letter is copied as it was; text and base64 bytes go in as JSON strings.
 */
function requestBody(
  batch: Message[],
  state: { backlog: Record<string, number>; lagSeconds: number },
): string {
  const messages: string[] = [];
  for (const m of batch) {
    const json = m.type === "json" || m.type === "batch";
    for (const { id, body } of entryMessages(m))
      messages.push(
        `{"id":${JSON.stringify(id)},"body":${json ? body : JSON.stringify(body)},"attempts":${m.attempts},"timestamp":${m.ts}}`,
      );
  }
  return `{"messages":[${messages.join(",")}],"backlog":${JSON.stringify(state.backlog)},"lagSeconds":${state.lagSeconds}}`;
}
