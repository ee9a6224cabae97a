import type { ClickEvent } from "@shared/events";
import type { ClickSink } from "@shared/ports";

/** Cloudflare Queues accept at most 100 messages per sendBatch. */
const MAX_BATCH = 100;
/** A sender hands over after this long, so no request's waitUntil runs on for long. */
const LEAD_MS = 1_000;
/** How often a waiting caller looks whether its click has been sent. */
const POLL_MS = 5;
/** A send in flight longer than this is taken for lost (say its request was cancelled). */
const STUCK_MS = 10_000;
/** A caller gives up on its click after this; the failure is counted like any other. */
const GIVE_UP_MS = 15_000;

type Entry = { event: ClickEvent; state: "waiting" | "sending" | "sent" | Error };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * ClickSink over a Queue producer binding (Cloudflare Queues, or the self-host broker),
 * sending by group commit: a click that finds no send in flight is sent at once by its
 * own request, which then goes on sending, one `sendBatch` at a time, whatever clicks
 * gathered meanwhile (for at most a second, then another request takes over). No
 * batching timer: a quiet isolate sends each click alone as before, a busy one makes one
 * subrequest per batch instead of one per click.
 *
 * The other callers only watch their click's state, each on its own timer. Waking them
 * with a promise resolved by the sending request does not work in workerd: a `waitUntil`
 * that only another request can wake is cancelled (the click dropped with it), and a
 * continuation run from another request's context may not do I/O. Only plain state is
 * shared here; every subrequest is made by a request that is alive and sending.
 *
 * @example const sink = new QueueClickSink(env.CLICKS); ctx.waitUntil(sink.send(event));
 */
export class QueueClickSink implements ClickSink {
  private pending: Entry[] = [];
  /** When the sender started its current send; null when no request is sending. */
  private sendingSince: number | null = null;

  constructor(
    private readonly queue: Queue<ClickEvent>,
    private readonly onBatch?: (size: number) => void,
  ) {}

  async send(event: ClickEvent): Promise<void> {
    const mine: Entry = { event, state: "waiting" };
    this.pending.push(mine);
    const giveUpAt = Date.now() + GIVE_UP_MS;
    for (;;) {
      if (mine.state === "waiting" && this.noSender()) await this.lead();
      if (mine.state === "sent") return;
      if (mine.state instanceof Error) throw mine.state;
      if (Date.now() > giveUpAt) throw new Error("click event not sent in time");
      await sleep(POLL_MS);
    }
  }

  private noSender(): boolean {
    return this.sendingSince === null || Date.now() - this.sendingSince > STUCK_MS;
  }

  /** Sends batches until nothing waits or this request has sent for LEAD_MS. */
  private async lead(): Promise<void> {
    const started = Date.now();
    try {
      while (this.pending.length > 0 && Date.now() - started < LEAD_MS) {
        this.sendingSince = Date.now();
        await this.sendBatch(this.pending.splice(0, MAX_BATCH));
      }
    } finally {
      this.sendingSince = null;
    }
  }

  private async sendBatch(batch: Entry[]): Promise<void> {
    for (const entry of batch) entry.state = "sending";
    try {
      if (batch.length === 1) await this.queue.send(batch[0]?.event as ClickEvent, { contentType: "json" });
      else await this.queue.sendBatch(batch.map((e) => ({ body: e.event, contentType: "json" as const })));
      for (const entry of batch) entry.state = "sent";
      this.onBatch?.(batch.length);
    } catch (err) {
      const failure = err instanceof Error ? err : new Error(String(err));
      for (const entry of batch) entry.state = failure;
    }
  }
}
