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
 * Group commit: the first click waits `lingerMs` for others, then they go out together, and
 * clicks read meanwhile go together when that post returns, at most `maxBatch` per post (the
 * broker stores each post as one stream entry). While the broker is down clicks are kept
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
  /** Clicks lost: over the memory cap, a last line cut short (a replica killed mid-line), or given up at stop. */
  readonly dropped: number;
};

/** 64 MB of click lines (about 250,000 typical clicks) held per replica while the broker is away. */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;

export type ShipClicksOptions = {
  input: Readable;
  passthrough: Writable;
  /** Stores the JSON bodies or throws; throws RefusedBatch when retrying cannot help. */
  deliver: (bodies: string[]) => Promise<void>;
  maxBatch?: number;
  /**
   * How long the first click read while idle waits for others to join its batch (default 50 ms):
   * the broker stores a batch as one stream entry, so its cost is per batch, not per click.
   */
  lingerMs?: number;
  maxPendingBytes?: number;
  /** How long the input is left unread after each read (default 10 ms; a child's pipe only, see readInBursts). */
  readPauseMs?: number;
  /** Where the shipper reports trouble (default: passthrough). */
  log?: (line: string) => void;
};

export function shipClicks(opts: ShipClicksOptions): ClickShipper {
  const shipper = new LineShipper(opts);
  let rest = "";
  const pauseReading = readInBursts(opts.input, opts.readPauseMs ?? 10);
  opts.input.setEncoding("utf8");
  opts.input.on("data", (chunk: string) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() as string;
    shipper.read(lines);
    pauseReading();
  });
  // A broken pipe ends the input like an exit does; the error must not take the process down.
  opts.input.on("error", (err) =>
    shipper.log(`click shipper: reading the replica's stdout failed: ${err.message}`),
  );
  // A replica killed mid-write leaves a line without its newline: the only line that can be cut.
  opts.input.once("close", () => shipper.end(rest ? [rest] : []));
  return shipper;
}

type PipeHandle = { readStop(): number; readStart(): number };

/**
 * Returns a function that leaves `input` unread for `ms`, if it is a pipe (a child's stdout).
 * A replica writes each click as a line of its own, so reading them as they come woke this
 * process for every two or three clicks, and each wake-up cost more than the clicks it read
 * (docs/benchmarks.md, issue 19). The replica's FIFO (services/click-pipe.ts) holds 64 KiB, about
 * 200 click lines; 10 ms of one replica's fastest rate (about 12,000 redirects/s) is 120, so its
 * writes wait only when this process is late by several more milliseconds.
 * Node has no public call for this: pause() keeps reading up to the stream's high-water mark,
 * so this stops the handle itself, as net.Socket's own backpressure does.
 */
function readInBursts(input: Readable, ms: number): () => void {
  const handle = (input as Readable & { _handle?: Partial<PipeHandle> | null })._handle;
  if (ms <= 0 || typeof handle?.readStop !== "function" || typeof handle.readStart !== "function")
    return () => {};
  const pipe = handle as PipeHandle;
  let waiting = false;
  return () => {
    if (waiting) return;
    waiting = true;
    pipe.readStop();
    setTimeout(() => {
      waiting = false;
      // Closed meanwhile (the replica exited and its end was read): nothing to start again.
      const current = (input as Readable & { _handle?: unknown })._handle;
      if (!input.destroyed && current === pipe) pipe.readStart();
    }, ms);
  };
}

/** The shipper's state: click lines queued, the batch in flight, and the counters. */
class LineShipper implements ClickShipper {
  readonly log: (line: string) => void;
  private readonly maxBatch: number;
  private readonly lingerMs: number;
  private readonly maxPendingBytes: number;
  private readonly queue: string[] = [];
  private pendingBytes = 0;
  private inFlight: string[] = [];
  private shippedCount = 0;
  private droppedCount = 0;
  private ended = false;
  private sending = false;
  private stopped = false;
  private wakeRetry = () => {};
  private readonly idle = new Set<() => void>();

  constructor(private readonly opts: ShipClicksOptions) {
    this.maxBatch = opts.maxBatch ?? 100;
    this.lingerMs = opts.lingerMs ?? 50;
    this.maxPendingBytes = opts.maxPendingBytes ?? MAX_PENDING_BYTES;
    this.log = opts.log ?? ((line: string) => opts.passthrough.write(`${line}\n`));
  }

  get pending(): number {
    return this.queue.length + this.inFlight.length;
  }

  get shipped(): number {
    return this.shippedCount;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  /** Whole lines read from the replica. */
  read(lines: string[]): void {
    for (const line of lines) this.take(line, true);
    if (this.queue.length > 0) void this.pump();
  }

  /** The input ended, with what followed its last newline. */
  end(lines: string[]): void {
    for (const line of lines) this.take(line, false);
    this.ended = true;
    if (this.queue.length > 0) void this.pump();
    else this.settle();
  }

  drained(timeoutMs = 30_000): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), timeoutMs);
      const done = () => finish(true);
      const finish = (complete: boolean) => {
        clearTimeout(timer);
        this.idle.delete(done);
        resolve(complete);
      };
      this.idle.add(done);
      this.settle();
    });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const lost = this.queue.length + this.inFlight.length;
    if (lost > 0) this.log(`click shipper: stopped with ${lost} clicks not shipped; they are lost`);
    // The batch in flight is counted when its attempt ends (pump).
    this.droppedCount += this.queue.length;
    this.queue.length = 0;
    this.wakeRetry();
  }

  /**
   * A line ended by its newline is whole: the replica wrote it with one write (a console.log of
   * JSON.stringify's output), so only a last piece without one can have been cut, and only it is
   * parsed to check it. A whole line must still look like an object (`{…}`, a check that costs nothing):
   * the broker passes bodies on unparsed (queue-broker/delivery.ts), and one that is not JSON would
   * fail its whole delivery.
   */
  private take(line: string, whole: boolean): void {
    if (!line.startsWith(CLICK_LINE_PREFIX)) {
      this.opts.passthrough.write(`${line}\n`);
      return;
    }
    const body = line.slice(CLICK_LINE_PREFIX.length);
    if (whole ? !looksLikeObject(body) : !isJson(body)) {
      this.droppedCount++;
      this.log(`click shipper: dropped a click line that is not JSON (${body.length} bytes)`);
    } else if (this.stopped || this.pendingBytes + body.length > this.maxPendingBytes) {
      if (this.droppedCount++ % 1000 === 0)
        this.log(
          `click shipper: ${this.queue.length} clicks pending, dropping (${this.droppedCount} so far)`,
        );
    } else {
      this.queue.push(body);
      this.pendingBytes += body.length;
    }
  }

  /** Group commit: one post at a time, each taking every click queued meanwhile (up to maxBatch) or in its linger. */
  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    let failures = 0;
    while (this.queue.length > 0 && !this.stopped) {
      if (this.lingerMs > 0 && this.queue.length < this.maxBatch && !this.ended)
        await this.retryPause(this.lingerMs);
      this.inFlight = this.queue.splice(0, this.maxBatch);
      const outcome = await this.deliver(this.inFlight);
      const batch = this.inFlight;
      this.inFlight = [];
      if (outcome !== "failed") {
        if (outcome === "stored") this.shippedCount += batch.length;
        for (const body of batch) this.pendingBytes -= body.length;
        failures = 0;
        continue;
      }
      this.queue.unshift(...batch);
      if (failures++ % 20 === 0)
        this.log(`click shipper: broker unavailable, ${this.queue.length} clicks waiting`);
      await this.retryPause(Math.min(2000, 100 * 2 ** Math.min(failures, 5)));
    }
    // Stopped during a failed attempt: that batch came back to the queue and is lost too.
    this.droppedCount += this.queue.length;
    this.queue.length = 0;
    this.pendingBytes = 0;
    this.sending = false;
    this.settle();
  }

  /** A pause that stop() cuts short. */
  private retryPause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeRetry = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async deliver(batch: string[]): Promise<"stored" | "refused" | "failed"> {
    try {
      await this.opts.deliver(batch);
      return "stored";
    } catch (err) {
      if (!(err instanceof RefusedBatch)) return "failed";
      // Every line is whole JSON, so this should not happen; retrying the same
      // batch forever would stop every click behind it.
      this.droppedCount += batch.length;
      this.log(`click shipper: the broker refused a batch of ${batch.length} (${err.message}), dropped`);
      return "refused";
    }
  }

  private settle(): void {
    if (!this.ended || this.sending || this.queue.length > 0) return;
    for (const resolve of this.idle) resolve();
    this.idle.clear();
  }
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

function looksLikeObject(body: string): boolean {
  return body.charCodeAt(0) === 0x7b && body.charCodeAt(body.length - 1) === 0x7d;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
