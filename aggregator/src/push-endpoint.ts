import { type ClickCounters, handleClickBatch } from "./handle-batch";
import { backlog, lag } from "./metrics";
import type { Queryable } from "./writer";

/** A batch as the self-host broker pushes it. */
type PushedBatch = {
  messages: Array<{ id: string; body: unknown; attempts: number; timestamp: number }>;
  /** Broker state, for the backlog and lag gauges. */
  backlog?: Record<string, number>;
  lagSeconds?: number;
};

type Answer = { acked: string[]; retried: Array<{ id: string; delaySeconds: number }> };

/**
 * A pushed message as a queue Message, recording the consumer's decision in the answer.
 * Methods on a class, not two closures per message: a bundle built with esbuild's keepNames
 * names every closure as it is made (2% of the aggregator's CPU, docs/benchmarks.md).
 */
class PushedMessage implements Message<unknown> {
  constructor(
    readonly id: string,
    readonly body: unknown,
    readonly attempts: number,
    private readonly sentAt: number,
    private readonly answer: Answer,
  ) {}
  get timestamp(): Date {
    return new Date(this.sentAt);
  }
  ack(): void {
    this.answer.acked.push(this.id);
  }
  retry(opts?: QueueRetryOptions): void {
    this.answer.retried.push({ id: this.id, delaySeconds: opts?.delaySeconds ?? 0 });
  }
}

/**
 * Self-host adapter: the Redis Streams broker POSTs a batch here and gets back which
 * messages to acknowledge and which to retry — the same decisions a Cloudflare Queue
 * takes from `ack()`/`retry()`, made by the same `handleClickBatch`.
 */
export async function handlePushedBatch(
  request: Request,
  queue: string,
  openDb: () => { db: Queryable; close(): Promise<void> },
  counters: ClickCounters,
): Promise<Response> {
  let batch: PushedBatch;
  try {
    batch = (await request.json()) as PushedBatch;
    if (!Array.isArray(batch.messages)) throw new Error("messages must be a list");
  } catch (err) {
    return Response.json({ error: `bad batch: ${(err as Error).message}` }, { status: 400 });
  }
  for (const [name, size] of Object.entries(batch.backlog ?? {})) backlog.set(size, name);
  if (typeof batch.lagSeconds === "number") lag.set(batch.lagSeconds);

  const answer: Answer = { acked: [], retried: [] };
  const messages = batch.messages.map(
    (m) => new PushedMessage(String(m.id), m.body, Number(m.attempts) || 1, m.timestamp, answer),
  );
  const outcome = await handleClickBatch({ messages }, openDb, counters);
  console.log(JSON.stringify({ queue, ...outcome }));
  return Response.json(answer);
}
