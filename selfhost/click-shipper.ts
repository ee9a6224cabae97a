import type { Readable, Writable } from "node:stream";
import { CLICK_LINE_PREFIX } from "@shared/click-line";

/**
 * Reads an edge replica's stdout, ships its click lines (StdoutClickSink) to the queue
 * broker with `deliver` and passes every other line on to `passthrough` (the log).
 * `deliver` is the broker's `appendJson` in the runner's process, or `postToBroker(url)`
 * where the broker runs elsewhere (Compose).
 *
 * Group commit: the first click goes out at once, clicks read meanwhile go together when
 * that post returns, at most `maxBatch` per post. While the broker is down clicks are kept
 * and retried with backoff; past `maxPending` new ones are dropped and counted, so a long
 * outage costs clicks, never redirects (a full pipe would block the replica's writes).
 *
 * @example
 *   const shipper = shipClicks({ input: child.stdout, passthrough: log, deliver: broker.appendJson });
 *   await shipper.drained(); // after the replica exits: every line read and shipped
 */
export type ClickShipper = {
  /** Clicks read and not yet stored by the broker. */
  readonly pending: number;
  readonly shipped: number;
  /** Clicks lost: over `maxPending`, or lines that were not valid JSON (a replica killed mid-line). */
  readonly dropped: number;
  /** Resolves once the input has ended and every click read is shipped (or `timeoutMs` passed). */
  drained(timeoutMs?: number): Promise<void>;
};

export function shipClicks(opts: {
  input: Readable;
  passthrough: Writable;
  /** Stores the JSON bodies or throws; throws RefusedBatch when retrying cannot help. */
  deliver: (bodies: string[]) => Promise<void>;
  maxBatch?: number;
  maxPending?: number;
  /** Where the shipper reports trouble (default: passthrough). */
  log?: (line: string) => void;
}): ClickShipper {
  const maxBatch = opts.maxBatch ?? 100;
  const maxPending = opts.maxPending ?? 200_000;
  const log = opts.log ?? ((line: string) => opts.passthrough.write(`${line}\n`));
  const queue: string[] = [];
  let inFlight = 0;
  let shipped = 0;
  let dropped = 0;
  let ended = false;
  let sending = false;
  const idle = new Set<() => void>();

  let rest = "";
  opts.input.setEncoding("utf8");
  opts.input.on("data", (chunk: string) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() as string;
    for (const line of lines) take(line);
    if (queue.length > 0) void pump();
  });
  opts.input.once("close", () => {
    // A replica killed mid-write leaves a line without its newline.
    if (rest) take(rest);
    rest = "";
    ended = true;
    if (queue.length > 0) void pump();
    else settle();
  });

  function take(line: string): void {
    if (!line.startsWith(CLICK_LINE_PREFIX)) {
      opts.passthrough.write(`${line}\n`);
      return;
    }
    const body = line.slice(CLICK_LINE_PREFIX.length);
    if (!isJson(body)) {
      dropped++;
      log(`click shipper: dropped a click line that is not JSON (${body.length} bytes)`);
    } else if (queue.length + inFlight >= maxPending) {
      if (dropped++ % 1000 === 0)
        log(`click shipper: ${maxPending} clicks pending, dropping (${dropped} so far)`);
    } else {
      queue.push(body);
    }
  }

  async function pump(): Promise<void> {
    if (sending) return;
    sending = true;
    let failures = 0;
    while (queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      inFlight = batch.length;
      const outcome = await deliver(batch);
      inFlight = 0;
      if (outcome !== "failed") {
        if (outcome === "stored") shipped += batch.length;
        failures = 0;
        continue;
      }
      queue.unshift(...batch);
      if (failures++ % 20 === 0) log(`click shipper: broker unavailable, ${queue.length} clicks waiting`);
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(failures, 5))));
    }
    sending = false;
    settle();
  }

  async function deliver(batch: string[]): Promise<"stored" | "refused" | "failed"> {
    try {
      await opts.deliver(batch);
      return "stored";
    } catch (err) {
      if (!(err instanceof RefusedBatch)) return "failed";
      // Every line was checked to be JSON, so this should not happen; retrying the same
      // batch forever would stop every click behind it.
      dropped += batch.length;
      log(`click shipper: the broker refused a batch of ${batch.length} (${err.message}), dropped`);
      return "refused";
    }
  }

  function settle(): void {
    if (!ended || sending || queue.length > 0) return;
    for (const resolve of idle) resolve();
    idle.clear();
  }

  return {
    get pending() {
      return queue.length + inFlight;
    },
    get shipped() {
      return shipped;
    },
    get dropped() {
      return dropped;
    },
    drained(timeoutMs = 30_000) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(finish, timeoutMs);
        function finish() {
          clearTimeout(timer);
          idle.delete(finish);
          resolve();
        }
        idle.add(finish);
        settle();
      });
    },
  };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The broker answered that this batch can never be stored (400). */
export class RefusedBatch extends Error {}

/** A `deliver` for shipClicks that posts to a broker's `POST /batch` over HTTP. */
export function postToBroker(brokerUrl: string): (bodies: string[]) => Promise<void> {
  return async (bodies) => {
    const messages = bodies.map((body) => ({
      body: Buffer.from(body).toString("base64"),
      contentType: "json",
    }));
    const res = await fetch(`${brokerUrl}/batch`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ messages }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status === 400) throw new RefusedBatch(text.slice(0, 200));
    if (!res.ok) throw new Error(`broker answered ${res.status}`);
  };
}
