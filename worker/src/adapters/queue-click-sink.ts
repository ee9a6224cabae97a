import type { ClickEvent } from "@shared/events";
import type { QueueingClickSink } from "@shared/ports";

/** ClickSink over a Queue producer binding (Cloudflare Queues, or the self-host broker). */
export class QueueClickSink implements QueueingClickSink {
  constructor(private readonly queue: Queue<ClickEvent>) {}

  async send(event: ClickEvent): Promise<void> {
    await this.queue.send(event, { contentType: "json" });
  }
}
