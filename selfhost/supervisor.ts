/**
 * Restarts the runner's child processes when they die on their own (a crash, an OOM
 * kill, `kill -9`), as Compose's `restart: unless-stopped` does for containers. A stop
 * the runner asks for (Ctrl-C, a rolling restart, a test stopping Redis) is not a crash.
 * Restarts wait 0.5 s, doubling up to 30 s while a process keeps dying, back to 0.5 s
 * once it has stayed up for a minute; each is logged and counted in
 * `selfhost_process_restarts_total{process}` (alert: SelfhostProcessCrashLooping).
 *
 * @example
 *   const supervisor = new Supervisor();
 *   supervisor.watch("edge-1", replica);          // replica: { start(), onCrash(listener) }
 *   serveMetrics(() => supervisor.metrics());
 *   await supervisor.close();                      // before stopping the processes
 */
import { Counter, Registry } from "@shared/metrics/registry";

/** What the supervisor needs of a process: a way to start it again, and word when it dies unasked. */
export type Restartable = {
  start(): Promise<void>;
  /** Calls `listener` each time the process exits without a `stop()`. */
  onCrash(listener: (reason: string) => void): void;
};

export type BackoffPolicy = { initialMs: number; maxMs: number; stableMs: number };
const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, stableMs: 60_000 };

/**
 * The wait before each restart: doubles per crash, capped, and starts over when the
 * last run lasted `stableMs` (a process that crashes once a day restarts at once).
 */
export class RestartBackoff {
  private nextMs: number;
  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {
    this.nextMs = policy.initialMs;
  }

  /** The delay for a crash after a run of `uptimeMs`. */
  delayAfter(uptimeMs: number): number {
    if (uptimeMs >= this.policy.stableMs) this.nextMs = this.policy.initialMs;
    const delay = this.nextMs;
    this.nextMs = Math.min(this.nextMs * 2, this.policy.maxMs);
    return delay;
  }
}

export class Supervisor {
  private readonly registry = new Registry();
  private readonly restarts = this.registry.register(
    new Counter("selfhost_process_restarts_total", "Restarts of a crashed runner process.", ["process"]),
  );
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private closed = false;

  constructor(
    private readonly policy: BackoffPolicy = DEFAULT_BACKOFF,
    private readonly log: (line: string) => void = (line) => console.error(line),
  ) {}

  /** Restarts `process` whenever it crashes, until `close()`. */
  watch(name: string, process: Restartable): void {
    const backoff = new RestartBackoff(this.policy);
    const counter = this.restarts.labels(name);
    counter.inc(0); // the series exists from the start, so increase() sees the first restart
    let upSince = Date.now();
    const restartLater = (reason: string) => {
      if (this.closed) return;
      const delay = backoff.delayAfter(Date.now() - upSince);
      this.log(`${name} ${reason}; restarting in ${delay} ms`);
      const timer = setTimeout(async () => {
        this.timers.delete(timer);
        if (this.closed) return;
        counter.inc();
        upSince = Date.now();
        try {
          await process.start();
          this.log(`${name} restarted`);
        } catch (err) {
          restartLater(`failed to start (${(err as Error).message.split("\n")[0]})`);
        }
      }, delay);
      this.timers.add(timer);
    };
    process.onCrash(restartLater);
  }

  /** `selfhost_process_restarts_total` in the Prometheus text format. */
  metrics(): string {
    return this.registry.render();
  }

  /** Stops restarting: call before stopping the processes, so none comes back during shutdown. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
