import { CLICK_LINE_PREFIX } from "@shared/click-line";
import type { ClickEvent } from "@shared/events";
import type { WritingClickSink } from "@shared/ports";

/**
 * Self-host ClickSink: one line on stdout per click, shipped to the broker in batches by
 * the process that runs workerd (selfhost/click-shipper.ts). In workerd a subrequest per
 * click cost three quarters of a redirect, and no request may send another's click; a
 * console.log is a synchronous write to a pipe, done before the redirect is answered,
 * so a click survives even a kill -9 of the replica (docs/decisions.md).
 */
export class StdoutClickSink implements WritingClickSink {
  /** Writes the line now: the redirect calls it before it answers, with no `waitUntil` (answer.ts). */
  write(event: ClickEvent): void {
    console.log(CLICK_LINE_PREFIX + JSON.stringify(event));
  }
}
