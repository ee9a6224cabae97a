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

  const acked: string[] = [];
  const retried: Array<{ id: string; delaySeconds: number }> = [];
  const messages = batch.messages.map((m) => ({
    id: String(m.id),
    body: m.body,
    attempts: Number(m.attempts) || 1,
    timestamp: new Date(m.timestamp),
    ack: () => acked.push(String(m.id)),
    retry: (opts?: { delaySeconds?: number }) =>
      retried.push({ id: String(m.id), delaySeconds: opts?.delaySeconds ?? 0 }),
  }));
  const outcome = await handleClickBatch({ messages }, openDb, counters);
  console.log(JSON.stringify({ queue, ...outcome }));
  return Response.json({ acked, retried });
}
