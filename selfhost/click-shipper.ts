import type { Readable, Writable } from "node:stream";
import { CLICK_LINE_PREFIX } from "@shared/click-line";
import { Counter, Gauge, Registry } from "@shared/metrics/registry";
import { bearer } from "./internal-auth";

/**
 * Reads an edge replica's stdout, ships its click lines (StdoutClickSink) to the queue
 * broker with `deliver` and passes every other line on to `passthrough` (the log).
 * `deliver` is the broker's `appendJson` in the runner's process, or `postToBroker(url)`
 * where the broker runs elsewhere (Compose).
 *
 * Group commit: the first click goes out at once, clicks read meanwhile go together when
 * that post returns, at most `maxBatch` per post. While the broker is down clicks are kept
 * in memory and retried with backoff; past `maxPendingBytes` new ones are dropped and
 * counted, so a long outage costs clicks, never redirects. Clicks held here die with this
 * process: a kill -9 of workerd loses none, a kill of the process running the shipper
 * loses what it holds.
 *
 * @example
 *   const shipper = shipClicks({ input: child.stdout, passthrough: log, deliver: broker.appendJson });
 *   if (!(await shipper.drained(5000))) shipper.stop(); // after the replica exits
 */
export type ClickShipper = ClickShipperStats & {
  /**
   * Resolves true once the input has ended and every click read is shipped, false if
   * `timeoutMs` passed first (the shipper keeps trying until `stop()`).
   */
  drained(timeoutMs?: number): Promise<boolean>;
  /** Gives up: clicks not shipped yet are counted as dropped and logged. */
  stop(): void;
};

export type ClickShipperStats = {
  /** Clicks read and not yet stored by the broker. */
  readonly pending: number;
  readonly shipped: number;
  /** Clicks lost: over the memory cap, lines that were not JSON (a replica killed mid-line), or given up at stop. */
  readonly dropped: number;
};

/** 64 MB of click lines (about 250,000 typical clicks) held per replica while the broker is away. */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;

export function shipClicks(opts: {
  input: Readable;
  passthrough: Writable;
  /** Stores the JSON bodies or throws; throws RefusedBatch when retrying cannot help. */
  deliver: (bodies: string[]) => Promise<void>;
  maxBatch?: number;
  maxPendingBytes?: number;
  /** Where the shipper reports trouble (default: passthrough). */
  log?: (line: string) => void;
}): ClickShipper {
  const maxBatch = opts.maxBatch ?? 100;
  const maxPendingBytes = opts.maxPendingBytes ?? MAX_PENDING_BYTES;
  const log = opts.log ?? ((line: string) => opts.passthrough.write(`${line}\n`));
  const queue: string[] = [];
  let pendingBytes = 0;
  let inFlight: string[] = [];
  let shipped = 0;
  let dropped = 0;
  let ended = false;
  let sending = false;
  let stopped = false;
  let wakeRetry = () => {};
  const idle = new Set<() => void>();

  let rest = "";
  opts.input.setEncoding("utf8");
  opts.input.on("data", (chunk: string) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() as string;
    for (const line of lines) take(line);
    if (queue.length > 0) void pump();
  });
  // A broken pipe ends the input like an exit does; the error must not take the process down.
  opts.input.on("error", (err) => log(`click shipper: reading the replica's stdout failed: ${err.message}`));
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
    } else if (stopped || pendingBytes + body.length > maxPendingBytes) {
      if (dropped++ % 1000 === 0)
        log(`click shipper: ${queue.length} clicks pending, dropping (${dropped} so far)`);
    } else {
      queue.push(body);
      pendingBytes += body.length;
    }
  }

  async function pump(): Promise<void> {
    if (sending) return;
    sending = true;
    let failures = 0;
    while (queue.length > 0 && !stopped) {
      inFlight = queue.splice(0, maxBatch);
      const outcome = await deliver(inFlight);
      const batch = inFlight;
      inFlight = [];
      if (outcome !== "failed") {
        if (outcome === "stored") shipped += batch.length;
        for (const body of batch) pendingBytes -= body.length;
        failures = 0;
        continue;
      }
      queue.unshift(...batch);
      if (failures++ % 20 === 0) log(`click shipper: broker unavailable, ${queue.length} clicks waiting`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(2000, 100 * 2 ** Math.min(failures, 5)));
        wakeRetry = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    // Stopped during a failed attempt: that batch came back to the queue and is lost too.
    dropped += queue.length;
    queue.length = 0;
    pendingBytes = 0;
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
      return queue.length + inFlight.length;
    },
    get shipped() {
      return shipped;
    },
    get dropped() {
      return dropped;
    },
    drained(timeoutMs = 30_000) {
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => finish(false), timeoutMs);
        const done = () => finish(true);
        function finish(complete: boolean) {
          clearTimeout(timer);
          idle.delete(done);
          resolve(complete);
        }
        idle.add(done);
        settle();
      });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      const lost = queue.length + inFlight.length;
      if (lost > 0) log(`click shipper: stopped with ${lost} clicks not shipped; they are lost`);
      // The batch in flight is counted when its attempt ends (pump).
      dropped += queue.length;
      queue.length = 0;
      wakeRetry();
    },
  };
}

/** The broker answered that this batch can never be stored (400). */
export class RefusedBatch extends Error {}

/** A `deliver` for shipClicks that posts to a broker's `POST /batch` over HTTP, with the broker's token. */
export function postToBroker(brokerUrl: string, token: string): (bodies: string[]) => Promise<void> {
  return async (bodies) => {
    const messages = bodies.map((body) => ({
      body: Buffer.from(body).toString("base64"),
      contentType: "json",
    }));
    const res = await fetch(`${brokerUrl}/batch`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: bearer(token) },
      body: JSON.stringify({ messages }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status === 400) throw new RefusedBatch(text.slice(0, 200));
    if (!res.ok) throw new Error(`broker answered ${res.status}`);
  };
}

/**
 * Prometheus text for the shippers of one or more replicas. The process that runs the
 * shippers serves it (the runner, or each Compose edge container), since workerd's own
 * /metrics cannot see them. The counters live in the shipper, so a fresh registry
 * renders their current values at each scrape.
 */
export function shipperMetrics(replicas: Array<{ replica: string; stats: ClickShipperStats }>): string {
  const registry = new Registry();
  const labels = ["replica"];
  const pending = registry.register(
    new Gauge("edge_click_shipper_pending", "Clicks read from the replica and not yet stored.", labels),
  );
  const shipped = registry.register(
    new Counter("edge_click_shipper_shipped_total", "Clicks stored in the broker.", labels),
  );
  const dropped = registry.register(
    new Counter("edge_click_shipper_dropped_total", "Clicks lost by the shipper.", labels),
  );
  for (const { replica, stats } of replicas) {
    pending.set(stats.pending, replica);
    shipped.labels(replica).inc(stats.shipped);
    dropped.labels(replica).inc(stats.dropped);
  }
  return registry.render();
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
