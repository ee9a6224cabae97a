import type { ClickEvent } from "@shared/events";
import type { ClickSink } from "@shared/ports";

/** Cloudflare Queues accept at most 100 messages per sendBatch. */
const MAX_BATCH = 100;
/** How often a caller whose event waits behind a send in flight looks again. */
const POLL_MS = 1;
/** A send in flight longer than this is taken for lost (its request was cancelled). */
const STUCK_MS = 10_000;
/** A caller gives up on its event after this; the failure is counted like any other. */
const GIVE_UP_MS = 15_000;

type Entry = { event: ClickEvent; state: "waiting" | "sending" | "sent" | Error };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * ClickSink over a Queue producer binding (Cloudflare Queues, or the self-host broker),
 * sending by group commit: a click that finds no send in flight goes at once, alone;
 * clicks that arrive while one is in flight wait for it, and the first of them to look
 * again sends all that gathered in one `sendBatch`. No batching timer: a quiet isolate
 * sends each click as before, a busy one one subrequest per batch instead of per click.
 *
 * Why the waiting callers poll instead of awaiting a promise the sender resolves: workerd
 * cancels a request whose `waitUntil` can only be woken by another request's I/O (its
 * continuations are dropped with a "different request context" warning, and the click
 * with them). A caller's own timer keeps its request alive, and every send runs in the
 * request of a caller whose click it carries; only plain state is shared.
 *
 * @example const sink = new QueueClickSink(env.CLICKS); ctx.waitUntil(sink.send(event));
 */
export class QueueClickSink implements ClickSink {
  private pending: Entry[] = [];
  /** When the send in flight started; 0 when none is. */
  private sendingSince = 0;

  constructor(
    private readonly queue: Queue<ClickEvent>,
    private readonly onBatch?: (size: number) => void,
  ) {}

  async send(event: ClickEvent): Promise<void> {
    const mine: Entry = { event, state: "waiting" };
    this.pending.push(mine);
    const giveUpAt = Date.now() + GIVE_UP_MS;
    for (;;) {
      if (mine.state === "sent") return;
      if (mine.state instanceof Error) throw mine.state;
      if (mine.state === "waiting" && this.idle()) await this.sendPending();
      else if (Date.now() > giveUpAt) throw new Error("click event not sent in time");
      else await sleep(POLL_MS);
    }
  }

  private idle(): boolean {
    return this.sendingSince === 0 || Date.now() - this.sendingSince > STUCK_MS;
  }

  private async sendPending(): Promise<void> {
    const batch = this.pending.splice(0, MAX_BATCH);
    for (const entry of batch) entry.state = "sending";
    this.sendingSince = Date.now();
    try {
      if (batch.length === 1) await this.queue.send(batch[0]?.event as ClickEvent, { contentType: "json" });
      else await this.queue.sendBatch(batch.map((e) => ({ body: e.event, contentType: "json" as const })));
      for (const entry of batch) entry.state = "sent";
      this.onBatch?.(batch.length);
    } catch (err) {
      const failure = err instanceof Error ? err : new Error(String(err));
      for (const entry of batch) entry.state = failure;
    } finally {
      this.sendingSince = 0;
    }
  }
}
