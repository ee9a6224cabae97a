import { type BatchOutcome, counterFailure, recordBatch, writeDuration } from "./metrics";
import { reduceBatch } from "./reduce";
import { type Queryable, writeClicks } from "./writer";

/** Adds clicks to the Redis counters, by link id (see clickCounterKey). */
export type ClickCounters = { add(byLink: Map<number, number>): Promise<void> };

/**
 * Counts newly stored clicks in Redis after the commit, so counters follow Postgres.
 * A failure here loses nothing that matters: the scheduled reconciliation raises
 * counters that fell behind.
 */
async function addToCounters(counters: ClickCounters, byLink: Map<number, number>): Promise<void> {
  if (byLink.size === 0) return;
  try {
    await counters.add(byLink);
  } catch (err) {
    counterFailure.inc();
    console.warn("click counters not updated; reconciliation will repair them", err);
  }
}

/** Seconds before a failed batch is delivered again: 5, 10, 20, … capped at 5 minutes. */
export const retryDelaySeconds = (attempts: number): number =>
  Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));

/**
 * The queue consumer's batch step: reduce (pure), write once, then acknowledge.
 * Malformed messages are acknowledged at once so they never block the queue; when
 * the database write fails, every valid message is retried with backoff, and the
 * queue moves it to the dead-letter queue after its last retry.
 */
export async function handleClickBatch(
  batch: Pick<MessageBatch<unknown>, "messages">,
  openDb: () => { db: Queryable; close(): Promise<void> },
  counters?: ClickCounters,
): Promise<BatchOutcome> {
  const reduction = reduceBatch(batch.messages);
  const malformedIds = new Set(reduction.malformed.map((m) => m.id));
  const valid = batch.messages.filter((m) => !malformedIds.has(m.id));
  for (const m of batch.messages) if (malformedIds.has(m.id)) m.ack();
  for (const bad of reduction.malformed)
    console.warn("malformed click event acknowledged", bad.id, bad.reason);

  const outcome: BatchOutcome = {
    received: batch.messages.length,
    inserted: 0,
    duplicates: reduction.duplicatesInBatch,
    malformed: reduction.malformed.length,
    retried: false,
  };
  if (reduction.rows.length === 0) {
    for (const m of valid) m.ack();
    recordBatch(outcome);
    return outcome;
  }

  const handle = openDb();
  const started = performance.now();
  try {
    const { inserted, uncountedByLink } = await writeClicks(handle.db, reduction.rows);
    writeDuration.observe((performance.now() - started) / 1000);
    outcome.inserted = inserted;
    outcome.duplicates += reduction.rows.length - inserted;
    if (counters) await addToCounters(counters, uncountedByLink);
    for (const m of valid) m.ack();
  } catch (err) {
    console.error("click batch not written; retrying", err);
    outcome.retried = true;
    for (const m of valid) m.retry({ delaySeconds: retryDelaySeconds(m.attempts) });
  } finally {
    await handle.close().catch(() => {});
  }
  recordBatch(outcome);
  return outcome;
}
